"""Parsers for the checks file's scalar values: text in, value out, ValueError with a hint.

Each message quotes the text as written and says what to write instead. All patterns are
ASCII-only: `\\d` would also accept digits from other scripts.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Literal
from urllib.parse import urlsplit

from uptimeguard.config.durations import format_duration
from uptimeguard.config.models import CAUSES, CHANNELS, HOLIDAY_REGIONS, ROLES, Weekday

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_ID_LENGTH = 64

_ID = re.compile(r"[a-z0-9][a-z0-9_-]*", re.ASCII)
_HHMM = re.compile(r"([0-9]{2}):([0-9]{2})", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATETIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2})?)", re.ASCII
)
_PHONE = re.compile(r"\+[0-9]{8,15}", re.ASCII)
# Enough to catch typos (a missing @ or domain, spaces); the mail server has the last word.
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", re.ASCII)
MAX_EMAIL_LENGTH = 254
_AT = re.compile(r"([0-9]{1,4}(?:\.[0-9]{1,3})?) ?% ?(response|resolution)", re.ASCII)
_STATUS = re.compile(r"([0-9]{3})(?: ?- ?([0-9]{3}))?", re.ASCII)
_INT = re.compile(r"[0-9]{1,9}", re.ASCII)

DAYS_HINT = "use mon..sun, a range such as mon-fri, or a list such as sat,sun"
WEEKLY_HINT = 'use a day and a time, e.g. "sun 02:00"'
TIME_HINT = 'use "HH:MM-HH:MM", e.g. "08:00-18:00"'
DATETIME_HINT = 'use "YYYY-MM-DD HH:MM" or "YYYY-MM-DDTHH:MM", local time'


def parse_id(text: str, what: str = "id") -> str:
    if not _ID.fullmatch(text) or len(text) > MAX_ID_LENGTH:
        raise ValueError(
            f"bad {what} '{text}': use lowercase letters, digits, '-' and '_', starting with a "
            f"letter or digit (at most {MAX_ID_LENGTH} characters)"
        )
    return text


def parse_slug(text: str) -> str:
    return parse_id(text, "slug")


def parse_name(text: str) -> str:
    """A free-text value (display names, body text): anything but blank."""
    if not text.strip():
        raise ValueError("must not be empty")
    return text


def int_parser(low: int, high: int):
    def parse(text: str) -> int:
        if not _INT.fullmatch(text.strip()) or not low <= int(text) <= high:
            raise ValueError(f"bad number '{text}': use a whole number from {low} to {high}")
        return int(text)

    return parse


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    raise ValueError(f"bad value '{text}': use true or false")


def parse_hhmm(text: str, *, allow_24: bool = False) -> time:
    """`HH:MM`; with `allow_24`, `24:00` is midnight at the end of the day, `time(0, 0)`."""
    match = _HHMM.fullmatch(text.strip())
    if match is not None:
        hour, minute = int(match.group(1)), int(match.group(2))
        if allow_24 and (hour, minute) == (24, 0):
            return time(0, 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"bad time '{text}': use HH:MM from 00:00 to 23:59")


def minutes(moment: time, *, closing: bool = False) -> int:
    """Minutes since the day began; a closing `time(0, 0)` is the day's end, 1440."""
    value = moment.hour * 60 + moment.minute
    return 1440 if closing and value == 0 else value


def parse_opening(text: str) -> tuple[time, time]:
    """`08:00-18:00`; the close may be `24:00` and must be after the open."""
    opening, dash, closing = text.strip().partition("-")
    try:
        start = parse_hhmm(opening)
        end = parse_hhmm(closing, allow_24=True)
    except ValueError:
        raise ValueError(f"bad time '{text}': {TIME_HINT}") from None
    if not dash or minutes(end, closing=True) <= minutes(start):
        raise ValueError(f"bad time '{text}': the close must be after the open")
    return start, end


