"""The Jinja2 environment for the status page and the HTML report, and its filters.

Templates live in `uptimeguard/web/templates/`, the stylesheet in `uptimeguard/web/static/`
(inlined into the page: one request, nothing else to fetch). Autoescaping is on for `.html`.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from uptimeguard.status.zones import local_when


def _instant(value: str | datetime) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(UTC)


def when(value: str | datetime | None, zone: str = "UTC") -> str:
    """`24 Nov 2026 10:00 UTC`; in another zone with its abbreviation: `... 11:00 CET`."""
    if value is None:
        return ""
    return local_when(_instant(value), zone)


def duration(seconds: float | None) -> str:
    """`45 s`, `12 min`, `1 h 12 min`, `3 d 2 h`."""
    if seconds is None:
        return ""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def ago(value: str | datetime | None, now: str | datetime) -> str:
    if value is None:
        return "never"
    seconds = (_instant(now) - _instant(value)).total_seconds()
    return "just now" if seconds < 60 else f"{duration(seconds)} ago"


def pct(value: float | None, places: int = 2) -> str:
    """A percentage rounded down: `99.99%`, `100%`; an em dash when there is none."""
    if value is None:
        return "—"
    scale = 10**places
    text = f"{math.floor(value * scale + 1e-9) / scale:.{places}f}".rstrip("0").rstrip(".")
    return f"{text}%"


def level(day: dict[str, Any]) -> str:
    """The bar's colour class: o 100%, m >= 99%, p >= 95%, d below, w maintenance, n no data."""
    uptime = day["uptime_percent"]
    if uptime is None:
        return "w" if day["maintenance_seconds"] else "n"
    if uptime >= 100:
        return "o"
    if uptime >= 99:
        return "m"
    return "p" if uptime >= 95 else "d"


def daylabel(day: dict[str, Any]) -> str:
    """`Tue 24 Nov 2026: 99.31% up, down 10 min; incident #12 Acme website is not responding`."""
    label = date.fromisoformat(day["date"]).strftime("%a %-d %b %Y")
    parts = []
    if day["uptime_percent"] is None:
        parts.append("no data")
    else:
        parts.append(f"{pct(day['uptime_percent'])} up")
    if day["down_seconds"]:
        parts.append(f"down {duration(day['down_seconds'])}")
    if day["maintenance_seconds"]:
        parts.append(f"maintenance {duration(day['maintenance_seconds'])}")
    text = f"{label}: {', '.join(parts)}"
    for incident in day["incidents"]:
        text += f"; incident #{incident['id']} {incident['title']}"
    return text


@cache
def stylesheet() -> str:
    return files("uptimeguard.web").joinpath("static/status.css").read_text(encoding="utf-8")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("uptimeguard.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when, duration=duration, ago=ago, pct=pct, level=level, daylabel=daylabel
    )
    return env
