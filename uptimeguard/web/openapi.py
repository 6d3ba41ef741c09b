"""The admin API described as OpenAPI 3.0, served at `/api/v1/openapi.json`.

Request bodies are generated from the pydantic models the handlers validate with
(`api.OpenIncidentBody`, `WorkBody`, ...): what is accepted is what is documented (a `note`
that may be null is `nullable`). Responses are described here, beside the handlers; the
schemathesis test in `tests/web` fuzzes the running API against this document, so a handler
and its description cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from uptimeguard.web.api import NoteBody, OpenIncidentBody, PauseBody, ResumeBody, WorkBody

_TIME = {"type": "string", "format": "date-time", "nullable": True}
_ERROR = {
    "description": "error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            }
        }
    },
}


def openapi_schema(schema: Any) -> Any:
    """A pydantic (JSON Schema 2020-12) schema as OpenAPI 3.0 says it: `anyOf` with `null`
    becomes `nullable`, `const` a one-value `enum`, and the generated titles go."""
    if isinstance(schema, list):
        return [openapi_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: openapi_schema(v) for k, v in schema.items() if k != "title"}
    options = out.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        del out["anyOf"]
        out.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
        out["nullable"] = True
    if "const" in out:
        out["enum"] = [out.pop("const")]
    return out


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The request body `model` validates, as an OpenAPI 3.0 schema."""
    schema: dict[str, Any] = openapi_schema(model.model_json_schema())
    return schema


def _json(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_SLA = {
    "type": "object",
    "required": ["response_due", "resolution_due", "response_breached", "resolution_breached"],
    "properties": {
        "plan": {"type": "string"},
        "clock_starts": _TIME,
        "response_due": _TIME,
        "resolution_due": _TIME,
        "response_breached": {"type": "boolean"},
        "resolution_breached": {"type": "boolean"},
        "response_breached_at": _TIME,
        "resolution_breached_at": _TIME,
        "paused_since": {**_TIME, "description": "The SLA clock is stopped since then."},
        "paused_seconds": {"type": "integer", "description": "One incident only: time paused."},
    },
}
_PAUSE = {
    "type": "object",
    "required": ["started_at", "ended_at", "by", "reason", "resumed_by", "seconds"],
    "properties": {
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": _TIME,
        "by": {"type": "string"},
        "reason": {"type": "string"},
        "resumed_by": {"type": "string", "nullable": True},
        "seconds": {"type": "integer"},
    },
}
_INCIDENT: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "customer",
        "site",
        "severity",
        "cause",
        "status",
        "opened_at",
        "acknowledged_at",
        "resolved_at",
        "held_over",
        "sla",
    ],
    "properties": {
        "id": {"type": "integer"},
        "customer": {"type": "string"},
        "site": {"type": "string", "nullable": True},
        "severity": {"type": "string"},
        "cause": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "acknowledged", "resolved"]},
        "summary": {"type": "string"},
        "source": {"type": "string"},
        "opened_at": {"type": "string", "format": "date-time"},
        "acknowledged_at": _TIME,
        "acknowledged_by": {"type": "string", "nullable": True},
        "resolved_at": _TIME,
        "resolved_by": {"type": "string", "nullable": True},
        "held_over": {"type": "boolean"},
        "cover": {
            "type": "object",
            "nullable": True,
            "description": "Opened during the customer's ad-hoc cover: worked under its plan.",
            "properties": {"period": {"type": "string"}, "plan": {"type": "string"}},
        },
        "sla": _SLA,
    },
}
_EVENT = {
    "type": "object",
    "required": ["at", "kind", "message"],
    "properties": {
        "at": {"type": "string", "format": "date-time"},
        "kind": {"type": "string"},
        "by": {"type": "string", "nullable": True},
        "message": {"type": "string"},
        "data": {"type": "object"},
    },
}
_SITE = {
    "type": "object",
    "required": [
        "customer",
        "id",
        "url",
        "state",
        "last_outcome",
        "last_status_code",
        "last_checked",
        "open_incident",
    ],
    "properties": {
        "customer": {"type": "string"},
        "id": {"type": "string"},
        "url": {"type": "string"},
        "state": {"type": "string", "enum": ["up", "down", "degraded", "unknown"]},
        "last_outcome": {"type": "string", "nullable": True},
        "last_status_code": {"type": "integer", "nullable": True},
        "last_checked": _TIME,
        "last_error": {"type": "string", "nullable": True},
        "open_incident": {"type": "integer", "nullable": True},
    },
}
_WORK = body_schema(WorkBody)
_PAUSE_BODY = body_schema(PauseBody)
_RESUME_BODY = body_schema(ResumeBody)
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_AUTH_ERRORS = {"400": _ERROR, "401": _ERROR, "404": _ERROR, "413": _ERROR}


