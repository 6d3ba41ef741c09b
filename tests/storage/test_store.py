"""The repository contract, run on SQLite and (when configured) PostgreSQL."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from uptimeguard.storage.repository import NewEvent, Store

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def result(site: str, at: datetime, outcome: str = "up", maintenance: bool = False) -> dict:
    return {
        "customer": "acme",
        "site": site,
        "checked_at": at,
        "outcome": outcome,
        "status_code": 200 if outcome == "up" else 500,
        "total_seconds": 0.05,
        "error": None,
        "in_maintenance": maintenance,
    }


def incident_fields(site: str | None = "www", **extra) -> dict:
    fields = {
        "customer": "acme",
        "site": site,
        "plan": "standard",
        "severity": "bug_fix",
        "cause": "http_5xx",
        "status": "open",
        "source": "monitor",
        "summary": "x",
        "opened_at": T0,
        "held_over": False,
        "clock_starts_at": T0,
        "response_due": T0 + timedelta(hours=2),
        "resolution_due": T0 + timedelta(hours=10),
    }
    fields.update(extra)
    return fields


async def test_results_round_trip_in_utc(store: Store):
    rows = [result("www", T0 + timedelta(minutes=i)) for i in range(10)]
    await store.insert_results(rows)
    stored = await store.results_for_site("acme", "www")
    assert len(stored) == 10
    assert stored[0].checked_at == T0 + timedelta(minutes=9)
    assert stored[0].checked_at.tzinfo is not None


async def test_rollup_counts_sum_days_per_site(store: Store):
    def rollup(site: str, day: date, good: int, total: int) -> dict[str, object]:
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        return {"customer": "acme", "site": site, "day": day, "good": good, "total": total,
                "maintenance": 0, "accounted_to": start}  # fmt: skip

    d0 = date(2026, 3, 1)
    await store.upsert_rollups(
        [rollup("www", d0, 10, 12), rollup("www", d0 + timedelta(days=1), 5, 5),
         rollup("www", d0 + timedelta(days=2), 1, 4), rollup("api", d0, 3, 3)]
    )  # fmt: skip
    assert await store.rollup_counts(d0) == {("acme", "www"): (16, 21), ("acme", "api"): (3, 3)}
    one_day = await store.rollup_counts(d0 + timedelta(days=1), d0 + timedelta(days=1))
    assert one_day == {("acme", "www"): (5, 5)}
    assert await store.rollup_counts(d0 + timedelta(days=3)) == {}


async def test_site_states_upsert(store: Store):
    state = {
        "customer": "acme",
        "site": "www",
        "state": "down",
        "last_outcome": "refused",
        "last_status_code": None,
        "last_checked_at": T0,
        "last_error": "refused",
        "failures": 3,
        "successes": 0,
        "tls_expires_at": None,
    }
    await store.upsert_site_states([state])
    await store.upsert_site_states([{**state, "state": "up", "failures": 0, "successes": 2}])
    states = await store.site_states()
    assert states[("acme", "www")].state == "up"
    assert states[("acme", "www")].successes == 2


async def test_one_open_incident_per_site(store: Store):
    first = await store.create_incident(incident_fields(), NewEvent("opened", T0))
    with pytest.raises(IntegrityError):
        await store.create_incident(incident_fields(), NewEvent("opened", T0))
    # Incidents with no site (a customer's report) are not limited.
    await store.create_incident(incident_fields(site=None), NewEvent("opened", T0))
    await store.create_incident(incident_fields(site=None), NewEvent("opened", T0))
    await store.update_incident(first.id, {"resolved_at": T0, "status": "resolved"})
    again = await store.create_incident(incident_fields(), NewEvent("opened", T0))
    assert again.id != first.id


async def test_conditional_update_happens_once(store: Store):
    incident = await store.create_incident(incident_fields(), NewEvent("opened", T0))
    won = await store.update_incident(
        incident.id,
        {"acknowledged_at": T0, "status": "acknowledged"},
        [NewEvent("acknowledged", T0, by="alice")],
        only_if={"acknowledged_at": None},
    )
    lost = await store.update_incident(
        incident.id,
        {"acknowledged_at": T0 + timedelta(minutes=1)},
        [NewEvent("acknowledged", T0, by="bob")],
        only_if={"acknowledged_at": None},
    )
    assert won is not None and won.status == "acknowledged"
    assert lost is None
    events = await store.events(incident.id)
    assert [(e.kind, e.by) for e in events] == [("opened", None), ("acknowledged", "alice")]


async def test_incident_filters(store: Store):
    a = await store.create_incident(incident_fields("a"), NewEvent("opened", T0))
    await store.create_incident(incident_fields("b", customer="other"), NewEvent("opened", T0))
    await store.update_incident(a.id, {"status": "resolved", "resolved_at": T0})
    assert [i.site for i in await store.incidents(status="resolved")] == ["a"]
    assert [i.site for i in await store.incidents(customer="other")] == ["b"]
    assert [i.site for i in await store.incidents(unresolved=True)] == ["b"]


async def test_prune(store: Store):
    await store.insert_results([result("www", T0 - timedelta(days=40)), result("www", T0)])
    assert await store.prune_results(T0 - timedelta(days=30)) == 1
    assert len(await store.results_for_site("acme", "www")) == 1
