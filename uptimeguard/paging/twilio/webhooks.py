"""What Twilio posts to us: signature checks, and the meaning of replies and statuses.

Twilio signs each webhook with the account's auth token over the URL *it* called (ours as
PUBLIC_URL says, plus the path and query) and the form fields. Anything that does not verify
is refused before it is read any further.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"

_ACK = re.compile(r"\s*ack\s*#?\s*([0-9]{1,18})?\s*[.!]*\s*", re.IGNORECASE)

# Twilio's terminal statuses -> ours. Anything else (queued, sending, sent, ringing,
# in-progress, ...) is a step on the way and changes nothing.
TERMINAL = {
    "delivered": "delivered",
    "read": "delivered",
    "completed": "delivered",  # a call that was answered
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
    "no-answer": "no_answer",
    "busy": "no_answer",
}


def webhook_url(public_url: str, path_qs: str) -> str:
    """The URL Twilio called: PUBLIC_URL (without a trailing slash) plus path and query."""
    return public_url.rstrip("/") + path_qs


def verified(
    auth_token: str | None,
    public_url: str | None,
    path_qs: str,
    params: Mapping[str, str],
    signature: str | None,
) -> bool:
    """True only when `signature` is Twilio's for this URL and these form fields."""
    if not auth_token or not public_url or not signature:
        return False
    url = webhook_url(public_url, path_qs)
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def parse_ack(body: str) -> tuple[bool, int | None]:
    """(`ACK`?, the incident id if given): `ACK 12`, `ack #12`, `Ack` -> (True, 12|None)."""
    match = _ACK.fullmatch(body or "")
    if match is None:
        return False, None
    number = match.group(1)
    return True, int(number) if number else None


def answered_by_machine(params: Mapping[str, str]) -> bool:
    """Whether answering-machine detection says a machine took the call: `AnsweredBy`
    `machine_start`, `machine_end_beep`, `machine_end_silence`, `machine_end_other` or `fax`
    (not `human` or `unknown`)."""
    answered = params.get("AnsweredBy", "").strip().lower()
    return answered.startswith("machine") or answered == "fax"


def delivery_status(params: Mapping[str, str]) -> tuple[str | None, str]:
    """(our final status or None, Twilio's own word) from a status callback."""
    raw = (
        params.get("MessageStatus") or params.get("SmsStatus") or params.get("CallStatus") or ""
    ).lower()
    return TERMINAL.get(raw), raw
