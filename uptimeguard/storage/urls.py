"""Database URLs: the forms we accept, the async driver we choose, and where the data lives."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

# `sqlite+aiosqlite://` and `postgresql+asyncpg://` (the drivers named) are accepted too.
ACCEPTED_FORMS = "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME"
# Each accepted scheme and the async driver it runs on.
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def _parse(value: str) -> URL | None:
    try:
        return make_url(value)
    except (ArgumentError, ValueError):
        return None


def normalize_database_url(value: str) -> str:
    """`value` with the async driver named (`sqlite:///x.db` -> `sqlite+aiosqlite:///x.db`,
    `postgresql://...` -> `postgresql+asyncpg://...`); ValueError naming the accepted forms."""
    url = _parse(value.strip()) if "://" in value else None
    if url is None:
        raise ValueError(f"bad database URL {value!r}: use {ACCEPTED_FORMS}")
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database {url.drivername!r} in "
            f"{url.render_as_string(hide_password=True)!r}: use {ACCEPTED_FORMS}"
        )
    scheme, rest = value.strip().split("://", 1)
    return f"{driver}://{rest}" if scheme != driver else value.strip()


def sqlite_path(url: str) -> Path | None:
    """The absolute path of a SQLite database file (relative paths are from the current
    directory); None for PostgreSQL or an in-memory database."""
    parsed = _parse(url)
    if parsed is None or not parsed.drivername.startswith("sqlite"):
        return None
    name = parsed.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name).expanduser().resolve()


def describe_database(url: str) -> str:
    """Where the data is, for a person: the SQLite file's absolute path, or the URL without
    its password."""
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    parsed = _parse(url)
    return parsed.render_as_string(hide_password=True) if parsed is not None else url
