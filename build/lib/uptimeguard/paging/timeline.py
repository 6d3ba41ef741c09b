"""How pages read in an incident's timeline: one entry per page outcome and status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from uptimeguard.paging.models import DESK, HELD_OVER, LADDER, RESOLVED, SLA, PageRow
from uptimeguard.storage.repository import NewEvent

PAGE = "page"  # a page sent, failed, skipped or cancelled
PAGE_STATUS = "page_status"  # what Twilio later said about it
PAGING = "paging"  # a decision: who is told, the ladder moving on or stopping

_PURPOSE = {
    LADDER: "escalation",
    DESK: "desk notice",
    HELD_OVER: "held-over notice",
    SLA: "SLA escalation",
    RESOLVED: "resolution notice",
}


def label(page: PageRow) -> str:
    """`SMS to Alice Smith (+447700900001)`."""
    kind = "SMS" if page.channel == "sms" else "Call"
    return f"{kind} to {page.name} ({page.phone})"


def data(page: PageRow, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "page_id": page.id,
        "purpose": page.purpose,
        "channel": page.channel,
        "person": page.person,
        "to": page.phone,
        "status": page.status,
        "round": page.round,
        "step": page.step,
    }
    if page.sid:
        values["sid"] = page.sid
    if page.cause:
        values["cause"] = page.cause
    values.update(extra)
    return values


def page_event(page: PageRow, at: datetime, what: str, **extra: Any) -> NewEvent:
    """`SMS to Alice Smith (+44...) sent (escalation, step 1 of 3, round 1 of 1)`."""
    where = (page.data or {}).get("where")
    purpose = _PURPOSE.get(page.purpose, page.purpose)
    context = f" ({purpose}, {where})" if where else f" ({purpose})"
    cause = f": {page.cause}" if page.cause and "cause" not in extra else ""
    return NewEvent(
        PAGE, at, f"{label(page)} {what}{cause}{context}", "paging", data(page, **extra)
    )


def status_event(page: PageRow, at: datetime, twilio_status: str) -> NewEvent:
    words = {"delivered": "delivered", "failed": "not delivered", "no_answer": "not answered"}
    what = words.get(page.status, page.status)
    if page.channel == "voice" and page.status == "delivered":
        what = "answered"
    cause = f": {page.cause}" if page.cause else ""
    return NewEvent(
        PAGE_STATUS,
        at,
        f"{label(page)} {what}{cause}",
        "twilio",
        data(page, twilio_status=twilio_status),
    )


def paging_event(at: datetime, message: str, **values: Any) -> NewEvent:
    return NewEvent(PAGING, at, message, "paging", values or None)
