"""Durations as written in the checks file: `30s`, `5m`, `8h`, `2d`, `1w`, `1h30m`.

`parse_duration` reads wall-clock lengths (probe intervals, waits, maintenance). `parse_target`
reads SLA targets, which stay symbolic (`Target`) because on a business calendar `8h` means
business hours and `2d` working days, so they cannot become a `timedelta` yet.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal, cast

from uptimeguard.config.models import Target

DURATION_HINT = "use a number and a unit: 30s, 5m, 8h, 2d"
TARGET_HINT = "use a number and a unit: 15m, 8h, 2d"

_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_UNIT_ORDER = "wdhms"
_MAX_SECONDS = timedelta.max // timedelta(seconds=1)
# ASCII digits only (`\d` would also accept other scripts' digits), and few enough of them
# that parsing stays cheap.
_PART = re.compile(r"([0-9]{1,9})([wdhms])")
_TARGET = re.compile(r"([0-9]{1,9})([smhd])")


def parse_duration(text: str) -> timedelta:
    """`30s`, `5m`, `8h`, `2d`, `1w` or a compound such as `1h30m` (larger units first)."""
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"bad duration '{text}': {DURATION_HINT}")
    seconds = 0
    position = 0
    last_rank = -1
    while position < len(stripped):
        match = _PART.match(stripped, position)
        if match is None:
            raise ValueError(f"bad duration '{text}': {DURATION_HINT}")
        rank = _UNIT_ORDER.index(match.group(2))
        if rank <= last_rank:
            raise ValueError(
                f"bad duration '{text}': give each unit once, larger units first, e.g. 1h30m"
            )
        last_rank = rank
        seconds += int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if seconds <= 0:
        raise ValueError(f"bad duration '{text}': must be more than zero")
    if seconds > _MAX_SECONDS:
        raise ValueError(f"bad duration '{text}': too long")
    return timedelta(seconds=seconds)


def parse_target(text: str) -> Target:
    """An SLA target: one positive number and one unit of `s`, `m`, `h` or `d`."""
    match = _TARGET.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"bad target '{text}': {TARGET_HINT}")
    amount = int(match.group(1))
    if amount <= 0:
        raise ValueError(f"bad target '{text}': must be more than zero")
    unit = cast(Literal["s", "m", "h", "d"], match.group(2))
    return Target(amount, unit)


def format_duration(duration: timedelta) -> str:
    """The shortest checks-file spelling: `1d2h`, `1h30m`, `45s`, `0s`; `1.5s` below a second."""
    if duration < timedelta(0):
        return "-" + format_duration(-duration)
    whole, micro = divmod(duration // timedelta(microseconds=1), 1_000_000)
    parts = []
    for unit in "dhm":
        amount, whole = divmod(whole, _UNIT_SECONDS[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    if micro:
        parts.append(f"{whole}.{micro:06d}".rstrip("0") + "s")
    elif whole or not parts:
        parts.append(f"{whole}s")
    return "".join(parts)
