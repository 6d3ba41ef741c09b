"""Rate limits for public forms: at most `limit` hits per key in a sliding `window`. Pure
(`now` is an argument) and in memory, per process; bounded in the keys it remembers."""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta

MAX_KEYS = 100_000


class RateLimiter:
    def __init__(self, limit: int, window: timedelta, max_keys: int = MAX_KEYS) -> None:
        if limit < 1:
            raise ValueError("a rate limit allows at least one hit")
        self.limit = limit
        self.window = window
        self._max_keys = max_keys
        self._hits: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def allow(self, key: str, now: datetime) -> bool:
        """Count a hit for `key` at `now`; False (and not counted) when over the limit."""
        hits = self._recent(key, now)
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        self._hits[key] = hits
        self._hits.move_to_end(key)
        while len(self._hits) > self._max_keys:  # forget the keys heard from longest ago
            self._hits.popitem(last=False)
        return True

    def retry_after(self, key: str, now: datetime) -> int:
        """Whole seconds until `key` may hit again (0 when it may now)."""
        hits = self._recent(key, now)
        if len(hits) < self.limit:
            return 0
        wait = hits[0] + self.window - now
        return max(1, int(wait.total_seconds() + 0.999))
