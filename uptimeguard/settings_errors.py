"""Settings problems in our words: which flag or variable, what was wrong, what to write.

pydantic's own wording ("Input should be ...", "Value error, ...") never reaches a person.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

ENV_PREFIX = "UPTIMEGUARD_"
# Settings that a command-line flag can also give.
FLAGS = {
    "config": "--config",
    "database_url": "--database",
    "listen": "--listen",
    "node": "--node",
    "location": "--location",
}
_SECRET = ("token", "password", "secret")
_CHOICES = re.compile(r"^\^\(([\w|]+)\)\$$")


def setting_name(field: str, from_flags: Mapping[str, Any]) -> str:
    """The flag that set `field`, or its environment variable."""
    if field in from_flags and field in FLAGS:
        return FLAGS[field]
    return ENV_PREFIX + field.upper()


def _words(detail: ErrorDetails) -> str:
    kind, ctx = detail["type"], detail.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "use a whole number"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return "use a number"
    if kind in ("bool_parsing", "bool_type"):
        return "use true or false"
    if kind == "greater_than_equal":
        return f"use {ctx['ge']} or more"
    if kind == "greater_than":
        return f"use more than {ctx['gt']}"
    if kind == "less_than_equal":
        return f"use {ctx['le']} or less"
    if kind == "less_than":
        return f"use less than {ctx['lt']}"
    if kind == "string_pattern_mismatch":
        choices = _CHOICES.match(str(ctx.get("pattern", "")))
        if choices:
            return "use one of: " + ", ".join(choices.group(1).split("|"))
    return "not a value this setting takes"


def describe_settings_error(error: ValidationError, from_flags: Mapping[str, Any]) -> str:
    """One line for the first problem: `NAME: 'value': what to write`."""
    detail = error.errors()[0]
    field = str(detail["loc"][0]) if detail["loc"] else "settings"
    name = setting_name(field, from_flags)
    words = _words(detail)
    value = detail.get("input")
    if detail["type"] == "value_error" or any(s in field for s in _SECRET):
        return f"{name}: {words}"  # our own messages quote the value where it helps
    return f"{name}: bad value {str(value)!r}: {words}"
