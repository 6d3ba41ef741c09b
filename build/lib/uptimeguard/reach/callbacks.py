"""Callback requests: "Call Me Back" on the status page.

`POST /status/{slug}/callback` with `name`, `phone` and `about` (what it is about) opens an
incident "callback requested" for that customer at the plan's `callback` severity (`query` by
default), paged like its severity says: for a query, the desk hears of it in hours and it is
held over otherwise. The desk's email is sent the request too. Limited per client address and
per phone number; whatever happens, the page says no more than "we will call you back".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from uptimeguard.config.models import Customer
from uptimeguard.incidents.service import IncidentService
from uptimeguard.mail.outbox import MailOutbox
from uptimeguard.storage.models import IncidentRow
from uptimeguard.storage.repository import NewEvent
from uptimeguard.web.ratelimit import RateLimiter

log = logging.getLogger(__name__)

MAX_NAME = 100
MAX_ABOUT = 1000
_SEPARATORS = re.compile(r"[\s().\-/]", re.ASCII)
_NUMBER = re.compile(r"\+?[0-9]{6,15}", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CallbackError(ValueError):
    """A field of the form to fix (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    name: str
    phone: str  # as the desk will dial it: digits, with a leading + if one was given
    about: str


def _text(form: Mapping[str, str], field: str, limit: int, required: bool, label: str) -> str:
    value = form.get(field, "")
    if _CONTROL.search(value):
        raise CallbackError(f"{label}: remove the control characters")
    value = " ".join(value.split()) if field != "about" else value.strip()
    if required and not value:
        raise CallbackError(f"{label}: please fill it in")
    if len(value) > limit:
        raise CallbackError(f"{label}: at most {limit} characters")
    return value


def parse_request(form: Mapping[str, str]) -> CallbackRequest:
    """The form's fields, checked; CallbackError names the one to fix."""
    name = _text(form, "name", MAX_NAME, True, "name")
    raw_phone = _text(form, "phone", 40, True, "phone")
    phone = _SEPARATORS.sub("", raw_phone)
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not _NUMBER.fullmatch(phone):
        raise CallbackError("phone: use digits, e.g. +44 1453 884100 or 01453 884100")
    about = _text(form, "about", MAX_ABOUT, False, "about")
    return CallbackRequest(name, phone, about)


class Limits:
    """Per client address (`per_address` an hour) and per phone number (`per_phone` a day)."""

    def __init__(self, per_address: int, per_phone: int) -> None:
        self.address = RateLimiter(per_address, timedelta(hours=1))
        self.phone = RateLimiter(per_phone, timedelta(days=1))


class Callbacks:
    def __init__(
        self, incidents: IncidentService, mailer: MailOutbox | None, limits: Limits
    ) -> None:
        self._incidents = incidents
        self._mailer = mailer
        self.limits = limits

    async def request(
        self, customer: Customer, request: CallbackRequest, now: datetime
    ) -> IncidentRow:
        """Open the "callback requested" incident and mail the desk."""
        summary = f"{request.name} on {request.phone}"
        if request.about:
            summary += f": {request.about}"
        details = {"name": request.name, "phone": request.phone, "about": request.about}
        incident = await self._incidents.open_from_channel(
            customer.id, "callback", summary, now, by="status page", data=details
        )
        event = NewEvent(
            "callback_request",
            now,
            f"callback requested by {request.name} on {request.phone}",
            "status page",
            details,
        )
        await self._incidents.record_event(incident.id, event)
        await self._mail_desk(customer, request, incident)
        return incident

    async def _mail_desk(
        self, customer: Customer, request: CallbackRequest, incident: IncidentRow
    ) -> None:
        oncall = self._incidents.config.oncall
        to = oncall.desk_email if oncall else None
        if not to or self._mailer is None:
            return  # the desk still hears of it as of any incident (desk SMS, or held over)
        text = (
            f"{request.name} of {customer.name} asked to be called back on {request.phone}.\n"
            f"Incident {incident.id} ({incident.severity}) is open for it.\n\n"
            f"What it is about:\n{request.about or '(not said)'}\n"
        )
        await self._mailer.enqueue(
            to=to,
            subject=f"Callback requested: {request.name} ({customer.name}), incident {incident.id}",
            text=text,
            dedupe_key=f"callback:{incident.id}:desk",
        )
