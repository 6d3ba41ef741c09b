"""Telling a database that cannot serve a request now (disk full, an I/O error, a lock held
too long, the server gone) from a request that is wrong: the first is a 503 the client may
retry, the second a bug."""

from __future__ import annotations

import errno

from sqlalchemy import exc

# Operating-system errors that say the storage, not the request, is at fault.
_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENFILE, errno.EMFILE}
)
# SQLite result codes (Python's `sqlite_errorname`, extended codes included by prefix).
_SQLITE_NAMES = (
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
    "SQLITE_READONLY",
    "SQLITE_NOMEM",
    "SQLITE_PROTOCOL",
)
# The same, by message, for an error that carries no code.
_SQLITE_MESSAGES = (
    "database or disk is full",
    "disk i/o error",
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "attempt to write a readonly database",
    "out of memory",
)
# PostgreSQL SQLSTATE classes: connection exception, insufficient resources (disk full, out
# of memory, too many connections), operator intervention (shutting down, cannot connect
# now), system error (I/O).
_SQLSTATE_CLASSES = ("08", "53", "57P", "58")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _driver_reason(orig: BaseException) -> str | None:
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str) and name.startswith(_SQLITE_NAMES):
        return _first_line(orig)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(state, str) and state.startswith(_SQLSTATE_CLASSES):
        return _first_line(orig)
    if type(orig).__module__.startswith("sqlite3") or "sqlite" in type(orig).__module__:
        message = str(orig).lower()
        return _first_line(orig) if any(m in message for m in _SQLITE_MESSAGES) else None
    return None


def unavailable_reason(error: BaseException) -> str | None:
    """One line naming why the database cannot serve now, or None when `error` is not that
    (a constraint, a bad statement: a bug, to be logged with its traceback)."""
    if isinstance(error, exc.TimeoutError):  # the pool had no connection to give in time
        return "no database connection free"
    if isinstance(error, exc.DisconnectionError):
        return _first_line(error)
    if isinstance(error, exc.DBAPIError):
        orig = error.orig
        if error.connection_invalidated:
            return _first_line(orig) if orig is not None else "database connection lost"
        if orig is not None and (reason := _driver_reason(orig)) is not None:
            return reason
        if isinstance(error, exc.InterfaceError):  # asyncpg: the connection is closed
            return _first_line(orig) if orig is not None else "database connection lost"
        if isinstance(error, exc.OperationalError) and not _is_sqlite(orig):
            return _first_line(orig) if orig is not None else _first_line(error)
        return None
    if isinstance(error, ConnectionError | TimeoutError):
        return f"database unreachable: {_first_line(error)}"
    if isinstance(error, OSError) and error.errno in _ERRNOS:
        return error.strerror or _first_line(error)
    if type(error).__module__.startswith("asyncpg"):
        return _driver_reason(error) or (
            _first_line(error) if "Connection" in type(error).__name__ else None
        )
    return _driver_reason(error)


def _is_sqlite(orig: BaseException | None) -> bool:
    return orig is not None and "sqlite" in type(orig).__module__
