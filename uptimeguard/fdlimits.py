"""File descriptors: the process's limit, and how it is shared out.

Every web connection, probe, database connection and log file is a file descriptor, and at
the limit (`ulimit -n`; systemd's default soft limit is 1,024) whatever asks next fails with
"Too many open files": probes, the database, accept itself. So the soft limit is raised to
the hard one at start, and what is left after a reserve (the database's connections and
files, DNS, mail, Twilio, logs) is shared between the web server's connections and the
probes in flight, each capped where the limit cannot hold what the settings ask.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

# Kept back for everything but web connections and probes: the database pool (on SQLite
# three files per connection), DNS and Twilio sockets, the mail client, logs, the interpreter.
RESERVE = 128
# A soft limit to take when the hard limit is unlimited.
UNLIMITED_SOFT = 1 << 20


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (where allowed); returns the soft one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = UNLIMITED_SOFT if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):
            pass  # e.g. the hard limit above the kernel's nr_open: keep what we have
    return UNLIMITED_SOFT if soft == resource.RLIM_INFINITY else soft


def open_descriptors() -> int:
    """How many file descriptors this process has open now (0 where /proc cannot say)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


@dataclass(frozen=True)
class FileBudget:
    limit: int
    in_use: int
    web_connections: int
    probes: int
    capped: bool = False  # fewer than the settings ask

    def describe(self) -> str:
        return (
            f"open-files limit {self.limit} ({self.in_use} in use): at most "
            f"{self.web_connections} web connections and {self.probes} probes at once, "
            f"{RESERVE} kept for the database and the rest"
        )


def share_out(limit: int, in_use: int, want_web: int, want_probes: int) -> FileBudget:
    """Web connections and probes within `limit`: as asked where it fits, else a third of
    what is free to the web server and the rest to probes (monitoring comes first)."""
    free = max(limit - in_use - RESERVE, 16)
    if want_web + want_probes <= free:
        return FileBudget(limit, in_use, want_web, want_probes)
    web = max(min(want_web, free // 3), 8)
    probes = max(min(want_probes, free - web), 8)
    return FileBudget(limit, in_use, web, probes, capped=True)
