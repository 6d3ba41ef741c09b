"""Each site's daily rollup folded in memory as its results arrive, so healthy probes need no
raw row: the node that makes a result folds it (`add`), and its result writer writes the
changed days in batches (`due`, every `ROLLUP_INTERVAL_SECONDS`).

The fold is the one `rollup_job` runs over stored results (`DayRollup.add` and `advance`, the
same spans), so the page and the report give the same figures either way. What a restart or
a site handed over to this node continues from is its location's newest stored row plus the
results stored since (`resume`): every change, and while a site fails a result at least every
half span, which are always stored; between them the last kind stands for at most its span,
as it would have, so the seconds up and down come out the same (a failing site's rechecks in
between are not stored, so the probe counts of those minutes are lower).

Each location keeps its own rows (`location`). While this node's location is degraded (its own
network failed: `degraded` says so) its results are not folded: they say nothing of the sites.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from uptimeguard.config.models import SiteRef
from uptimeguard.status.rollups import UP, DayRollup, day_of, kind_of
from uptimeguard.storage.models import DEFAULT_LOCATION

SiteKey = tuple[str, str]
DayKey = tuple[str, str, date]


def max_span(ref: SiteRef) -> timedelta:
    """How long one result speaks for: two intervals and a timeout, then time is unobserved."""
    return 2 * ref.interval + ref.timeout


class LiveRollups:
    def __init__(self, location: str = DEFAULT_LOCATION) -> None:
        self.location = location
        self._states: dict[SiteKey, DayRollup] = {}
        self._changed: dict[DayKey, DayRollup] = {}
        self._spans: dict[SiteKey, timedelta] = {}  # each site's `max_span`, as last given
        # Each failing (or in maintenance) site's last result kept raw: when, and its outcome.
        self._sampled: dict[SiteKey, tuple[datetime, str]] = {}
        # The locations degraded now (the cluster's view); ours among them: fold nothing.
        self.degraded: Callable[[], Collection[str]] = tuple

    def __len__(self) -> int:
        return len(self._states)

    @property
    def changed(self) -> int:
        """Site-days folded since they were last written."""
        return len(self._changed)

    def adopt(self, days: Iterable[DayRollup], spans: dict[SiteKey, timedelta]) -> None:
        """Continue from these folds (`resume`: days oldest first per site, the last one the
        site's current day), unless this node has folded further itself; every one of them
        is written with the next batch."""
        for day in days:
            key = (day.customer, day.site)
            mine = self._states.get(key)
            if mine is not None and mine.accounted_to >= day.accounted_to:
                continue
            self._changed[(*key, day.day)] = day
            if mine is None or mine.day <= day.day:
                self._states[key] = day
                self._spans[key] = spans[key]

    def add(
        self,
        customer: str,
        site: str,
        at: datetime,
        outcome: str,
        maintenance: bool,
        span: timedelta,
        zone: str = "UTC",
    ) -> bool:
        """Fold one result made here (`span`: how long it speaks for, `max_span`; `zone`: the
        site's page zone, whose days the rows are); True when its raw row is worth keeping
        (`_worth_keeping`)."""
        key = (customer, site)
        kind = kind_of(outcome, maintenance)
        state = self._states.get(key)
        keep = self._worth_keeping(key, at, outcome, kind, state, span)
        if self.location in self.degraded():
            return True  # not folded: kept raw
        self._spans[key] = span
        if state is None:
            state = self._states[key] = DayRollup.begin(
                customer, site, day_of(at, zone), location=self.location, zone=zone
            )
        elif state.last_at is not None and at <= state.last_at:
            return True  # out of order: kept raw, not folded
        while day_of(at, state.zone) > state.day:
            self._changed[(*key, state.day)] = state
            state = self._states[key] = state.next_day(span)
        state.add(at, kind, span)
        self._changed[(*key, state.day)] = state
        return keep

    def _worth_keeping(
        self,
        key: SiteKey,
        at: datetime,
        outcome: str,
        kind: str,
        state: DayRollup | None,
        span: timedelta,
    ) -> bool:
        """A site's first result here and every change of kind (a failure begins, a recovery,
        maintenance begins or ends) are kept; while a site fails or is in maintenance, so is
        each change of outcome (a timeout after HTTP 500s) and one result every half span
        (about an interval: its rechecks every few seconds are not), so that the kept rows
        alone still cover the time a restart continues the fold from."""
        changed = state is None or state.last_kind != kind
        if kind == UP:
            self._sampled.pop(key, None)
            return changed
        last = self._sampled.get(key)
        keep = changed or last is None or last[1] != outcome or at - last[0] >= span / 2
        if keep:
            self._sampled[key] = (at, outcome)
        return keep

    def due(self, upto: datetime) -> list[dict[str, Any]]:
        """Every site's time counted up to `upto` (days closed at midnight), and the rows of
        the days changed since the last call, to write; `retry` puts them back if the write
        fails."""
        for key, state in self._states.items():
            if state.accounted_to >= upto:
                continue
            span = self._spans.get(key)
            if span is None:
                continue
            while state.end <= upto:
                self._changed[(*key, state.day)] = state
                state = self._states[key] = state.next_day(span)
            state.advance(upto, span)
            self._changed[(*key, state.day)] = state
        rows = [state.as_row() for state in self._changed.values()]
        self._changed.clear()
        return rows

    def retry(self, rows: Iterable[dict[str, Any]]) -> None:
        """Rows whose write failed: written with the next batch (as they are by then)."""
        for row in rows:
            key = (row["customer"], row["site"])
            state = self._states.get(key)
            if state is not None and state.day == row["day"]:
                self._changed.setdefault((*key, state.day), state)
            else:  # a closed day, or a site forgotten since: its row as it was
                self._changed.setdefault(
                    (row["customer"], row["site"], row["day"]), DayRollup(**row)
                )

    def drop(self, keys: Iterable[SiteKey]) -> None:
        """This node no longer probes these sites: their days are written with the next batch
        as they stand, then forgotten (the new owner continues from them)."""
        for key in keys:
            self._forget(key)

    def _forget(self, key: SiteKey) -> None:
        self._spans.pop(key, None)
        self._sampled.pop(key, None)
        state = self._states.pop(key, None)
        if state is not None:
            self._changed[(*key, state.day)] = state
