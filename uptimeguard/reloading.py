"""SIGHUP: the checks file is read again off the event loop, one reload at a time.

Composing and validating a large checks file takes seconds of CPU; on the event loop that
would stop probes, the web server and paging for as long. The file is read in a thread of its
own (the running configuration stays in use meanwhile) and only the switch to the new one
happens on the loop. A SIGHUP that arrives while a reload runs asks for one more after it, so
the file last written is the one that ends up loaded, and two reloads never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from uptimeguard.config.compact import load_config_compact
from uptimeguard.config.models import ChecksConfig

log = logging.getLogger(__name__)

T = TypeVar("T")


class CheckFileReader:
    """Reads the checks file in a thread of its own (never the loop's default executor,
    which the probes' name lookups may share)."""

    def __init__(self, path: str, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checks-reload")

    async def read(self) -> ChecksConfig:
        """The file, loaded and validated; raises ConfigError as `load_config` does."""
        loop = asyncio.get_running_loop()
        # In a child process (`uptimeguard.config.compact`): what loading takes stays there.
        load = functools.partial(load_config_compact, self.path, self.max_bytes)
        return await loop.run_in_executor(self._executor, load)

    async def call(self, work: Callable[[ChecksConfig], T], config: ChecksConfig) -> T:
        """`work(config)` in the same thread: what a switch to `config` can build beforehand."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, config)

    def close(self) -> None:
        # A read under way finishes on its own (it is bounded by the size limit); its result
        # is thrown away.
        self._executor.shutdown(wait=False, cancel_futures=True)


class Reloads:
    """Runs `reload` on request (SIGHUP), one at a time; a request during a run queues one
    more run after it, however many requests came."""

    def __init__(self, reload: Callable[[], Awaitable[bool]]) -> None:
        self._reload = reload
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def request(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._run(), name="checks-reload")

    async def _run(self) -> None:
        again = True
        while again:
            self._again = False
            try:
                await self._reload()
            except Exception:
                log.exception("reload failed, keeping the running configuration")
            again = self._again

    async def idle(self) -> None:
        """Wait for the reloads asked for so far to finish (tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
