"""UK bank holidays per region, from the `holidays` package, cached per (region, year)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays as _holidays

# The checks file's region names and the `holidays.UK` subdivision each stands for.
REGIONS: dict[str, str] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}


@lru_cache(maxsize=256)
def bank_holidays(region: str, year: int) -> frozenset[date]:
    """The dates a calendar observing `region`'s bank holidays is closed in `year`.

    Substitute days ("Boxing Day (observed)") and one-off days (a state funeral, a coronation)
    are included, as `holidays.UK(subdiv=...)` lists them.

    When a holiday falls at a weekend, `holidays.UK` lists both the weekend date itself and the
    weekday it is moved to. We close both. A Monday-Friday calendar never opens at the weekend,
    so for it only the substitute weekday matters. A seven-day calendar closes the weekday it
    would otherwise work, because that is the bank holiday everyone else takes, and it also
    closes the original date (Boxing Day on a Saturday), because that day is still the holiday
    that customers and staff keep. Treating every listed date as closed is the reading that
    never reports a deadline inside a day the office keeps as a holiday.
    """
    try:
        subdiv = REGIONS[region]
    except KeyError:
        known = ", ".join(REGIONS)
        raise ValueError(f"unknown holiday region {region!r}; use one of: {known}") from None
    return frozenset(_holidays.UK(subdiv=subdiv, years=year).keys())
