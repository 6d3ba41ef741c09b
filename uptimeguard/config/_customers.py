"""The `customers` section of the checks file: customers, their status pages and sites."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from yaml.nodes import Node, ScalarNode

from uptimeguard.config import parsers as p
from uptimeguard.config._checks import (
    EXPECT_CHECK_KEYS,
    SITE_CHECK_KEYS,
    read_expect_checks,
    read_site_checks,
    refuse_impossible,
)
from uptimeguard.config._reach import PhoneBook, read_contacts, read_cover
from uptimeguard.config._status_page import read_announcement, read_webhooks
from uptimeguard.config._yamlnodes import Context, Section, peek, shorten
from uptimeguard.config.durations import parse_duration
from uptimeguard.config.models import (
    Customer,
    Defaults,
    Expect,
    Maintenance,
    MaintenanceWindow,
    Plan,
    RecurringMaintenance,
    Site,
    StatusPage,
)

CUSTOMER_KEYS = ("id", "name", "plan", "status_page", "sites", "contacts", "cover")
STATUS_PAGE_KEYS = ("slug", "title", "webhooks", "timezone")
SITE_KEYS = (
    "id", "name", "url", "method", "expect", "maintenance", "private",
    "interval", "timeout", "confirm", "recheck", "recover", "agree", *SITE_CHECK_KEYS,
)  # fmt: skip
SITE_OPTIONAL = (
    "name", "method", "private", "interval", "timeout", "confirm", "recheck", "recover",
)  # fmt: skip
EXPECT_KEYS = ("status", "body_contains", "max_response", *EXPECT_CHECK_KEYS)
MAINTENANCE_KEYS = ("every", "duration", "from", "to", "announce")
MAX_MAINTENANCE = parse_duration("1w")
# `agree: N`: locations that must see a failure before an incident opens (1 to 20).
AGREE = p.int_parser(1, 20)


def read_customers(
    ctx: Context,
    node: Node | None,
    plans: Mapping[str, Plan | None],
    defaults: Defaults | None,
) -> list[Customer]:
    """Every valid customer; problems (including duplicate ids and slugs) go to `ctx`."""
    items = ctx.seq(node, "customers") or []
    ids: dict[str, Node] = {}
    slugs: dict[str, Node] = {}
    phones: PhoneBook = {}
    customers = []
    for index, item in enumerate(items):
        customer = _customer(ctx, item, index, plans, defaults, ids, slugs, phones)
        if customer is not None:
            customers.append(customer)
    return customers


def _peek_id(node: Node) -> str | None:
    """The raw `id` of a mapping, to name it in messages before it is read."""
    value = peek(node, "id")
    return str(value.value) if isinstance(value, ScalarNode) else None


def _unique(ctx: Context, seen: dict[str, Node], key: str | None, node: Node, what: str) -> bool:
    if key is None:
        return False
    if key in seen:
        first = seen[key].start_mark.line + 1
        ctx.add(node, f"duplicate {what} '{shorten(key)}' (first at line {first})")
        return False
    seen[key] = node
    return True


def _customer(
    ctx: Context,
    node: Node,
    index: int,
    plans: Mapping[str, Plan | None],
    defaults: Defaults | None,
    ids: dict[str, Node],
    slugs: dict[str, Node],
    phones: PhoneBook,
) -> Customer | None:
    peeked = _peek_id(node)
    where = f"customer '{shorten(peeked)}'" if peeked else f"customer {index + 1}"
    s = Section(ctx, node, where, CUSTOMER_KEYS, required=("id", "name", "plan"))
    customer_id = s.value("id", p.parse_id)
    unique = _unique(ctx, ids, customer_id, s.get("id") or node, "customer id")
    name = s.value("name", p.parse_name)
    plan = s.value("plan", p.known("plan", plans))
    page = _status_page(ctx, s.get("status_page"), where, slugs)
    sites = _sites(ctx, s.get("sites"), where, defaults)
    contacts = read_contacts(ctx, s.get("contacts"), where, customer_id, phones)
    cover = read_cover(ctx, s.get("cover"), where, plan, plans)
    if not (unique and name and plan) or sites is None or page is False:
        return None
    if contacts is None or cover is None:
        return None
    assert customer_id is not None
    page_or_none = page if page is not True else None
    return Customer(customer_id, name, plan, tuple(sites), page_or_none, contacts, cover)


def _status_page(
    ctx: Context, node: Node | None, where: str, slugs: dict[str, Node]
) -> StatusPage | bool | None:
    """The page, None when there is none, False when it is invalid."""
    if node is None:
        return None
    s = Section(ctx, node, f"status_page of {where}", STATUS_PAGE_KEYS, required=("slug",))
    slug = s.value("slug", p.parse_slug)
    title = s.value("title", p.parse_name)
    webhooks = read_webhooks(ctx, s.get("webhooks"), f"status_page of {where}")
    timezone = s.value("timezone", p.parse_timezone)
    if not _unique(ctx, slugs, slug, s.get("slug") or node, "status page slug"):
        return False
    if (s.has("title") and title is None) or (s.has("timezone") and timezone is None):
        return False
    if webhooks is None:
        return False
    assert slug is not None
    return StatusPage(slug, title, webhooks, timezone)


def _sites(
    ctx: Context, node: Node | None, where: str, defaults: Defaults | None
) -> list[Site] | None:
    items = ctx.seq(node, f"sites of {where}")
    if items is None:
        return None
    ids: dict[str, Node] = {}
    sites = []
    failed = False
    for index, item in enumerate(items):
        peeked = _peek_id(item)
        site_where = (
            f"site '{shorten(peeked)}' of {where}" if peeked else f"site {index + 1} of {where}"
        )
        site = _site(ctx, item, site_where, defaults, ids)
        failed = failed or site is None
        if site is not None:
            sites.append(site)
    return None if failed else sites


def _site(
    ctx: Context, node: Node, where: str, defaults: Defaults | None, ids: dict[str, Node]
) -> Site | None:
    s = Section(ctx, node, where, SITE_KEYS, required=("id", "url"))
    site_id = s.value("id", p.parse_id)
    unique = _unique(ctx, ids, site_id, s.get("id") or node, "site id")
    url = s.value("url", p.parse_check_url)
    count = p.int_parser(1, 100)
    name = s.value("name", p.parse_name)
    method = s.value("method", p.parse_method)
    private = s.value("private", p.parse_bool)
    interval = s.value("interval", parse_duration)
    timeout = s.value("timeout", parse_duration)
    confirm = s.value("confirm", count)
    recheck = s.value("recheck", parse_duration)
    recover = s.value("recover", count)
    expect = _expect(ctx, s.get("expect"), where)
    checks = read_site_checks(ctx, s)
    maintenance = _maintenance(ctx, s.get("maintenance"), where)
    agree = s.value("agree", AGREE)
    parsed = (name, method, private, interval, timeout, confirm, recheck, recover)
    failed = any(s.has(k) and v is None for k, v in zip(SITE_OPTIONAL, parsed, strict=True))
    failed = failed or (s.has("agree") and agree is None)
    if not failed and defaults is not None:
        failed = not _timeout_fits(
            ctx, s, timeout or defaults.timeout, interval or defaults.interval
        )
    possible = (
        url is None
        or expect is None
        or refuse_impossible(
            ctx, s, _expect_section(ctx, s.get("expect"), where), url, method or "GET", expect
        )
    )
    if failed or not unique or url is None or expect is None or maintenance is None:
        return None
    if checks is None or not possible:
        return None
    assert site_id is not None
    return Site(
        id=site_id,
        url=url,
        method=method or "GET",
        expect=expect,
        maintenance=tuple(maintenance),
        interval=interval,
        timeout=timeout,
        confirm=confirm,
        recheck=recheck,
        recover=recover,
        private=bool(private),
        name=name,
        agree=agree,
        **checks,
    )


def _timeout_fits(ctx: Context, s: Section, timeout: timedelta, interval: timedelta) -> bool:
    if timeout < interval:
        return True
    at = s.get("timeout") or s.get("interval") or s.node
    ctx.add(at, f"{p.timeout_message(timeout, interval)} in {s.what}")
    return False


# Shared by every site without `expect` (frozen): one object, not one per site.
_DEFAULT_EXPECT = Expect()


def _expect(ctx: Context, node: Node | None, where: str) -> Expect | None:
    if node is None:
        return _DEFAULT_EXPECT
    s = Section(ctx, node, f"expect of {where}", EXPECT_KEYS)
    status_node = s.get("status")
    ranges = []
    if status_node is not None:
        ranges = [ctx.value(n, p.parse_status, "a status") for n in ctx.one_or_many(status_node)]
        if not ranges:
            ctx.add(status_node, "'status' needs at least one code or range, e.g. 200-399")
            return None
    body = s.value("body_contains", p.parse_name)
    max_response = s.value("max_response", parse_duration)
    extra = read_expect_checks(ctx, s)
    if (
        extra is None
        or not s.ok
        or None in ranges
        or any(
            s.has(key) and value is None
            for key, value in (("body_contains", body), ("max_response", max_response))
        )
    ):
        return None
    status = tuple(r for r in ranges if r) or Expect().status
    return Expect(status, body, max_response, **extra)


def _expect_section(ctx: Context, node: Node | None, where: str) -> Section | None:
    """The expect mapping read again, quietly, to point at its keys (it was valid)."""
    if node is None:
        return None
    return Section(Context(ctx.file, ctx.env), node, f"expect of {where}", EXPECT_KEYS)


def _maintenance(ctx: Context, node: Node | None, where: str) -> list[Maintenance] | None:
    items = ctx.seq(node, f"maintenance of {where}")
    if items is None:
        return None
    windows = [_window(ctx, item, f"maintenance of {where}") for item in items]
    if None in windows:
        return None
    return [w for w in windows if w is not None]


def _window(ctx: Context, node: Node, where: str) -> Maintenance | None:
    s = Section(ctx, node, where, MAINTENANCE_KEYS)
    if not s.ok:
        return None
    weekly = s.has("every") or s.has("duration")
    dated = s.has("from") or s.has("to")
    if weekly == dated:
        ctx.add(
            node,
            'a maintenance entry is either {every: "sun 02:00", duration: 2h} '
            'or {from: "2026-12-30T22:00", to: "2026-12-31T02:00"}',
        )
        return None
    if weekly:
        if s.has("announce"):
            ctx.add(
                s.get("announce") or node,
                "'announce' is for one-off windows ({from, to}); weekly windows are always "
                "listed on the status page",
            )
            return None
        return _recurring(ctx, s, node)
    start = s.value("from", p.parse_local_datetime)
    end = s.value("to", p.parse_local_datetime)
    for key in ("from", "to"):
        if not s.has(key):
            ctx.add(node, f"{where} is missing '{key}'")
            return None
    if start is None or end is None:
        return None
    if end <= start:
        ctx.add(s.get("to") or node, "a maintenance window's 'to' must be after its 'from'")
        return None
    announce_node = s.get("announce")
    if announce_node is None:
        return MaintenanceWindow(start, end)
    announce = read_announcement(ctx, announce_node, where)
    return None if announce is None else MaintenanceWindow(start, end, announce)


def _recurring(ctx: Context, s: Section, node: Node) -> RecurringMaintenance | None:
    for key in ("every", "duration"):
        if not s.has(key):
            ctx.add(node, f"{s.what} is missing '{key}'")
            return None
    every = s.value("every", p.parse_weekly)
    duration = s.value("duration", parse_duration)
    if duration is not None and duration > MAX_MAINTENANCE:
        ctx.add(s.get("duration") or node, "a weekly maintenance window lasts at most 1w")
        return None
    if every is None or duration is None:
        return None
    return RecurringMaintenance(every[0], every[1], duration)
