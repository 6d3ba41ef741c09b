"""One node per SQLite file: an exclusive lock on a file beside the database.

SQLite has no advisory locks or notifications to share work with, so a second daemon on the
same file would probe every site twice and page twice. The first daemon holds `flock` on
`<database>.node` (which names it) for as long as it runs; the kernel drops the lock however
the process ends, SIGKILL included, so there is never a stale lock to clean up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


class NodeLockError(RuntimeError):
    """Another daemon already runs on this SQLite file."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


class SqliteNodeLock:
    """Held while the daemon runs: `acquire` raises NodeLockError naming the holder."""

    def __init__(self, database: Path, node: str) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".node")
        self.node = node
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd) or "another node"
            os.close(fd)
            raise NodeLockError(
                f"the SQLite database {self.database} is in use by node {holder}; "
                "one SQLite file serves one node: use PostgreSQL "
                "(UPTIMEGUARD_DATABASE_URL=postgresql+asyncpg://...) to run several nodes"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{self.node} (pid {os.getpid()})\n".encode())
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read(fd: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(fd, 200, 0).decode(errors="replace").strip()
    return ""
