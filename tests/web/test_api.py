"""The admin API: auth, bad input, manual incidents and working them."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from support import TargetSite, free_port

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings

TOKEN = "s3cret-admin-token"
CHECKS = """
calendars:
  office:
    timezone: Europe/London
    hours: {{mon-fri: "08:00-18:00"}}
    holidays: england-and-wales
plans:
  standard:
    calendar: office
    severities:
      mission_critical: {{response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}}
      query: {{response: 8h, resolution: 10d}}
    causes: {{down: mission_critical}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
      - {{id: www, url: "{url}"}}
"""


@pytest.fixture
async def api(tmp_path: Path):
    target = TargetSite()
    await target.start()
    config = load_config_text(CHECKS.format(url=target.url), path="checks.yaml")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'api.db'}",
        listen=f"127.0.0.1:{free_port()}",
        admin_token=TOKEN,
    )
    async with running_daemon(settings, config) as daemon:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession(
            base_url=f"http://127.0.0.1:{daemon.port}", headers=headers
        ) as http:
            yield http
    await target.stop()


async def test_health_and_readiness(api: aiohttp.ClientSession):
    async with api.get("/healthz") as response:
        assert response.status == 200
    async with api.get("/readyz") as response:
        assert response.status == 200 and (await response.json())["ready"] is True


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic czNjcmV0", f"Bearer {TOKEN}x"])
async def test_admin_routes_need_the_token(api: aiohttp.ClientSession, header: str | None):
    headers = {"Authorization": header} if header else {"Authorization": ""}
    for path in ("/api/v1/sites", "/api/v1/incidents", "/api/v1/incidents/1"):
        async with api.get(path, headers=headers) as response:
            assert response.status == 401, path
            assert TOKEN not in await response.text()
    async with api.post("/api/v1/incidents", json={}, headers=headers) as response:
        assert response.status == 401


async def test_sites_listed(api: aiohttp.ClientSession):
    async with api.get("/api/v1/sites") as response:
        body = await response.json()
    (site,) = body["sites"]
    assert site["customer"] == "acme" and site["id"] == "www"
    assert site["state"] in ("unknown", "up")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"severity": "query", "summary": "x"}, "customer"),
        ({"customer": "acme", "summary": "x"}, "severity"),
        ({"customer": "acme", "severity": "query"}, "summary"),
        ({"customer": "acme", "severity": "query", "summary": "x", "bogus": 1}, "bogus"),
        ({"customer": "nobody", "severity": "query", "summary": "x"}, "customer"),
        ({"customer": "acme", "severity": "urgent", "summary": "x"}, "severity"),
        ({"customer": "acme", "site": "nope", "severity": "query", "summary": "x"}, "site"),
        ({"customer": 5, "severity": "query", "summary": "x"}, "customer"),
    ],
)
async def test_bad_bodies_get_400_naming_the_field(api, body, field):
    async with api.post("/api/v1/incidents", json=body) as response:
        assert response.status == 400
        assert field in (await response.json())["error"]
    async with api.get("/api/v1/incidents") as response:
        assert (await response.json())["incidents"] == []


async def test_bad_bodies_are_told_in_our_words(api: aiohttp.ClientSession):
    """One line naming the field and what to write; none of pydantic's own wording."""
    expected = {
        '{"severity": "query", "summary": "x"}': "customer: required",
        '{"customer": "", "severity": "query", "summary": "x"}': "customer: must not be empty",
        '{"customer": 5, "severity": "query", "summary": "x"}': "customer: use a string",
        '{"customer": "acme", "severity": "query", "summary": "x", "bogus": 1}': (
            "bogus: not a field of this body; expected: customer, site, severity, summary, by"
        ),
        '{"customer": "acme", "severity": "query", "summary": "x", "by": "%s"}' % ("b" * 129): (
            "by: use at most 128 characters"
        ),
    }
    for body, error in expected.items():
        async with api.post(
            "/api/v1/incidents", data=body, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 400
            assert await response.json() == {"error": error}
    async with api.post(
        "/api/v1/incidents", json={"customer": "acme", "severity": "query", "summary": "x"}
    ) as response:
        number = (await response.json())["id"]
    for body, error in (
        ({"by": "alice", "note": 5}, "note: use a string"),
        ({"by": "alice", "note": "x", "public": "yes"}, "public: use true or false"),
    ):
        path = "notes" if "public" in body else "ack"
        async with api.post(f"/api/v1/incidents/{number}/{path}", json=body) as response:
            assert response.status == 400
            assert await response.json() == {"error": error}
    # A null note is accepted, as the OpenAPI document says.
    async with api.post(
        f"/api/v1/incidents/{number}/ack", json={"by": "alice", "note": None}
    ) as response:
        assert response.status == 200


async def test_garbage_bodies(api: aiohttp.ClientSession):
    for data in (b"not json", b"[1,2]", b"", b"\xff\xfe"):
        async with api.post("/api/v1/incidents", data=data) as response:
            assert response.status == 400
    async with api.post("/api/v1/incidents", data=b"x" * 300_000) as response:
        assert response.status == 413


async def test_unknown_ids_404(api: aiohttp.ClientSession):
    for path in ("/api/v1/incidents/999", "/api/v1/incidents/abc"):
        async with api.get(path) as response:
            assert response.status == 404
    async with api.post("/api/v1/incidents/999/ack", json={"by": "alice"}) as response:
        assert response.status == 404


async def test_manual_incident_worked_to_the_end(api: aiohttp.ClientSession):
    body = {"customer": "acme", "site": "www", "severity": "query", "summary": "Cannot log in"}
    async with api.post("/api/v1/incidents", json=body) as response:
        assert response.status == 201
        incident = await response.json()
    assert incident["status"] == "open" and incident["source"] == "manual"
    assert incident["sla"]["response_due"] is not None
    number = incident["id"]

    async with api.post("/api/v1/incidents", json=body) as response:
        assert response.status == 400  # one open incident per site

    async with api.post(f"/api/v1/incidents/{number}/ack", json={"by": "alice"}) as response:
        assert (await response.json())["status"] == "acknowledged"
    async with api.post(f"/api/v1/incidents/{number}/notes", json={"by": "alice"}) as response:
        assert response.status == 400  # a note needs its text
    async with api.post(
        f"/api/v1/incidents/{number}/notes", json={"by": "alice", "note": "Looking at the logs"}
    ) as response:
        assert response.status == 201
    async with api.post(
        f"/api/v1/incidents/{number}/resolve", json={"by": "bob", "note": "Password reset"}
    ) as response:
        resolved = await response.json()
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "bob"

    async with api.get(f"/api/v1/incidents/{number}") as response:
        detail = await response.json()
    worked = {"opened", "acknowledged", "note", "resolved"}
    # Paging adds its own entries (who was told); the work done here is in order among them.
    assert [e["kind"] for e in detail["timeline"] if e["kind"] in worked] == [
        "opened",
        "acknowledged",
        "note",
        "resolved",
    ]
    async with api.get("/api/v1/incidents?status=resolved&customer=acme") as response:
        assert [i["id"] for i in (await response.json())["incidents"]] == [number]
    async with api.get("/api/v1/incidents?status=bogus") as response:
        assert response.status == 400
    # Well formed, but the incident's state forbids it: 409, and nothing changes.
    for action in ("ack", "resolve"):
        async with api.post(f"/api/v1/incidents/{number}/{action}", json={"by": "carol"}) as r:
            assert r.status == 409, action
            assert await r.json() == {"error": f"incident {number} is already resolved"}
    async with api.get(f"/api/v1/incidents/{number}") as response:
        after = await response.json()
    assert after["resolved_by"] == "bob" and after["timeline"] == detail["timeline"]


async def test_pause_and_resume_the_sla_clock(api: aiohttp.ClientSession):
    async with api.post(
        "/api/v1/incidents", json={"customer": "acme", "severity": "query", "summary": "Slow"}
    ) as response:
        opened = await response.json()
    number = opened["id"]
    assert opened["sla"]["paused_since"] is None
    path = f"/api/v1/incidents/{number}"
    for body, field in (({"by": "alice"}, "reason"), ({"reason": "x"}, "by"),
                        ({"by": "alice", "reason": ""}, "reason")):  # fmt: skip
        async with api.post(f"{path}/pause", json=body) as response:
            assert response.status == 400 and field in (await response.json())["error"]
    async with api.post(f"{path}/resume", json={"by": "alice"}) as response:
        assert response.status == 409
        assert (await response.json())["error"] == f"incident {number} is not paused"

    pause = {"by": "alice", "reason": "waiting on the customer"}
    async with api.post(f"{path}/pause", json=pause) as response:
        assert response.status == 200
        paused = await response.json()
    assert paused["sla"]["paused_since"] is not None
    assert paused["sla"]["response_due"] is None and paused["sla"]["resolution_due"] is None
    async with api.post(f"{path}/pause", json=pause) as response:
        assert response.status == 409 and "already paused" in (await response.json())["error"]
    async with api.get(path) as response:
        shown = await response.json()
    (entry,) = shown["pauses"]
    assert (entry["by"], entry["reason"], entry["ended_at"]) == (
        "alice", "waiting on the customer", None,
    )  # fmt: skip
    assert [e["kind"] for e in shown["timeline"]][-1] == "paused"

    async with api.post(f"{path}/resume", json={"by": "bob"}) as response:
        assert response.status == 200
        resumed = await response.json()
    assert resumed["sla"]["paused_since"] is None
    # Never earlier than before the pause (in or out of hours, by however little it ran).
    for target in ("response_due", "resolution_due"):
        assert resumed["sla"][target] >= opened["sla"][target]
    async with api.get(path) as response:
        shown = await response.json()
    (entry,) = shown["pauses"]
    assert entry["resumed_by"] == "bob" and entry["ended_at"] is not None
    assert shown["sla"]["paused_seconds"] == entry["seconds"]

    async with api.post(f"{path}/resolve", json={"by": "bob"}) as response:
        assert response.status == 200
    async with api.post(f"{path}/pause", json=pause) as response:
        assert response.status == 409
        assert "resolved incident cannot be paused" in (await response.json())["error"]
    async with api.post("/api/v1/incidents/999/pause", json=pause) as response:
        assert response.status == 404
