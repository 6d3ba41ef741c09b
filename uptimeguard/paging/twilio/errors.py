"""Twilio's failures as readable causes, each knowing whether a retry can help.

A request Twilio refuses (a bad number, an opted-out recipient, wrong credentials) fails the
same way every time: permanent, the ladder moves on. Twilio being unreachable, slow, rate
limiting or failing on its side is passing: the page is retried with backoff.
"""

from __future__ import annotations

import asyncio
import os

import aiohttp
from twilio.base.exceptions import TwilioException

from uptimeguard.web.inputs import ascii_int

# Twilio error codes (https://www.twilio.com/docs/api/errors) as an operator would say them.
REST_CAUSES: dict[int, str] = {
    20003: "Twilio refused the credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
    20404: "Twilio does not know this account or resource: check TWILIO_ACCOUNT_SID",
    20429: "Twilio is rate limiting this account",
    13224: "Twilio cannot call this number (invalid or unsupported)",
    21205: "Twilio cannot use the call's URL: check PUBLIC_URL",
    21211: "invalid phone number: the 'To' number is not a valid phone number",
    21212: "invalid 'From' number: check TWILIO_FROM",
    21214: "the 'To' number cannot be reached",
    21215: "the account's geographic permissions do not allow calls to this number",
    21217: "invalid phone number: the 'To' number does not appear to be valid",
    21401: "invalid phone number: the 'To' number is not a valid phone number",
    21408: "the account may not send SMS to this region",
    21606: "TWILIO_FROM is not an SMS-capable number of this Twilio account",
    21608: "a trial Twilio account can send only to verified numbers",
    21610: "the recipient has opted out of messages (replied STOP)",
    21612: "Twilio cannot route a message between these two numbers",
    21614: "not a mobile number: the 'To' number cannot receive SMS",
}
TRANSIENT_CODES = frozenset({20429, 20500, 20503, 30001})

# Error codes in delivery status callbacks.
DELIVERY_CAUSES: dict[int, str] = {
    30003: "the handset is unreachable (switched off or out of coverage)",
    30004: "the message was blocked by the recipient or the carrier",
    30005: "unknown number, or the handset is no longer registered",
    30006: "a landline or a carrier that cannot take SMS",
    30007: "the carrier filtered the message",
    30008: "delivery failed for an unknown reason",
}
CALL_OUTCOMES = {
    "no-answer": "no answer",
    "busy": "the line was busy",
    "failed": "the call could not be placed",
    "canceled": "the call was cancelled",
}


class TransportError(Exception):
    """A page Twilio did not take. `permanent` says that retrying cannot help; `maybe_taken`
    that the request reached Twilio and no answer came back, so Twilio may have taken it and
    sending it again could page someone twice (Twilio's API has no idempotency key)."""

    def __init__(self, cause: str, permanent: bool = False, maybe_taken: bool = False) -> None:
        super().__init__(cause)
        self.cause = cause
        self.permanent = permanent
        self.maybe_taken = maybe_taken


def from_twilio(error: TwilioException) -> TransportError:
    """A `TwilioRestException` (or the newer `TwilioServiceException`) as a TransportError."""
    status = int(getattr(error, "status", 0) or 0)
    code = getattr(error, "code", None)
    code = code if isinstance(code, int) else ascii_int(code if isinstance(code, str) else None)
    transient = status >= 500 or status == 429 or code in TRANSIENT_CODES
    said = getattr(error, "detail", None) or getattr(error, "msg", None) or ""
    said = str(said).removeprefix("Unable to create record: ")
    fallback = "Twilio is failing" if transient else "Twilio refused the request"
    cause = REST_CAUSES.get(code or 0) or f"{fallback}: {said or 'no reason given'}"
    tag = f"Twilio error {code}, HTTP {status}" if code and code != status else f"HTTP {status}"
    return TransportError(f"{cause} ({tag})", permanent=not transient)


def from_network(error: BaseException, written: bool = False) -> TransportError:
    """Twilio unreachable or too slow: worth a retry, except a request that was written to
    Twilio and then timed out (`written`): it may have been taken, and must not go twice.

    A connection closed before the answer is retried: on a kept-alive connection it is
    mostly one Twilio had already closed, which never saw the request."""
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        return TransportError("Twilio did not answer in time", maybe_taken=written)
    if isinstance(error, aiohttp.ClientConnectorError):
        errno = error.os_error.errno
        reason = os.strerror(errno).lower() if errno else str(error.os_error)
        return TransportError(f"Twilio unreachable: {reason}")
    return TransportError(f"Twilio unreachable: {type(error).__name__}: {error}")


def delivery_cause(status: str, error_code: str | None) -> str:
    """Why a status callback says a page did not arrive."""
    code = ascii_int(error_code, digits=9)
    if code is not None and code in DELIVERY_CAUSES:
        return f"{DELIVERY_CAUSES[code]} (Twilio error {error_code})"
    text = CALL_OUTCOMES.get(status, f"Twilio reports '{status}'")
    return f"{text} (Twilio error {error_code})" if error_code else text
