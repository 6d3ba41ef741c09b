"""The admin API: sites and incidents."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from uptimeguard.cluster.views import nodes_report
from uptimeguard.incidents.errors import NotFound
from uptimeguard.incidents.views import event_dict, incident_dict, iso, pause_dicts
from uptimeguard.storage.repository import INCIDENT_STATUSES
from uptimeguard.web.context import CONTEXT
from uptimeguard.web.errors import BadRequest
from uptimeguard.web.inputs import Line, Text, ascii_int, check_query_text, read_json
from uptimeguard.wording import in_our_words

MAX_TEXT = 10_000
M = TypeVar("M", bound=BaseModel)


# The request bodies: what `parse_body` validates with, and what the OpenAPI document
# (`web.openapi`) is generated from, so the two cannot disagree.


class OpenIncidentBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    customer: Line = Field(min_length=1, max_length=64)
    site: Line | None = Field(default=None, min_length=1, max_length=64)
    severity: Line = Field(min_length=1, max_length=64)
    summary: Text = Field(min_length=1, max_length=MAX_TEXT)
    by: Line = Field(default="api", min_length=1, max_length=128)


class WorkBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    by: Line = Field(min_length=1, max_length=128)
    note: Text | None = Field(default=None, max_length=MAX_TEXT)


class PauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    by: Line = Field(min_length=1, max_length=128)
    reason: Text = Field(min_length=1, max_length=MAX_TEXT)


class ResumeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    by: Line = Field(min_length=1, max_length=128)


class NoteBody(WorkBody):
    note: Text = Field(min_length=1, max_length=MAX_TEXT)
    # True: the note is an update for customers and shows on the public status page.
    public: StrictBool = False


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The JSON body as `model`, or BadRequest naming the first field at fault, in our words."""
    raw = await read_json(request)
    if not isinstance(raw, dict):
        raise BadRequest("body must be a JSON object")
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        if first["type"] == "extra_forbidden":
            expected = ", ".join(model.model_fields)
            raise BadRequest(f"{field}: not a field of this body; expected: {expected}") from None
        raise BadRequest(f"{field}: {in_our_words(first)}") from None


def incident_id(request: web.Request) -> int:
    text = request.match_info["id"]
    number = ascii_int(text)
    if number is None:
        raise NotFound(f"no incident {text!r}")
    return number


def check_query(request: web.Request, allowed: tuple[str, ...] = ()) -> None:
    """Refuse query parameters the route does not take, so a typo is not silently ignored."""
    for name in request.query:
        if name not in allowed:
            expected = f"; expected: {', '.join(allowed)}" if allowed else ""
            raise BadRequest(f"unknown query parameter {name!r}{expected}")


async def list_sites(request: web.Request) -> web.Response:
    check_query(request)
    context = request.app[CONTEXT]
    open_ids = {
        (row.customer, row.site): row.id
        for row in await context.store.incidents(unresolved=True, limit=100_000)
    }
    monitor = context.monitor
    # With several nodes this one probes only its share: the others' sites are read from the
    # state rows their nodes keep for this location.
    others = await context.store.site_states(monitor.location) if monitor.sharded else {}
    sites = []
    for key, live in monitor.sites.items():
        row = others.get(key) if key not in monitor.scheduler else None
        if row is not None:
            state, outcome, status = row.state, row.last_outcome, row.last_status_code
            checked, error = row.last_checked_at, row.last_error
        else:
            state, outcome, status = live.tracker.state, live.last_outcome, live.last_status_code
            checked = live.last_checked_at
            error = live.last_error
        sites.append(
            {
                "customer": live.ref.customer.id,
                "id": live.ref.site.id,
                "url": live.ref.site.url,
                "state": state,
                "last_outcome": outcome,
                "last_status_code": status,
                "last_checked": iso(checked),
                "last_error": error,
                "open_incident": open_ids.get(key),
            }
        )
    return web.json_response({"sites": sites})


