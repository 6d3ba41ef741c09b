"""The one definition of a public update: what is public, in words that never change later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from status_support import LEAKY_CHECKS

from uptimeguard.config import load_config_text
from uptimeguard.incidents.service import IncidentService
from uptimeguard.status import updates
from uptimeguard.status.updates import public_update
from uptimeguard.storage.models import IncidentEventRow, IncidentRow
from uptimeguard.storage.repository import Store

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


async def test_the_history_is_not_rewritten_by_an_upgrade(
    store: Store, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The words of each update are stored when it is posted: an upgrade that changes the
    wording, and a checks file that renames the site, leave the history as it was told."""
    config = load_config_text(LEAKY_CHECKS, path="checks.yaml")
    service = IncidentService(store, config)
    now = clock.now()
    row = await service.site_failing("acme", "www", "down", now)
    assert row is not None
    await service.acknowledge(row.id, "alice", now + timedelta(minutes=1))
    await service.add_note(row.id, "carol", "Fixing it.", now + timedelta(minutes=2), public=True)
    await service.resolve(row.id, "monitor", now + timedelta(minutes=3))
    as_posted = [
        ("investigating", "We are investigating: Acme website is not responding."),
        ("investigating", "An engineer is working on it."),
        ("update", "Fixing it."),
        ("resolved", "Acme website is working normally again."),
    ]

    # The next release words things differently, and the site has been renamed since.
    monkeypatch.setitem(updates.CAUSE_WORDS, "down", "is unavailable")
    renamed = {"www": "Acme shop"}
    incident = await store.incident(row.id)
    assert incident is not None
    events = await store.events(row.id)
    told = [(u.status, u.message) for u in updates.public_updates(incident, events, renamed)]
    assert told == as_posted
    # A brand-new entry gets the new words: only the history is frozen.
    fresh = IncidentEventRow(id=99, incident_id=row.id, at=now, kind="opened",
                             data={"cause": "down"})  # fmt: skip
    assert words(incident, fresh) == (
        "investigating",
        "We are investigating: Acme website is unavailable.",
    )
