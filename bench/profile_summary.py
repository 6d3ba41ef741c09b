"""Summarise a py-spy profile (`py-spy record --format raw`, as `bench.scale --py-spy` writes).

    python -m bench.profile_summary PROFILE.txt [TOP]

Samples that only wait are dropped first: py-spy's `--nonblocking` mode cannot always tell a
thread blocked in C from one running (the event loop in `select`, aiosqlite's worker thread
in `SimpleQueue.get`). Then it prints where the samples fall by area (the package of the
innermost frame that is not asyncio's plumbing), by the innermost uptimeguard function on the
stack (what our code caused, library work included), the functions with the most samples
inclusive of what they call, and the innermost frames (self time).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")

AREAS = (
    ("uptimeguard/probe/", "uptimeguard.probe"),
    ("uptimeguard/monitor/", "uptimeguard.monitor"),
    ("uptimeguard/storage/", "uptimeguard.storage"),
    ("uptimeguard/incidents/", "uptimeguard.incidents"),
    ("uptimeguard/paging/", "uptimeguard.paging"),
    ("uptimeguard/", "uptimeguard (other)"),
    ("aiohttp/", "aiohttp"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("aiosqlite/", "aiosqlite"),
    ("asyncpg/", "asyncpg"),
    ("prometheus_client/", "prometheus_client"),
    ("yarl/", "yarl"),
    ("multidict/", "multidict"),
    ("aiohappyeyeballs/", "aiohappyeyeballs"),
    ("apscheduler/", "APScheduler"),
    ("uvloop/", "uvloop"),
    ("ssl.py", "ssl (TLS)"),
    ("asyncio/sslproto.py", "ssl (TLS)"),
    ("asyncio/", "asyncio"),
    ("threading.py", "threads"),
    ("sqlite3/", "sqlite3"),
)


def area(file: str) -> str:
    """The area of a frame's file; py-spy names files relative to their sys.path entry."""
    for needle, name in AREAS:
        if file.startswith(needle) or f"/{needle}" in file:
            return name
    return "other"


# Innermost frames that mean "waiting", not working.
IDLE = {
    ("EpollSelector.select", "selectors.py"),
    ("_connection_worker_thread", "aiosqlite/core.py"),
    ("Condition.wait", "threading.py"),
    ("Thread.join", "threading.py"),
}


def is_idle(frames: list[tuple[str, str]]) -> bool:
    if not frames:
        return True
    func, file = frames[-1]
    return any(func == f and file.endswith(p) for f, p in IDLE)


def parse(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = []
        for part in stack_text.split(";"):
            m = FRAME.match(part.strip())
            if m:
                frames.append((m.group("func"), m.group("file")))
            elif part.strip():
                frames.append((part.strip(), ""))
        stacks.append((frames, int(count)))
    return stacks


def summarise(path: Path, top: int = 15) -> str:
    everything = parse(path)
    stacks = [(frames, count) for frames, count in everything if not is_idle(frames)]
    idle = sum(count for _, count in everything) - sum(count for _, count in stacks)
    total = sum(count for _, count in stacks) or 1
    by_area: Counter[str] = Counter()
    by_ours: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in stacks:
        if not frames:
            continue
        # Charge the innermost frame that is not asyncio's plumbing, so a callback's cost
        # lands on what it runs.
        inner = next((f for f in reversed(frames) if not _plumbing(f[1])), None)
        by_area[area(inner[1]) if inner else "event loop (asyncio, selectors, sockets)"] += count
        ours = next(
            (f for f in reversed(frames) if "uptimeguard/" in f[1] and not _plumbing(f[1])), None
        )
        by_ours[f"{ours[0]} ({_short(ours[1])})" if ours else "(no uptimeguard frame)"] += count
        func, file = frames[-1]
        own[f"{func} ({_short(file)})"] += count
        for name in {f"{f} ({_short(p)})" for f, p in frames}:
            inclusive[name] += count
    lines = [f"{total} samples working ({idle} waiting, dropped)", "", "by area:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in by_area.most_common()]
    lines += ["", f"top {top} by innermost uptimeguard function:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in by_ours.most_common(top)]
    lines += ["", f"top {top} inclusive:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", f"top {top} self:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def _plumbing(file: str) -> bool:
    """Frames that only carry control to the code doing the work."""
    return area(file) in ("asyncio", "other") or file.endswith(("uptimeguard/cli.py", "runpy>"))


def _short(file: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


if __name__ == "__main__":
    print(summarise(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 15))
