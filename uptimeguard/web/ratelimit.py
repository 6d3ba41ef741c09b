"""A sliding-window rate limit per key (a client address), in memory, bounded in size."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimit:
    """At most `limit` events per `per` seconds for each key; at most `keys` keys are kept
    (the least recently seen go first), so a flood of addresses cannot grow it without end."""

    def __init__(
        self,
        limit: int,
        per: float,
        keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.per = per
        self._keys = keys
        self._clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False (and not counted) when it is over the limit."""
        now = self._clock()
        times = self._seen.pop(key, None) or deque()
        while times and now - times[0] >= self.per:
            times.popleft()
        allowed = len(times) < self.limit
        if allowed:
            times.append(now)
        self._seen[key] = times
        while len(self._seen) > self._keys:
            self._seen.popitem(last=False)
        return allowed

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again (0 when it may now)."""
        times = self._seen.get(key)
        if not times or len(times) < self.limit:
            return 0
        return max(1, int(self.per - (self._clock() - times[0])) + 1)
