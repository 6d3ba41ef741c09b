"""Who is calling, whether the desk is in, and what a known caller is told. Pure.

A caller is known by their number: a `contacts` phone of one customer (numbers are unique
across customers). For a known caller, "in hours" is their plan's calendar (the cover plan's
during an ad-hoc cover period). An unknown caller is put through whenever any plan's calendar
is open, since someone is at the desk then.

Out of hours a known caller hears the customer's open incidents in words the status page
would use ("we know the shop site is down since 02:14 and we are working on it"), with times
in their plan calendar's time zone; nothing internal (no severities, people, summaries).
Caller ID can be forged, so nothing is said that the customer's public page would not show,
and incidents that stay internal (phone messages, callback requests) are not mentioned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from uptimeguard.config.cover import plan_in_force
from uptimeguard.config.models import CALENDAR_24X7, ChecksConfig, Contact, Customer
from uptimeguard.sla import SlaEngine
from uptimeguard.status.updates import shown_publicly
from uptimeguard.storage.models import IncidentRow

_SAID = {
    "down": "is down",
    "http_5xx": "is returning server errors",
    "http_4xx": "is returning error pages",
    "content": "is not showing what it should",
    "slow": "is slow",
}


@dataclass(frozen=True, slots=True)
class Caller:
    phone: str
    customer: Customer | None = None  # None: not a contact of any customer
    contact: Contact | None = None

    @property
    def known(self) -> bool:
        return self.customer is not None


def identify(config: ChecksConfig, phone: str) -> Caller:
    """The contact behind `phone` (as Twilio gives `From`), or an unknown caller."""
    number = phone.strip()
    for customer in config.customers:
        for contact in customer.contacts:
            if contact.phone is not None and contact.phone == number:
                return Caller(number, customer, contact)
    return Caller(number)


def desk_in(config: ChecksConfig, engine: SlaEngine, caller: Caller, now: datetime) -> bool:
    """Whether a call now goes to the desk: the caller's plan calendar is open (any plan's,
    for an unknown caller)."""
    if caller.customer is not None:
        plan, _ = plan_in_force(config, caller.customer.id, now)
        return engine.calendar(plan.id).is_open(now)
    return any(engine.calendar(plan_id).is_open(now) for plan_id in config.plans)


def timezone_of(config: ChecksConfig, customer: Customer, now: datetime) -> str:
    plan, _ = plan_in_force(config, customer.id, now)
    for plan_id in (plan.id, customer.plan):
        calendar_id = config.plans[plan_id].calendar
        if calendar_id != CALENDAR_24X7 and calendar_id in config.calendars:
            return config.calendars[calendar_id].timezone
    return "UTC"


def _since(opened: datetime, now: datetime, zone: ZoneInfo) -> str:
    local, today = opened.astimezone(zone), now.astimezone(zone)
    clock = local.strftime("%H:%M")
    if local.date() == today.date():
        return f"since {clock}"
    return f"since {local.strftime('%A')} {local.day} {local.strftime('%B')} at {clock}"


def open_incidents_said(
    customer: Customer, incidents: Iterable[IncidentRow], now: datetime, timezone: str
) -> list[str]:
    """One sentence per open public incident of `customer`, oldest first."""
    zone = ZoneInfo(timezone)
    names = {site.id: site.name or site.id for site in customer.sites}
    said = []
    for incident in sorted(incidents, key=lambda i: (i.opened_at, i.id)):
        if incident.resolved_at is not None or not shown_publicly(incident):
            continue
        since = _since(incident.opened_at, now, zone)
        site = names.get(incident.site or "")
        if site is not None:
            what = _SAID.get(incident.cause, "has a problem")
            said.append(f"We know the {site} site {what} {since} and we are working on it.")
        else:
            said.append(f"We know of the problem reported {since} and we are working on it.")
    return said


def greeting(caller: Caller) -> str:
    if caller.contact is not None and caller.customer is not None:
        return f"Hello {caller.contact.name}, thank you for calling about {caller.customer.name}."
    return "Thank you for calling."


def out_of_hours_script(caller: Caller, said: Sequence[str]) -> str:
    """What the answerphone says before the beep."""
    parts = [greeting(caller), "Our office is closed at the moment."]
    if caller.known:
        parts.extend(said or ["We are not aware of any problem with your sites right now."])
    parts.append(
        "Please leave a message after the tone, with your name and number, and press the "
        "hash key or hang up when you have finished. It will be passed to our team at once."
    )
    return " ".join(parts)


NO_ANSWER_SCRIPT = (
    "Sorry, nobody could take your call. Please leave a message after the tone, with your "
    "name and number, and press the hash key or hang up when you have finished."
)
THANKS = "Thank you. Your message has been passed to our team. Goodbye."
NOTHING_HEARD = "We did not get a message. Goodbye."