async def list_incidents(request: web.Request) -> web.Response:
    check_query(request, ("status", "customer"))
    context = request.app[CONTEXT]
    status = request.query.get("status")
    if status is not None and status not in INCIDENT_STATUSES:
        raise BadRequest(f"status: expected one of {', '.join(INCIDENT_STATUSES)}")
    customer = check_query_text(request, "customer")
    rows = await context.store.incidents(status=status, customer=customer)
    return web.json_response({"incidents": [incident_dict(row) for row in rows]})


async def get_incident(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    number = incident_id(request)
    row = await context.store.incident(number)
    if row is None:
        raise NotFound(f"no incident {number}")
    body: dict[str, Any] = incident_dict(row)
    pauses = pause_dicts(await context.store.pauses(number), context.clock.now())
    body["sla"]["paused_seconds"] = sum(p["seconds"] for p in pauses)
    body["pauses"] = pauses
    body["timeline"] = [event_dict(event) for event in await context.store.events(number)]
    return web.json_response(body)


async def open_incident(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    body = await parse_body(request, OpenIncidentBody)
    if body.customer not in {c.id for c in context.incidents.config.customers}:
        raise BadRequest(f"customer: unknown customer {body.customer!r}")
    row = await context.incidents.open_manual(
        body.customer, body.site, body.severity, body.summary, context.clock.now(), by=body.by
    )
    return web.json_response(incident_dict(row), status=201)


async def ack_incident(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    number = incident_id(request)
    body = await parse_body(request, WorkBody)
    row = await context.incidents.acknowledge(number, body.by, context.clock.now(), body.note)
    return web.json_response(incident_dict(row))


async def resolve_incident(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    number = incident_id(request)
    body = await parse_body(request, WorkBody)
    row = await context.incidents.resolve(number, body.by, context.clock.now(), body.note)
    return web.json_response(incident_dict(row))


async def pause_incident(request: web.Request) -> web.Response:
    """Stop the SLA clock (waiting on the customer): 409 when resolved or already paused."""
    context = request.app[CONTEXT]
    number = incident_id(request)
    body = await parse_body(request, PauseBody)
    row = await context.incidents.pause(number, body.by, body.reason, context.clock.now())
    return web.json_response(incident_dict(row))


async def resume_incident(request: web.Request) -> web.Response:
    """Restart the SLA clock: deadlines move on by the paused time; 409 when not paused."""
    context = request.app[CONTEXT]
    number = incident_id(request)
    body = await parse_body(request, ResumeBody)
    row = await context.incidents.resume(number, body.by, context.clock.now())
    return web.json_response(incident_dict(row))


async def note_incident(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    number = incident_id(request)
    body = await parse_body(request, NoteBody)
    row = await context.incidents.add_note(
        number, body.by, body.note, context.clock.now(), public=body.public
    )
    return web.json_response(incident_dict(row), status=201)


# -- nodes (several nodes on PostgreSQL; one on SQLite) ----------------------------------------


async def list_nodes(request: web.Request) -> web.Response:
    check_query(request)
    return web.json_response(await nodes_report(request.app[CONTEXT].store.engine))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/sites", list_sites)
    app.router.add_get("/api/v1/incidents", list_incidents)
    app.router.add_post("/api/v1/incidents", open_incident)
    app.router.add_get("/api/v1/incidents/{id}", get_incident)
    app.router.add_post("/api/v1/incidents/{id}/ack", ack_incident)
    app.router.add_post("/api/v1/incidents/{id}/resolve", resolve_incident)
    app.router.add_post("/api/v1/incidents/{id}/notes", note_incident)
    app.router.add_post("/api/v1/incidents/{id}/pause", pause_incident)
    app.router.add_post("/api/v1/incidents/{id}/resume", resume_incident)
    app.router.add_get("/api/v1/nodes", list_nodes)
