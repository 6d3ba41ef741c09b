"""The checks file as typed, validated, immutable values.

The loader (`uptimeguard.config.loader`) builds these from YAML and reports every problem with
`FILE:LINE:COL`; everything downstream (monitor, sla, incidents, paging, web) reads only these.
Local times (maintenance windows, rota start, overrides) are naive `datetime`/`time` values in
the time zone named beside them; nothing here is converted to UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

Weekday = int  # Monday == 0 ... Sunday == 6, as datetime.weekday()

OUTCOMES: tuple[str, ...] = (
    "up",
    "slow",
    "http_4xx",
    "http_5xx",
    "content",
    "timeout",
    "refused",
    "reset",
    "dns",
    "tls",
)
DOWN_OUTCOMES: frozenset[str] = frozenset({"timeout", "refused", "reset", "dns", "tls"})
# Causes a plan may map to a severity. `down` covers every DOWN_OUTCOMES outcome.
CAUSES: tuple[str, ...] = ("down", "http_5xx", "http_4xx", "content", "slow", "cert_expiry")
HOLIDAY_REGIONS: tuple[str, ...] = ("england-and-wales", "scotland", "northern-ireland")
ROLES: tuple[str, ...] = ("support_manager", "quality_manager", "service_director")
CHANNELS: tuple[str, ...] = ("sms", "voice")
# When a severity may be worked (`worked:`), relative to its plan's calendar; see
# `uptimeguard.sla.coverage` for the exact definition of each.
WORK_PERIODS: tuple[str, ...] = ("office", "evenings", "weekends", "bank_holidays")


def cause_of(outcome: str) -> str | None:
    """The incident cause a probe outcome stands for; None for a good probe (`up`)."""
    if outcome == "up":
        return None
    if outcome in DOWN_OUTCOMES:
        return "down"
    return outcome


@dataclass(frozen=True, slots=True)
class Target:
    """An SLA target as written: `15m`, `8h`, `1d`, `10d`.

    On a business clock `m`/`h` are business minutes/hours and `d` is working days (the same
    local time on the Nth following working day). On a 24x7 clock every unit is wall time and
    `d` is 24 hours.
    """

    amount: int
    unit: Literal["s", "m", "h", "d"]

    def as_timedelta(self) -> timedelta:
        """The target as elapsed time, reading `d` as 24 hours (right for 24x7 clocks only)."""
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[self.unit]
        return timedelta(seconds=self.amount * seconds)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True, slots=True)
class Defaults:
    interval: timedelta = timedelta(minutes=5)
    timeout: timedelta = timedelta(seconds=10)
    confirm: int = 2
    recheck: timedelta = timedelta(seconds=30)
    recover: int = 2
    # Locations that must see a failure before an incident opens (several nodes).
    agree: int = 1


@dataclass(frozen=True, slots=True)
class Calendar:
    """Business hours in one IANA time zone.

    `hours[weekday]` holds that day's opening intervals as (open, close) local times, sorted
    and not overlapping; `close` may be `time(0, 0)`, meaning midnight at the end of the day.
    A day missing from `hours` is closed. `holidays` names a UK region whose bank holidays are
    closed; `closed` adds one-off closed dates.
    """

    id: str
    timezone: str
    hours: dict[Weekday, tuple[tuple[time, time], ...]]
    holidays: str | None = None
    closed: frozenset[date] = frozenset()


# The calendar every plan may name as a clock: all hours, every day.
CALENDAR_24X7 = "24x7"


@dataclass(frozen=True, slots=True)
class Severity:
    """One severity of a plan. When it is worked: `out_of_hours: true` is always; otherwise
    the `worked` periods (WORK_PERIODS; office hours alone when empty), plus the hours of the
    calendar `worked_calendar` names when set."""

    name: str
    response: Target
    resolution: Target
    # "business" (the plan's calendar), "24x7", or "worked" (the hours the severity is worked)
    clock: str = "business"
    out_of_hours: bool = False
    worked: tuple[str, ...] = ()
    worked_calendar: str | None = None

    @property
    def periods(self) -> frozenset[str]:
        """The WORK_PERIODS in which this severity is worked."""
        if self.out_of_hours:
            return frozenset(WORK_PERIODS)
        return frozenset(self.worked or ("office",))


@dataclass(frozen=True, slots=True)
class SlaEscalationStep:
    """Notify `notify` (a role) when `percent` of the `target` has elapsed.

    `notify` is resolved like `EscalationStep.notify`. `severities` limits the step to those
    severities of the plan; empty means every severity.
    """

    percent: float
    target: Literal["response", "resolution"]
    notify: str
    severities: tuple[str, ...] = ()

    def applies_to(self, severity: str) -> bool:
        return not self.severities or severity in self.severities


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    calendar: str
    severities: tuple[Severity, ...]  # most urgent first
    causes: dict[str, str]  # cause -> severity name
    sla_escalation: tuple[SlaEscalationStep, ...] = ()
    phone: str | None = None  # the severity a phone message opens; None: the most urgent
    callback: str | None = None  # ... a callback request opens; None: `query`, else the least
    # A page's call counts as answered only when a key is pressed; False: a person answering
    # (never a machine) is enough.
    call_needs_keypress: bool = True

    @property
    def phone_severity(self) -> str:
        """The severity of an incident opened by a message on the phone line."""
        return self.phone or self.severities[0].name

    @property
    def callback_severity(self) -> str:
        """The severity of a "callback requested" incident."""
        if self.callback:
            return self.callback
        names = [s.name for s in self.severities]
        return "query" if "query" in names else names[-1]

    def severity(self, name: str) -> Severity:
        for severity in self.severities:
            if severity.name == name:
                return severity
        raise KeyError(name)

    def rank(self, name: str) -> int:
        """0 for the most urgent severity; a lower rank is worse."""
        return [s.name for s in self.severities].index(name)


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    phone: str
    role: str | None = None
    max_pages_per_hour: int = 20


@dataclass(frozen=True, slots=True)
class Rotation:
    members: tuple[str, ...]
    start: datetime  # naive, local to Oncall.timezone
    every: timedelta


@dataclass(frozen=True, slots=True)
class Override:
    person: str
    start: datetime  # naive, local to Oncall.timezone (`from` in the file)
    end: datetime  # naive, local (`to` in the file)


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """One rung of the paging ladder.

    `notify` is `oncall`, a role (`support_manager`, ...) or a person id. `then_wait` is None on
    the last step.
    """

    notify: str
    via: tuple[str, ...]
    then_wait: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Oncall:
    timezone: str
    rotation: Rotation | None
    overrides: tuple[Override, ...] = ()
    desk_phone: str | None = None
    escalation: tuple[EscalationStep, ...] = ()
    repeat: int = 0
    desk_email: str | None = None  # mailed phone messages and callback requests
    # An acknowledgement made out of hours that is neither followed by the resolution nor
    # made again within this long expires: the incident is triggered again. None: never.
    ack_timeout: timedelta | None = None


@dataclass(frozen=True, slots=True)
class RecurringMaintenance:
    """Every week on `weekday` at `start` (local to the plan's calendar) for `duration`."""

    weekday: Weekday
    start: time
    duration: timedelta


@dataclass(frozen=True, slots=True)
class Announcement:
    """A one-off window shown on the status page (and told to subscribers) from `before`
    ahead of its start."""

    title: str
    before: timedelta


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    start: datetime  # naive, local to the plan's calendar
    end: datetime
    announce: Announcement | None = None


Maintenance = RecurringMaintenance | MaintenanceWindow


@dataclass(frozen=True, slots=True)
class JsonExpect:
    """A value in a JSON body: `path` as written (`$.status`, `$.items[0].id`), `steps` the
    keys and indexes it names. `equals` is compared with the value as text (a JSON string
    as itself, other values as JSON: `3`, `true`, `null`); None: the path must exist."""

    path: str
    steps: tuple[str | int, ...]
    equals: str | None = None


@dataclass(frozen=True, slots=True)
class Expect:
    # Accepted status codes as inclusive ranges; the default accepts 200-399.
    status: tuple[tuple[int, int], ...] = ((200, 399),)
    body_contains: str | None = None
    max_response: timedelta | None = None
    body_not_contains: str | None = None
    body_matches: re.Pattern[str] | None = None
    json: tuple[JsonExpect, ...] = ()
    # tcp:// checks: the first line the server sends must contain this.
    line: str | None = None

    def status_ok(self, code: int) -> bool:
        return any(low <= code <= high for low, high in self.status)

    @property
    def reads_body(self) -> bool:
        """Whether any expectation looks into the body."""
        return bool(self.body_contains or self.body_not_contains or self.body_matches or self.json)


@dataclass(frozen=True, slots=True)
class BasicAuth:
    username: str
    password: str = field(repr=False)  # from the environment; never shown


@dataclass(frozen=True, slots=True)
class DnsCheck:
    """A `dns://name` check: a `record` of the name must resolve, to each of `values` if any.

    `server` (`host` or `host:port`) asks that name server instead of the configured ones."""

    record: str = "A"
    values: tuple[str, ...] = ()
    server: str | None = None


@dataclass(frozen=True, slots=True)
class CertExpiry:
    """Warn before the TLS certificate expires: `warn` thresholds, longest first."""

    warn: tuple[timedelta, ...]


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    url: str
    method: str = "GET"
    expect: Expect = field(default_factory=Expect)
    maintenance: tuple[Maintenance, ...] = ()
    # Per-site overrides of `defaults`; None means use the default.
    interval: timedelta | None = None
    timeout: timedelta | None = None
    confirm: int | None = None
    recheck: timedelta | None = None
    recover: int | None = None
    # When true, the status page shows the host only, never the path.
    private: bool = False
    name: str | None = None  # display name on the status page; the id when unset
    # What the probe sends and how (http checks): see README "Probes".
    follow_redirects: bool = True
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # may hold secrets
    body: str | None = field(default=None, repr=False)
    basic_auth: BasicAuth | None = None
    # tcp:// checks: a line sent once connected.
    send: str | None = None
    # dns:// checks: which record, and what it must hold.
    dns: DnsCheck | None = None
    cert_expiry: CertExpiry | None = None
    agree: int | None = None  # per-site override of `defaults.agree`

    @property
    def kind(self) -> Literal["http", "tcp", "dns"]:
        """The kind of check, by the URL's scheme."""
        scheme = self.url.split(":", 1)[0].lower()
        if scheme == "tcp":
            return "tcp"
        if scheme == "dns":
            return "dns"
        return "http"


@dataclass(frozen=True, slots=True)
class Webhook:
    """A receiver of the page's public updates: a JSON POST signed with `secret`."""

    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class StatusPage:
    slug: str
    title: str | None = None
    webhooks: tuple[Webhook, ...] = ()
    timezone: str | None = None  # the page's days and times; None: the plan calendar's zone


@dataclass(frozen=True, slots=True)
class Contact:
    """Someone at a customer: known by their number on the phone line, surveyed by email."""

    name: str
    phone: str | None = None  # E.164
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Cover:
    """Ad-hoc cover: incidents opened from `start` until `end` (naive, local to the customer's
    plan calendar; see `uptimeguard.config.cover`) are worked under plan `plan`. `label` is the
    period as written, e.g. `2026-12-20..2027-01-04`."""

    start: datetime
    end: datetime  # exclusive: a `to` date covers that whole day
    plan: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    plan: str
    sites: tuple[Site, ...]
    status_page: StatusPage | None = None
    contacts: tuple[Contact, ...] = ()
    cover: tuple[Cover, ...] = ()


@dataclass(frozen=True, slots=True)
class SiteRef:
    """A site with what the monitor needs from its customer, settings resolved."""

    customer: Customer
    site: Site
    interval: timedelta
    timeout: timedelta
    confirm: int
    recheck: timedelta
    recover: int
    agree: int = 1

    @property
    def key(self) -> tuple[str, str]:
        return (self.customer.id, self.site.id)


@dataclass(frozen=True, slots=True)
class Nps:
    """Net Promoter Score surveys: after an incident a customer could see is resolved, each
    contact with an email is asked at most once per `every`."""

    enabled: bool = True
    every: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class ChecksConfig:
    path: str
    defaults: Defaults
    calendars: dict[str, Calendar]
    plans: dict[str, Plan]
    people: dict[str, Person]
    oncall: Oncall | None
    customers: tuple[Customer, ...]
    nps: Nps = field(default_factory=Nps)
    # `allow_empty: true`: the file may monitor no site, or (on a reload) stop most of the
    # running ones; without it such a file is refused (see uptimeguard.shrink).
    allow_empty: bool = False
    # Built on first use and kept (the config never changes): at 100,000 sites, building the
    # references or searching the customers on every call showed in profiles.
    _refs: tuple[SiteRef, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _by_id: dict[str, Customer] | None = field(default=None, init=False, repr=False, compare=False)

    def customer(self, customer_id: str) -> Customer:
        by_id = self._by_id
        if by_id is None:
            by_id = {}
            for customer in self.customers:
                by_id.setdefault(customer.id, customer)  # the first of a repeated id, as before
            object.__setattr__(self, "_by_id", by_id)
        return by_id[customer_id]

    def site_refs(self) -> tuple[SiteRef, ...]:
        if self._refs is not None:
            return self._refs
        d = self.defaults
        refs = tuple(
            SiteRef(
                customer=customer,
                site=site,
                interval=site.interval or d.interval,
                timeout=site.timeout or d.timeout,
                confirm=site.confirm or d.confirm,
                recheck=site.recheck or d.recheck,
                recover=site.recover or d.recover,
                agree=site.agree or d.agree,
            )
            for customer in self.customers
            for site in customer.sites
        )
        object.__setattr__(self, "_refs", refs)
        return refs

    def plan_for(self, customer_id: str) -> Plan:
        return self.plans[self.customer(customer_id).plan]

    def people_with_role(self, role: str) -> list[Person]:
        return [p for p in self.people.values() if p.role == role]
