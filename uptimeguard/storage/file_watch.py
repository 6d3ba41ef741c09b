"""Noticing a SQLite database file deleted or replaced under a running daemon.

An open connection keeps writing to a file that was unlinked: every write "succeeds", into a
file nobody can open again, and after a restart the daemon starts on a new, empty database.
`DatabaseFile` remembers the file's identity (device and inode) when the daemon opened it; a
readiness check asks it whether the path still names that file.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


class DatabaseFile:
    """The SQLite file the daemon writes, as it was when opened; `None` path: nothing to
    watch (PostgreSQL, or an in-memory database)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._identity = _identity(path) if path is not None else None
        self._told: str | None = None

    def problem(self) -> str | None:
        """Why the file the daemon writes is no longer the database at its path, or None."""
        if self.path is None or self._identity is None:
            return None
        now = _identity(self.path)
        if now == self._identity:
            if self._told is not None:
                log.info("database file %s is back", self.path)
                self._told = None
            return None
        why = (
            f"the database file {self.path} was deleted while the daemon runs"
            if now is None
            else f"the database file {self.path} was replaced by another file"
        )
        if self._told != why:  # once per change, not at every readiness check
            log.error(
                "%s: results and incidents are written to a file that is gone; restore it "
                "from a backup and restart",
                why,
            )
            self._told = why
        return why


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino
