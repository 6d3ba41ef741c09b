"""The one definition of a public update: what is public, in words that never change later."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from uptimeguard.status.updates import public_update
from uptimeguard.storage.models import IncidentEventRow, IncidentRow

AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
NAMES = {"www": "Acme website"}


def incident(cause: str = "down") -> IncidentRow:
    return IncidentRow(id=7, customer="acme", site="www", cause=cause, opened_at=AT)


def event(kind: str, data: dict | None = None, by: str | None = None, message: str = "") -> Any:
    return IncidentEventRow(id=1, incident_id=7, at=AT, kind=kind, by=by, data=data,
                            message=message)  # fmt: skip


def words(row: IncidentRow, entry: IncidentEventRow) -> tuple[str, str] | None:
    update = public_update(row, entry, NAMES)
    return None if update is None else (update.status, update.message)


def test_an_opening_reads_as_posted_after_an_upgrade() -> None:
    upgraded = incident("down")  # it opened on server errors, then stopped answering
    opened = event("opened", {"cause": "http_5xx", "severity": "bug_fix"}, "monitor")
    assert words(upgraded, opened) == (
        "investigating", "We are investigating: Acme website is returning server errors.",
    )  # fmt: skip


def test_words_stored_with_an_entry_are_read_as_they_are() -> None:
    stored = {"public_update": {"status": "investigating", "message": "Looking into it."}}
    assert words(incident(), event("opened", stored)) == ("investigating", "Looking into it.")


def test_only_public_notes_and_lifecycle_entries_are_public() -> None:
    assert words(incident(), event("note", None, "alice", "INTERNAL")) is None
    assert words(incident(), event("note", {"public": True}, "alice", "Fixed.")) == (
        "update", "Fixed.",
    )  # fmt: skip
    for internal in ("upgraded", "breach", "page"):
        assert words(incident(), event(internal, {"public": True}, "x", "INTERNAL")) is None
    assert words(incident(), event("resolved", None, "monitor")) == (
        "resolved", "Acme website is working normally again.",
    )  # fmt: skip
    assert words(incident(), event("resolved", None, "carol")) == (
        "resolved", "This incident has been resolved.",
    )  # fmt: skip