def parse_days(text: str) -> tuple[Weekday, ...]:
    """`mon`, `mon-fri`, `sat,sun` (or any comma list of days and forward ranges)."""
    days: list[Weekday] = []
    for part in text.lower().split(","):
        first, dash, last = part.strip().partition("-")
        if first not in DAYS or (dash and last not in DAYS):
            raise ValueError(f"bad days '{text}': {DAYS_HINT}")
        low, high = DAYS.index(first), DAYS.index(last if dash else first)
        if high < low:
            raise ValueError(f"bad days '{text}': a range runs forwards, mon to sun: {DAYS_HINT}")
        days.extend(range(low, high + 1))
    return tuple(sorted(set(days)))


def parse_weekly(text: str) -> tuple[Weekday, time]:
    """`sun 02:00`: a day of the week and a local time."""
    day, _, clock = text.strip().lower().partition(" ")
    try:
        if day not in DAYS:
            raise ValueError
        return DAYS.index(day), parse_hhmm(clock.strip())
    except ValueError:
        raise ValueError(f"bad weekly time '{text}': {WEEKLY_HINT}") from None


def parse_date(text: str) -> date:
    stripped = text.strip()
    if _DATE.fullmatch(stripped):
        try:
            return date.fromisoformat(stripped)
        except ValueError:
            pass
    raise ValueError(f"bad date '{text}': use YYYY-MM-DD, e.g. 2026-12-24")


def parse_local_datetime(text: str) -> datetime:
    """`2026-01-05 09:00` or `2026-12-24T18:00` (seconds optional); naive local time."""
    match = _DATETIME.fullmatch(text.strip())
    if match is not None:
        try:
            return datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}")
        except ValueError:
            pass
    raise ValueError(f"bad date and time '{text}': {DATETIME_HINT}")


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_timezone(text: str) -> str:
    name = text.strip()
    if name in _known_zones():
        return name
    try:  # a system without a zone list may still load the zone
        if name and "\x00" not in name:
            zoneinfo.ZoneInfo(name)
            return name
    except Exception:
        pass
    raise ValueError(f"bad time zone '{text}': use an IANA name such as Europe/London or UTC")


def parse_region(text: str) -> str:
    if text not in HOLIDAY_REGIONS:
        raise ValueError(f"bad holiday region '{text}': use one of {', '.join(HOLIDAY_REGIONS)}")
    return text


def parse_cause(text: str) -> str:
    if text not in CAUSES:
        raise ValueError(f"unknown cause '{text}': use one of {', '.join(CAUSES)}")
    return text


def parse_channel(text: str) -> str:
    if text not in CHANNELS:
        raise ValueError(f"unknown channel '{text}': use {' or '.join(CHANNELS)}")
    return text


def parse_role(text: str) -> str:
    if text not in ROLES:
        raise ValueError(f"unknown role '{text}': use one of {', '.join(ROLES)}")
    return text


def parse_clock(text: str) -> str:
    if text not in ("business", "24x7", "worked"):
        raise ValueError(f"bad clock '{text}': use business, 24x7 or worked")
    return text


def parse_phone(text: str) -> str:
    stripped = text.strip()
    if not _PHONE.fullmatch(stripped):
        raise ValueError(
            f"bad phone number '{text}': use E.164, a + and 8 to 15 digits, e.g. +447700900001"
        )
    return stripped


def parse_email(text: str) -> str:
    stripped = text.strip()
    if not _EMAIL.fullmatch(stripped) or len(stripped) > MAX_EMAIL_LENGTH:
        raise ValueError(f"bad email address '{text}': use name@example.com")
    return stripped


def parse_url(text: str) -> str:
    stripped = text.strip()
    problem = "use http:// or https:// and a host, e.g. https://www.example.com/"
    try:
        parts = urlsplit(stripped)
        parts.port  # noqa: B018 - raises ValueError for a bad port
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok or any(c.isspace() or not c.isprintable() for c in stripped):
        raise ValueError(f"bad URL '{text}': {problem}")
    return stripped


