"""Calling status-page webhooks: a signed JSON POST to a URL the checks file configures.

Signature scheme (what a receiver checks):

- `X-Uptimeguard-Timestamp`: the Unix time (seconds) the request was signed, i.e. sent.
- `X-Uptimeguard-Signature`: `sha256=` and the lowercase hex HMAC-SHA256, keyed with the
  webhook's `secret`, of the timestamp, a full stop, and the raw request body:
  `HMAC(secret, f"{timestamp}.{body}")`.
- `X-Uptimeguard-Delivery`: the message's id, the same on every try of one message.

A receiver recomputes the HMAC over the bytes it received, compares in constant time, and
rejects a timestamp more than a few minutes from its own clock (so a captured request cannot
be replayed later) and a delivery id it has already processed (a retry after a lost answer).

Only the URL configured is ever called: redirects are not followed, and a message whose
webhook has since been removed from the checks file is skipped, never sent elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import aiohttp

from uptimeguard.mail.errors import DeliveryError
from uptimeguard.mail.models import MailRow

SIGNATURE = "X-Uptimeguard-Signature"
TIMESTAMP = "X-Uptimeguard-Timestamp"
DELIVERY = "X-Uptimeguard-Delivery"
# Answers that say "try later"; any other 4xx is the receiver refusing for good.
RETRYABLE = frozenset({408, 409, 425, 429})

SecretOf = Callable[[str, str], str | None]  # (customer, url) -> secret, None if not configured


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def delivery_id(row: MailRow) -> str:
    return hashlib.sha256(row.dedupe_key.encode()).hexdigest()[:32]


class NotConfigured(Exception):
    """The webhook is no longer in the checks file."""


class WebhookSender:
    def __init__(self, secret_of: SecretOf, timeout: float = 10.0) -> None:
        self._secret_of = secret_of
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, row: MailRow, timestamp: int) -> None:
        """POST the row's body to its URL, signed at `timestamp`; DeliveryError if not taken,
        NotConfigured if the checks file no longer has this webhook."""
        secret = self._secret_of(row.customer or "", row.recipient)
        if secret is None:
            raise NotConfigured(row.recipient)
        body = row.text_body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "uptimeguard-webhook",
            TIMESTAMP: str(timestamp),
            SIGNATURE: signature(secret, timestamp, body),
            DELIVERY: delivery_id(row),
        }
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                row.recipient, data=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            cause = str(error) or error.__class__.__name__
            raise DeliveryError(f"webhook unreachable: {cause}") from None
        if 200 <= status < 300:
            return
        permanent = 300 <= status < 500 and status not in RETRYABLE
        raise DeliveryError(f"webhook answered {status}", permanent=permanent)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
