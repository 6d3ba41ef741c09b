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
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from uptimeguard.config.compact import load_config_compact
from uptimeguard.config.models import ChecksConfig

log = logging.getLogger(__name__)

A = TypeVar("A")
T = TypeVar("T")


class CheckFileReader:
    """Reads the checks file in a thread of its own (never the loop's default executor,
    which the probes' name lookups may share).

    Each call runs in a new daemon thread, so a stop (SIGTERM) during a reload does not wait
    for the read: a pool's worker threads are joined at exit, which kept a stopping daemon
    alive for as long as the read took (half a minute at 230,000 sites).
    """

    def __init__(self, path: str, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes

    async def read(self) -> ChecksConfig:
        """The file, loaded and validated; raises ConfigError as `load_config` does."""
        return await self.call(self._load, self.path)

    def _load(self, path: str) -> ChecksConfig:
        # In a child process (`uptimeguard.config.compact`): what loading takes stays there.
        return load_config_compact(path, self.max_bytes)

    async def call(self, work: Callable[[A], T], argument: A) -> T:
        """`work(argument)` in a thread of its own; its result (or exception) here."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(result: T | None, error: BaseException | None) -> None:
            if future.done():  # the reload was cancelled meanwhile
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        def run() -> None:
            try:
                outcome: tuple[T | None, BaseException | None] = (work(argument), None)
            except BaseException as error:  # handed to the loop, which raises it there
                outcome = (None, error)
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(settle, *outcome)

        threading.Thread(target=run, name="checks-reload", daemon=True).start()
        return await future

    def close(self) -> None:
        """Nothing to release: a read under way is abandoned with its thread."""


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