def _work(
    summary: str, body: dict[str, Any], created: bool = False, conflict: bool = False
) -> dict[str, Any]:
    errors = {**_AUTH_ERRORS, "409": _ERROR} if conflict else _AUTH_ERRORS
    return {
        "post": {
            "summary": summary,
            "parameters": [_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {("201" if created else "200"): _json(_INCIDENT), **errors},
        }
    }


DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "uptimeguard admin API",
        "version": "1",
        "description": "Sites and incidents. Every route needs `Authorization: Bearer <token>`.",
    },
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/sites": {
            "get": {
                "summary": "Every site and its state now",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["sites"],
                            "properties": {"sites": {"type": "array", "items": _SITE}},
                        }
                    ),
                    "401": _ERROR,
                },
            }
        },
        "/api/v1/incidents": {
            "get": {
                "summary": "Incidents, newest first",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["open", "acknowledged", "resolved"]},
                    },
                    {
                        "name": "customer",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["incidents"],
                            "properties": {"incidents": {"type": "array", "items": _INCIDENT}},
                        }
                    ),
                    "400": _ERROR,
                    "401": _ERROR,
                },
            },
            "post": {
                "summary": "Open an incident by hand (a customer's report)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": body_schema(OpenIncidentBody)}},
                },
                "responses": {"201": _json(_INCIDENT), **_AUTH_ERRORS},
            },
        },
        "/api/v1/incidents/{id}": {
            "get": {
                "summary": "One incident with its timeline",
                "parameters": [_ID],
                "responses": {
                    "200": _json(
                        {
                            **_INCIDENT,
                            "properties": {
                                **_INCIDENT["properties"],
                                "pauses": {"type": "array", "items": _PAUSE},
                                "timeline": {"type": "array", "items": _EVENT},
                            },
                        }
                    ),
                    "401": _ERROR,
                    "404": _ERROR,
                },
            }
        },
        "/api/v1/incidents/{id}/ack": _work(
            "Acknowledge (409 when resolved)", _WORK, conflict=True
        ),
        "/api/v1/incidents/{id}/resolve": _work(
            "Resolve (409 when resolved already)", _WORK, conflict=True
        ),
        "/api/v1/incidents/{id}/pause": _work(
            "Pause the SLA clock (409 when resolved or already paused)", _PAUSE_BODY, conflict=True
        ),
        "/api/v1/incidents/{id}/resume": _work(
            "Resume the SLA clock: deadlines move on by the paused time (409 when not paused)",
            _RESUME_BODY,
            conflict=True,
        ),
        "/api/v1/incidents/{id}/notes": _work("Add a note", body_schema(NoteBody), created=True),
    },
}

_NODE = {
    "type": "object",
    "required": ["node", "location", "state", "alive", "leader", "started_at", "last_heartbeat"],
    "properties": {
        "node": {"type": "string"},
        "location": {"type": "string"},
        "state": {"type": "string", "enum": ["alive", "dead", "stopped"]},
        "alive": {"type": "boolean"},
        "leader": {"type": "boolean"},
        "started_at": {"type": "string", "format": "date-time"},
        "last_heartbeat": {"type": "string", "format": "date-time"},
        "seconds_since_heartbeat": {"type": "number"},
        "timeout_seconds": {"type": "number"},
        "stopped_at": _TIME,
        "sites_owned": {"type": "integer"},
        "sites_owned_last": {"type": "integer"},
        "degraded": {"type": "boolean"},
        "host": {"type": "string"},
        "pid": {"type": "integer"},
        "version": {"type": "string"},
    },
}
_LOCATION = {
    "type": "object",
    "required": ["location", "live_nodes", "degraded"],
    "properties": {
        "location": {"type": "string"},
        "live_nodes": {"type": "integer"},
        "degraded": {"type": "boolean"},
        "degraded_since": _TIME,
    },
}
DOCUMENT["paths"]["/api/v1/nodes"] = {
    "get": {
        "summary": "Every node (alive, dead, stopped) and location: leader, sites, degraded",
        "responses": {
            "200": _json(
                {
                    "type": "object",
                    "required": ["now", "nodes", "locations"],
                    "properties": {
                        "now": {"type": "string", "format": "date-time"},
                        "nodes": {"type": "array", "items": _NODE},
                        "locations": {"type": "array", "items": _LOCATION},
                    },
                }
            ),
            "401": _ERROR,
        },
    }
}


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(DOCUMENT)
