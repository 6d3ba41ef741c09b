"""What every page says. Pure text: each names the customer, site, cause and incident id, and
says how to acknowledge. Of a probe's error a page carries only a short status line in our
own words (`sms.status_line`): what a monitored site sends never writes a page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from uptimeguard.paging import sms

PREFIX = "[uptimeguard]"
# SMS longer than this is split by Twilio into several billed segments; keep lists short.
MAX_LISTED = 5

_WHAT = {
    "down": "is down",
    "http_5xx": "returns server errors",
    "http_4xx": "returns client errors",
    "content": "does not show the expected content",
    "slow": "is slow",
    "manual": "has a reported problem",
    "cert_expiry": "has a TLS certificate about to expire",
    "phone": "has a phone message",
    "callback": "asked to be called back",
}
# Incidents whose summary is written by people or by a customer channel, not a probe.
_SUMMARISED = ("manual", "phone", "callback")


@dataclass(frozen=True, slots=True)
class Facts:
    """An incident as pages describe it."""

    id: int
    customer: str  # the customer's name
    site: str | None
    cause: str
    severity: str
    summary: str
    opened_at: datetime

    @property
    def what(self) -> str:
        return _WHAT.get(self.cause, self.cause.replace("_", " "))

    @property
    def detail(self) -> str:
        """The probe's own words ("connection refused", "HTTP 503"), or a manual incident's
        summary, cut short."""
        if self.cause in _SUMMARISED:
            return sms.summary_line(self.summary)
        _, sep, rest = self.summary.partition(": ")
        return sms.status_line(rest) if sep else ""

    @property
    def subject(self) -> str:
        where = f"{self.customer} site {self.site}" if self.site else self.customer
        detail = f" ({self.detail})" if self.detail else ""
        return f"{where} {self.what}{detail}"


def local(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %H:%M %Z")


def clock_time(at: datetime, timezone: str, now: datetime) -> str:
    """`at` as a time of day ("02:14 GMT"), with its date when it is not today's."""
    zone = ZoneInfo(timezone)
    there = at.astimezone(zone)
    if there.date() == now.astimezone(zone).date():
        return there.strftime("%H:%M %Z")
    return there.strftime("%a %d %b %H:%M %Z")


def ack_hint(incident_id: int) -> str:
    return f"Reply ACK {incident_id} to acknowledge."


def page_sms(facts: Facts) -> str:
    """The ladder's SMS and the desk's notice of a new incident."""
    return (
        f"{PREFIX} Incident {facts.id}: {facts.subject}. Severity {facts.severity}. "
        f"{ack_hint(facts.id)}"
    )


def upgrade_sms(facts: Facts) -> str:
    return (
        f"{PREFIX} Incident {facts.id} upgraded to {facts.severity}: {facts.subject}. "
        f"{ack_hint(facts.id)}"
    )


def voice_script(facts: Facts) -> str:
    """What a call says before asking for a key; digits are spaced so they are read one by one."""
    where = f"{facts.customer}, site {facts.site}," if facts.site else f"{facts.customer}"
    detail = f": {facts.detail}" if facts.detail else ""
    return (
        f"This is uptimeguard. Incident {facts.id}. {where} {facts.what}{detail}. "
        f"Severity {facts.severity.replace('_', ' ')}."
    )


VOICE_PROMPT = "Press 1 to acknowledge. Press any other key to hear this again."


def held_over_sms(customer: str, incidents: Sequence[Facts], timezone: str) -> str:
    """One message to the desk for a customer's incidents held over from out of hours."""
    count = len(incidents)
    lines = [
        f"#{f.id} {f.site or '-'} {f.what}"
        + (f" ({f.detail})" if f.detail else "")
        + f", {f.severity}, opened {local(f.opened_at, timezone)}"
        for f in incidents[:MAX_LISTED]
    ]
    if count > MAX_LISTED:
        lines.append(f"and {count - MAX_LISTED} more")
    noun = "incident" if count == 1 else "incidents"
    example = incidents[0].id
    return (
        f"{PREFIX} {customer}: {count} {noun} held over from out of hours: "
        + "; ".join(lines)
        + f". {ack_hint(example).replace(str(example), '<id>') if count > 1 else ack_hint(example)}"
    )


def resolved_sms(facts: Facts, by: str | None) -> str:
    who = f" by {by}" if by else ""
    where = f"{facts.customer} site {facts.site}" if facts.site else facts.customer
    cause = facts.cause.replace("_", " ") + (f": {facts.detail}" if facts.detail else "")
    return f"{PREFIX} Incident {facts.id} resolved{who}: {where} ({cause}). No action needed."


def sla_sms(facts: Facts, percent: float, target: str, due: datetime | None, timezone: str) -> str:
    due_text = f" (due {local(due, timezone)})" if due is not None else ""
    state = "not acknowledged" if target == "response" else "not resolved"
    return (
        f"{PREFIX} SLA escalation: incident {facts.id} ({facts.subject}, {facts.severity}) "
        f"has reached {percent:g}% of its {target} target{due_text} and is {state}. "
        f"{ack_hint(facts.id)}"
    )