def parse_method(text: str) -> str:
    method = text.strip().upper()
    if method not in METHODS:
        raise ValueError(f"bad method '{text}': use one of {', '.join(METHODS)}")
    return method


def parse_status(text: str) -> tuple[int, int]:
    """`200` or `200-399`: an inclusive range of HTTP status codes."""
    match = _STATUS.fullmatch(text.strip())
    if match is not None:
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if 100 <= low <= high <= 599:
            return low, high
    raise ValueError(f"bad status '{text}': use a code or a range from 100 to 599, e.g. 200-399")


def parse_at(text: str) -> tuple[float, Literal["response", "resolution"]]:
    """`75% response`: the share of a target that has elapsed."""
    match = _AT.fullmatch(text.strip())
    if match is not None and 0 < float(match.group(1)) <= 1000:
        target: Literal["response", "resolution"] = (
            "response" if match.group(2) == "response" else "resolution"
        )
        return float(match.group(1)), target
    raise ValueError(f"bad 'at' '{text}': use a percentage and a target, e.g. \"75% response\"")


def known(what: str, declared: Mapping[str, object], where: str = "") -> Callable[[str], str]:
    """A parser accepting only the ids in `declared`: `unknown plan 'x'; defined: a, b`."""

    def parse(text: str) -> str:
        if text not in declared:
            names = ", ".join(declared) or "none"
            raise ValueError(f"unknown {what} '{text}'{where}; defined: {names}")
        return text

    return parse


def timeout_message(timeout: timedelta, interval: timedelta) -> str:
    return (
        f"timeout ({format_duration(timeout)}) must be shorter than "
        f"interval ({format_duration(interval)})"
    )


CHECK_URL_HINT = (
    "use http:// or https:// and a host (e.g. https://www.example.com/), tcp://host:port "
    "or dns://name"
)


def parse_check_url(text: str) -> str:
    """What a site checks: `http(s)://host/...`, `tcp://host:port` or `dns://name`."""
    stripped = text.strip()
    try:
        parts = urlsplit(stripped)
        port = parts.port  # raises ValueError for a bad port
        scheme = parts.scheme.lower()
        ok = bool(parts.hostname) and scheme in ("http", "https", "tcp", "dns")
    except ValueError:
        ok, scheme, port = False, "", None
    if not ok or any(c.isspace() or not c.isprintable() for c in stripped):
        raise ValueError(f"bad URL '{text}': {CHECK_URL_HINT}")
    if parts.netloc.endswith(":"):
        raise ValueError(f"bad URL '{text}': the port after ':' is missing")
    if scheme == "tcp" and (not port or parts.path not in ("", "/") or parts.query):
        raise ValueError(f"bad URL '{text}': a tcp check is tcp://host:port, e.g. tcp://db:5432")
    if scheme == "dns" and (port or parts.path not in ("", "/") or parts.query or "@" in stripped):
        raise ValueError(f"bad URL '{text}': a dns check is dns://name, e.g. dns://www.example.com")
    return stripped


def parse_dns_server(text: str) -> str:
    """A name server: an IP address with an optional port (`127.0.0.1:5353`, `[::1]:53`)."""
    stripped = text.strip()
    host, port = stripped, ""
    if stripped.startswith("["):
        host, _, rest = stripped[1:].partition("]")
        port = rest.removeprefix(":")
    elif stripped.count(":") == 1:
        host, port = stripped.split(":")
    try:
        ipaddress.ip_address(host)
        if port and not (_INT.fullmatch(port) and 0 < int(port) < 65536):
            raise ValueError
    except ValueError:
        raise ValueError(
            f"bad name server '{text}': use an IP address with an optional port, "
            "e.g. 127.0.0.1:5353"
        ) from None
    return stripped
