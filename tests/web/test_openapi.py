"""The OpenAPI document says what the API accepts: bodies generated from the models the
handlers validate with, checked here against the models on the same bodies."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs  # schemathesis's validator
import pytest
from pydantic import BaseModel, ValidationError

from uptimeguard.web.api import NoteBody, OpenIncidentBody, PauseBody, ResumeBody, WorkBody
from uptimeguard.web.openapi import DOCUMENT

ROUTES: dict[str, type[BaseModel]] = {
    "/api/v1/incidents": OpenIncidentBody,
    "/api/v1/incidents/{id}/ack": WorkBody,
    "/api/v1/incidents/{id}/resolve": WorkBody,
    "/api/v1/incidents/{id}/pause": PauseBody,
    "/api/v1/incidents/{id}/resume": ResumeBody,
    "/api/v1/incidents/{id}/notes": NoteBody,
}
SAMPLES: list[dict[str, Any]] = [
    {"by": "alice"},
    {"by": "alice", "note": None},
    {"by": "alice", "note": "on it"},
    {"by": "alice", "note": ""},
    {"by": "alice", "note": "x" * 10_001},
    {"by": ""},
    {"by": "a" * 129},
    {"by": None},
    {"by": 5},
    {"note": "no one"},
    {"by": "alice", "surprise": 1},
    {"by": "alice", "reason": "waiting on Acme"},
    {"by": "alice", "reason": None},
    {"by": "alice", "note": "public", "public": True},
    {"by": "alice", "note": "public", "public": None},
    {"customer": "acme", "severity": "query", "summary": "Slow"},
    {"customer": "acme", "severity": "query", "summary": "Slow", "site": None},
    {"customer": "acme", "severity": "query", "summary": "Slow", "site": "www"},
    {"customer": "acme", "severity": "query", "summary": "Slow", "site": ""},
    {"customer": "acme", "severity": "query", "summary": None},
    {"customer": "acme", "severity": "query", "summary": "Slow", "by": "desk"},
]


def json_schema(openapi: Any) -> Any:
    """OpenAPI 3.0's `nullable` as JSON Schema says it, for the validator."""
    if isinstance(openapi, list):
        return [json_schema(item) for item in openapi]
    if not isinstance(openapi, dict):
        return openapi
    out = {k: json_schema(v) for k, v in openapi.items() if k != "nullable"}
    if openapi.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def documented(path: str) -> dict[str, Any]:
    body = DOCUMENT["paths"][path]["post"]["requestBody"]
    schema: dict[str, Any] = body["content"]["application/json"]["schema"]
    return schema


@pytest.mark.parametrize("path", list(ROUTES))
def test_the_document_accepts_exactly_what_the_model_does(path: str):
    model = ROUTES[path]
    validator = jsonschema_rs.validator_for(json_schema(documented(path)))
    for sample in SAMPLES:
        try:
            model.model_validate(copy.deepcopy(sample))
            accepted = True
        except ValidationError:
            accepted = False
        assert validator.is_valid(sample) is accepted, (path, sample)


def test_a_null_note_is_documented_as_nullable():
    for path in ("/api/v1/incidents/{id}/ack", "/api/v1/incidents/{id}/resolve"):
        note = documented(path)["properties"]["note"]
        assert note["type"] == "string" and note["nullable"] is True
        assert "anyOf" not in note and "title" not in note


def test_a_state_that_forbids_it_is_documented_as_409():
    for action in ("ack", "resolve", "pause", "resume"):
        responses = DOCUMENT["paths"][f"/api/v1/incidents/{{id}}/{action}"]["post"]["responses"]
        assert "409" in responses, action
