"""Load the checks file (the README's "The checks file") into `ChecksConfig`, or report every
problem at once.

The file is composed into YAML nodes (never constructed into Python objects), so every problem
names `FILE:LINE:COL` of the key or value at fault. Sections are read in dependency order
(calendars and people before plans, plans before customers); a reference is checked against
every id *declared*, valid or not, so one bad calendar does not also fail each plan naming it.
Nothing but `ConfigError` escapes, whatever the text.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import time
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.nodes import Node

from uptimeguard.config import parsers as p
from uptimeguard.config._customers import AGREE, read_customers
from uptimeguard.config._expansion import check_expansion
from uptimeguard.config._oncall import notify_parser, read_oncall, read_people
from uptimeguard.config._reach import read_nps
from uptimeguard.config._size import DEFAULT_MAX_BYTES, TooLarge, read_limited
from uptimeguard.config._worked import read_worked
from uptimeguard.config._yamlnodes import (
    ConfigError,
    Context,
    Problem,
    Section,
    TooBig,
    is_null,
    peek,
    shorten,
)
from uptimeguard.config.durations import parse_duration, parse_target
from uptimeguard.config.models import (
    CALENDAR_24X7,
    Calendar,
    ChecksConfig,
    Defaults,
    Plan,
    Severity,
    SlaEscalationStep,
)

__all__ = ["DEFAULT_MAX_BYTES", "ConfigError", "Problem", "load_config", "load_config_text"]

T = TypeVar("T")

# libyaml's parser where PyYAML was built with it: about five times faster to compose, which
# is seconds at 100,000 sites; it reports the same marks and errors.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TOP_KEYS = (
    "defaults",
    "calendars",
    "plans",
    "people",
    "oncall",
    "customers",
    "nps",
    "allow_empty",
)
DEFAULT_KEYS = ("interval", "timeout", "confirm", "recheck", "recover", "agree")
CALENDAR_KEYS = ("timezone", "hours", "holidays", "closed")
PLAN_KEYS = (
    "calendar", "severities", "causes", "sla_escalation", "phone", "callback",
    "call_needs_keypress",
)  # fmt: skip
SEVERITY_KEYS = ("response", "resolution", "clock", "out_of_hours", "worked")
SLA_STEP_KEYS = ("at", "notify", "severities")

ALWAYS_OPEN = Calendar(
    id=CALENDAR_24X7,
    timezone="UTC",
    hours={day: ((time(0, 0), time(0, 0)),) for day in range(7)},
)


def load_config(
    path: str | Path,
    env: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ChecksConfig:
    """Read and validate the checks file at `path`; raises ConfigError listing every problem.

    A file over `max_bytes` is refused before it is read (composing YAML takes about 40 times
    the file's size in memory, and seconds per megabyte).
    """
    name = str(path)
    try:
        data = read_limited(Path(path), max_bytes)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError([Problem(name, 1, 1, f"cannot read file: {reason}")]) from None
    except TooLarge as error:
        raise ConfigError([Problem(name, 1, 1, str(error))]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        col = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        message = "cannot read file: it is not UTF-8 text"
        raise ConfigError([Problem(name, line, col, message)]) from None
    return load_config_text(text, name, env)


def load_config_text(
    text: str, path: str = "checks.yaml", env: Mapping[str, str] | None = None
) -> ChecksConfig:
    """Validate checks-file text; `path` only names the file in problems.

    `env` supplies `${VAR}` values (default: the process environment).
    """
    ctx = Context(str(path), os.environ if env is None else env, len(text))
    with _collector_paused():
        root = _compose(ctx, text)
        config = None
        if not ctx.problems:
            try:
                check_expansion(root)
                config = _read(ctx, root)
            except TooBig:
                message = "the file expands (through anchors) to too many entries"
                ctx.problems.append(Problem(ctx.file, 1, 1, message))
            except RecursionError:
                ctx.problems.append(Problem(ctx.file, 1, 1, "the file nests too deeply"))
        del root
    if ctx.problems or config is None:
        raise ConfigError(ctx.sorted_problems())
    return config


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file is read.

    Composing allocates millions of objects (nodes, marks) and frees none, which sets off
    full collections again and again: with them, a 40,000-site file took 20 s to read instead
    of 7 s, and each full pass held the interpreter lock for up to 2.7 s, stopping the event
    loop while the file was read in a thread. The nodes form no cycles, so nothing is missed.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compose(ctx: Context, text: str) -> Node | None:
    """The document's root node, or None (a syntax error is recorded as the only problem)."""
    try:
        return yaml.compose(text, Loader=_SAFE_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(part) for part in (error.context, error.problem) if part)
        ctx.problems.append(Problem(ctx.file, line, col, f"YAML syntax: {message}"))
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        col = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        character = error.character  # libyaml gives the code point, PyYAML the character
        if isinstance(character, int):
            character = chr(character)
        message = f"YAML syntax: character {character!r} is not allowed"
        ctx.problems.append(Problem(ctx.file, line, col, message))
    except yaml.YAMLError as error:
        ctx.problems.append(Problem(ctx.file, 1, 1, f"YAML syntax: {error}"))
    except RecursionError:
        ctx.problems.append(Problem(ctx.file, 1, 1, "the file nests too deeply"))
    return None


def _read(ctx: Context, root: Node | None) -> ChecksConfig | None:
    if root is None:  # an empty file: valid, and monitors nothing
        return ChecksConfig(ctx.file, Defaults(), {CALENDAR_24X7: ALWAYS_OPEN}, {}, {}, None, ())
    top = Section(ctx, root, "the checks file", TOP_KEYS)
    defaults = _defaults(ctx, top.get("defaults"))
    calendars = _calendars(ctx, top.get("calendars"))
    people = read_people(ctx, top.get("people"))
    rotation = peek(top.get("oncall"), "rotation")
    rota = rotation is not None and not is_null(rotation)
    plans = _plans(ctx, top.get("plans"), calendars, notify_parser(people, rota=rota))
    oncall = read_oncall(ctx, top.get("oncall"), people)
    customers = read_customers(ctx, top.get("customers"), plans, defaults)
    nps = read_nps(ctx, top.get("nps"))
    allow_empty = top.value("allow_empty", p.parse_bool)
    if ctx.problems or defaults is None or nps is None:
        return None
    return ChecksConfig(
        path=ctx.file,
        defaults=defaults,
        calendars=_valid(calendars),
        plans=_valid(plans),
        people=_valid(people),
        oncall=oncall,
        customers=tuple(customers),
        nps=nps,
        allow_empty=bool(allow_empty),
    )


def _valid(declared: Mapping[str, T | None]) -> dict[str, T]:
    return {key: value for key, value in declared.items() if value is not None}


# -- defaults ---------------------------------------------------------------------------------


def _defaults(ctx: Context, node: Node | None) -> Defaults | None:
    base = Defaults()
    if node is None:
        return base
    s = Section(ctx, node, "defaults", DEFAULT_KEYS)
    count = p.int_parser(1, 100)
    parsed: dict[str, Any] = {
        "interval": s.value("interval", parse_duration),
        "timeout": s.value("timeout", parse_duration),
        "confirm": s.value("confirm", count),
        "recheck": s.value("recheck", parse_duration),
        "recover": s.value("recover", count),
        "agree": s.value("agree", AGREE),
    }
    if any(s.has(key) and value is None for key, value in parsed.items()):
        return None
    defaults = Defaults(**{k: getattr(base, k) if v is None else v for k, v in parsed.items()})
    if defaults.timeout >= defaults.interval:
        at = s.get("timeout") or s.get("interval") or node
        ctx.add(at, p.timeout_message(defaults.timeout, defaults.interval))
    return defaults


# -- calendars --------------------------------------------------------------------------------


def _calendars(ctx: Context, node: Node | None) -> dict[str, Calendar | None]:
    result: dict[str, Calendar | None] = {}
    for key, key_node, value in ctx.entries(node, "calendars") or []:
        result[key] = _calendar(ctx, key, key_node, value)
    result.setdefault(CALENDAR_24X7, ALWAYS_OPEN)
    return result


def _calendar(ctx: Context, key: str, key_node: Node, node: Node) -> Calendar | None:
    where = f"calendar '{shorten(key)}'"
    calendar_id = ctx.key(key_node, p.parse_id)
    s = Section(ctx, node, where, CALENDAR_KEYS, required=("timezone", "hours"))
    timezone = s.value("timezone", p.parse_timezone)
    hours_node = s.get("hours")
    hours = _hours(ctx, hours_node, where) if hours_node is not None else None
    holidays = s.value("holidays", p.parse_region)
    closed_items = ctx.seq(s.get("closed"), f"'closed' in {where}")
    closed = [ctx.value(item, p.parse_date, "a closed date") for item in closed_items or []]
    if None in (calendar_id, timezone, hours, closed_items) or None in closed or not s.ok:
        return None
    assert calendar_id is not None and timezone is not None and hours is not None
    dates = frozenset(d for d in closed if d is not None)
    return Calendar(calendar_id, timezone, hours, holidays, dates)


def _hours(ctx: Context, node: Node, where: str) -> dict[int, tuple[tuple[time, time], ...]] | None:
    """`{mon-fri: "08:00-18:00", sat: ["09:00-12:00", "13:00-17:00"]}` by weekday, sorted."""
    spans: dict[int, list[tuple[int, int, str, Node]]] = {}
    failed = False
    for key, key_node, value in ctx.entries(node, f"hours of {where}") or []:
        days = ctx.key(key_node, p.parse_days)
        for item in ctx.one_or_many(value):
            opening = ctx.value(item, p.parse_opening, f"hours for '{shorten(key)}'")
            if days is None or opening is None:
                failed = True
                continue
            start, end = p.minutes(opening[0]), p.minutes(opening[1], closing=True)
            for day in days:
                spans.setdefault(day, []).append((start, end, str(item.value), item))
    for day_spans in spans.values():
        day_spans.sort(key=lambda span: span[:2])
        for earlier, later in pairwise(day_spans):
            if later[0] < earlier[1]:
                failed = True
                ctx.add(later[3], f"opening hours '{later[2]}' overlap '{earlier[2]}' in {where}")
    if failed:
        return None
    if not spans:
        ctx.add(node, f"{where} has no opening hours")
        return None
    return {
        day: tuple(_opening(start, end) for start, end, _, _ in sorted(spans[day]))
        for day in sorted(spans)
    }


def _opening(start: int, end: int) -> tuple[time, time]:
    return time(start // 60, start % 60), time((end // 60) % 24, end % 60)


# -- plans ------------------------------------------------------------------------------------


def _plans(
    ctx: Context,
    node: Node | None,
    calendars: Mapping[str, Calendar | None],
    notify: Callable[[str], str],
) -> dict[str, Plan | None]:
    result: dict[str, Plan | None] = {}
    for key, key_node, value in ctx.entries(node, "plans") or []:
        result[key] = _plan(ctx, key, key_node, value, calendars, notify)
    return result


def _plan(
    ctx: Context,
    key: str,
    key_node: Node,
    node: Node,
    calendars: Mapping[str, Calendar | None],
    notify: Callable[[str], str],
) -> Plan | None:
    where = f"plan '{shorten(key)}'"
    plan_id = ctx.key(key_node, p.parse_id)
    s = Section(ctx, node, where, PLAN_KEYS, required=("calendar", "severities"))
    calendar = s.value("calendar", p.known("calendar", calendars))
    severities = _severities(ctx, s.get("severities"), where, calendar, calendars)
    # Causes may name any severity declared, valid or not, so one bad severity is one problem.
    names = dict.fromkeys(severities or {})
    causes = _causes(ctx, s.get("causes"), where, names)
    steps = _sla_escalation(ctx, s.get("sla_escalation"), where, names, notify)
    # The severities a phone message and a callback request open (defaults: see Plan).
    known = p.known("severity", names, f" in {where}")
    phone, callback = s.value("phone", known), s.value("callback", known)
    keypress = s.value("call_needs_keypress", p.parse_bool)
    if s.has("call_needs_keypress") and keypress is None:
        return None
    if plan_id is None or calendar is None or causes is None or steps is None:
        return None
    if not severities or None in severities.values():
        return None
    if (s.has("phone") and phone is None) or (s.has("callback") and callback is None):
        return None
    valid = tuple(severity for severity in severities.values() if severity is not None)
    return Plan(
        plan_id, calendar, valid, causes, tuple(steps), phone, callback, keypress is not False
    )


def _severities(
    ctx: Context,
    node: Node | None,
    where: str,
    calendar: str | None,
    calendars: Mapping[str, Calendar | None],
) -> dict[str, Severity | None] | None:
    if node is None:
        return None
    entries = ctx.entries(node, f"severities of {where}")
    if entries is None:
        return None
    if not entries:
        ctx.add(node, f"{where} needs at least one severity")
        return None
    result: dict[str, Severity | None] = {}
    for key, key_node, value in entries:
        name = ctx.key(key_node, p.parse_id)
        s = Section(
            ctx,
            value,
            f"severity '{shorten(key)}' of {where}",
            SEVERITY_KEYS,
            required=("response", "resolution"),
        )
        response = s.value("response", parse_target)
        resolution = s.value("resolution", parse_target)
        clock = s.value("clock", p.parse_clock)
        out_of_hours = s.value("out_of_hours", p.parse_bool)
        worked = read_worked(ctx, s, calendar, calendars)
        if name and response and resolution and worked is not None:
            result[key] = Severity(
                name,
                response,
                resolution,
                clock or "business",
                bool(out_of_hours),
                worked.periods,
                worked.calendar,
            )
        else:
            result[key] = None
    return result


def _causes(
    ctx: Context, node: Node | None, where: str, severities: Mapping[str, None]
) -> dict[str, str] | None:
    result: dict[str, str] = {}
    failed = False
    for _, key_node, value in ctx.entries(node, f"causes of {where}") or []:
        cause = ctx.key(key_node, p.parse_cause)
        severity = ctx.value(value, p.known("severity", severities, f" in {where}"), "a severity")
        if cause is None or severity is None:
            failed = True
        else:
            result[cause] = severity
    return None if failed else result


def _sla_escalation(
    ctx: Context,
    node: Node | None,
    where: str,
    severities: Mapping[str, None],
    notify: Callable[[str], str],
) -> list[SlaEscalationStep] | None:
    items = ctx.seq(node, f"sla_escalation of {where}")
    if items is None:
        return None
    steps: list[SlaEscalationStep] = []
    failed = False
    known = p.known("severity", severities, f" in {where}")
    for item in items:
        s = Section(
            ctx, item, f"sla_escalation of {where}", SLA_STEP_KEYS, required=("at", "notify")
        )
        at = s.value("at", p.parse_at)
        who = s.value("notify", notify)
        only_node = s.get("severities")
        only = (
            [ctx.value(n, known, "a severity") for n in ctx.one_or_many(only_node)]
            if only_node is not None
            else []
        )
        if at is None or who is None or None in only:
            failed = True
        else:
            steps.append(SlaEscalationStep(at[0], at[1], who, tuple(o for o in only if o)))
    return None if failed else steps
