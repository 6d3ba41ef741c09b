"""How customers reach us, in the checks file: `customers[].contacts`, `customers[].cover`,
and the top-level `nps` section.

    contacts: [{name: Jo Bloggs, phone: "+447700900123", email: jo@acme.example}]
    cover:    [{from: 2026-12-20, to: 2027-01-04, plan: enhanced}]
    nps:      {every: 30d}            # or {enabled: false}

A contact needs a phone or an email; a phone names one contact of one customer (the phone line
knows callers by it). A cover `to` date covers that whole day; periods of one customer must not
overlap, and the plan must be another than the customer's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from yaml.nodes import Node

from uptimeguard.config import parsers as p
from uptimeguard.config._yamlnodes import Context, Section, shorten
from uptimeguard.config.durations import parse_duration
from uptimeguard.config.models import Contact, Cover, Nps, Plan

CONTACT_KEYS = ("name", "phone", "email")
COVER_KEYS = ("from", "to", "plan")
NPS_KEYS = ("enabled", "every")
MIN_NPS_EVERY = timedelta(days=1)

# Phone numbers seen so far across customers: number -> (node, customer id).
PhoneBook = dict[str, tuple[Node, str]]


def read_contacts(
    ctx: Context, node: Node | None, where: str, customer: str | None, phones: PhoneBook
) -> tuple[Contact, ...] | None:
    """The customer's contacts; None after recording a problem."""
    items = ctx.seq(node, f"contacts of {where}")
    if items is None:
        return None
    contacts: list[Contact] = []
    emails: dict[str, Node] = {}
    failed = False
    for item in items:
        s = Section(ctx, item, f"a contact of {where}", CONTACT_KEYS, required=("name",))
        name = s.value("name", p.parse_name)
        phone = s.value("phone", p.parse_phone)
        email = s.value("email", p.parse_email)
        if not (s.has("phone") or s.has("email")) and s.ok:
            ctx.add(item, f"a contact of {where} needs a phone or an email")
            failed = True
            continue
        if name is None or (s.has("phone") and phone is None) or (s.has("email") and not email):
            failed = True
            continue
        if phone is not None and not _new_phone(ctx, s, phone, customer, phones):
            failed = True
        if email is not None:
            first = emails.get(email.lower())
            if first is not None:
                line = first.start_mark.line + 1
                ctx.add(s.get("email") or item, f"duplicate contact email (first at line {line})")
                failed = True
            emails[email.lower()] = s.get("email") or item
        contacts.append(Contact(name, phone, email))
    return None if failed else tuple(contacts)


def _new_phone(
    ctx: Context, s: Section, phone: str, customer: str | None, phones: PhoneBook
) -> bool:
    at = s.get("phone") or s.node
    if phone in phones:
        first, owner = phones[phone]
        line = first.start_mark.line + 1
        whose = "this customer" if owner == customer else f"customer '{owner}'"
        ctx.add(at, f"phone {phone} is already a contact of {whose} (line {line})")
        return False
    phones[phone] = (at, customer or "?")
    return True


def read_cover(
    ctx: Context,
    node: Node | None,
    where: str,
    own_plan: str | None,
    plans: Mapping[str, Plan | None],
) -> tuple[Cover, ...] | None:
    """The customer's ad-hoc cover periods, in order; None after recording a problem."""
    items = ctx.seq(node, f"cover of {where}")
    if items is None:
        return None
    periods: list[tuple[Cover, Node]] = []
    failed = False
    for item in items:
        s = Section(ctx, item, f"cover of {where}", COVER_KEYS, required=("from", "to", "plan"))
        start = s.value("from", _moment)
        end = s.value("to", _until)
        plan = s.value("plan", p.known("plan", plans))
        if plan is not None and plan == own_plan:
            ctx.add(s.get("plan") or item, f"cover plan '{plan}' is the customer's own plan")
            plan = None
        if start is not None and end is not None and end <= start:
            ctx.add(s.get("to") or item, "a cover's 'to' must be after its 'from'")
            start = None
        if start is None or end is None or plan is None or not s.ok:
            failed = True
            continue
        label = f"{_text(s.get('from'))}..{_text(s.get('to'))}"
        cover = Cover(start, end, plan, label)
        for other, other_node in periods:
            if cover.start < other.end and other.start < cover.end:
                line = other_node.start_mark.line + 1
                ctx.add(
                    item,
                    f"cover {shorten(label)} overlaps cover {shorten(other.label)} (line {line})",
                )
                failed = True
        periods.append((cover, item))
    if failed:
        return None
    return tuple(sorted((c for c, _ in periods), key=lambda c: c.start))


def _text(node: Node | None) -> str:
    return str(node.value).strip() if node is not None else ""


def _moment(text: str) -> datetime:
    """A date (its start) or a local date and time."""
    try:
        day = p.parse_date(text)
    except ValueError:
        return _local(text)
    return datetime(day.year, day.month, day.day)


def _until(text: str) -> datetime:
    """A date (through its end: the next day's start) or a local date and time."""
    try:
        day = p.parse_date(text)
    except ValueError:
        return _local(text)
    return datetime(day.year, day.month, day.day) + timedelta(days=1)


def _local(text: str) -> datetime:
    try:
        return p.parse_local_datetime(text)
    except ValueError:
        raise ValueError(
            f"bad date '{text}': use YYYY-MM-DD (a whole day) or \"YYYY-MM-DD HH:MM\", local time"
        ) from None


def read_nps(ctx: Context, node: Node | None) -> Nps | None:
    """The `nps` section (defaults when absent); None after recording a problem."""
    if node is None:
        return Nps()
    s = Section(ctx, node, "nps", NPS_KEYS)
    enabled = s.value("enabled", p.parse_bool)
    every = s.value("every", parse_duration)
    if every is not None and every < MIN_NPS_EVERY:
        ctx.add(s.get("every") or node, "nps 'every' must be at least 1d")
        return None
    if not s.ok or (s.has("enabled") and enabled is None) or (s.has("every") and every is None):
        return None
    base = Nps()
    return Nps(base.enabled if enabled is None else enabled, every or base.every)
