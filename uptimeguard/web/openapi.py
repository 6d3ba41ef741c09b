"""The admin API described as OpenAPI 3.0, served at `/api/v1/openapi.json`.

Kept beside the handlers in `api.py`; the schemathesis test in `tests/web` fuzzes the running
API against this document, so a handler and its description cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

_TEXT = {"type": "string", "minLength": 1}
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
_WORK: dict[str, Any] = {
    "type": "object",
    "required": ["by"],
    "additionalProperties": False,
    "properties": {
        "by": {**_TEXT, "maxLength": 128},
        "note": {"type": "string", "maxLength": 10_000},
    },
}
_PAUSE_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["by", "reason"],
    "additionalProperties": False,
    "properties": {
        "by": {**_TEXT, "maxLength": 128},
        "reason": {**_TEXT, "maxLength": 10_000},
    },
}
_RESUME_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["by"],
    "additionalProperties": False,
    "properties": {"by": {**_TEXT, "maxLength": 128}},
}
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
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["customer", "severity", "summary"],
                                "additionalProperties": False,
                                "properties": {
                                    "customer": {**_TEXT, "maxLength": 64},
                                    "site": {**_TEXT, "maxLength": 64, "nullable": True},
                                    "severity": {**_TEXT, "maxLength": 64},
                                    "summary": {**_TEXT, "maxLength": 10_000},
                                    "by": {**_TEXT, "maxLength": 128},
                                },
                            }
                        }
                    },
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
        "/api/v1/incidents/{id}/ack": _work("Acknowledge", _WORK),
        "/api/v1/incidents/{id}/resolve": _work("Resolve", _WORK),
        "/api/v1/incidents/{id}/pause": _work(
            "Pause the SLA clock (409 when resolved or already paused)", _PAUSE_BODY, conflict=True
        ),
        "/api/v1/incidents/{id}/resume": _work(
            "Resume the SLA clock: deadlines move on by the paused time (409 when not paused)",
            _RESUME_BODY,
            conflict=True,
        ),
        "/api/v1/incidents/{id}/notes": _work(
            "Add a note",
            {
                **_WORK,
                "required": ["by", "note"],
                "properties": {
                    **_WORK["properties"],
                    "note": {**_TEXT, "maxLength": 10_000},
                    "public": {"type": "boolean", "default": False},
                },
            },
            created=True,
        ),
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
