"""pydantic's validation errors in our words ("use 1 or more", "must not be empty"), so its
own wording ("Input should be ...", "Value error, ...") never reaches a person."""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import ErrorDetails

# Error types of our own (PydanticCustomError): their message is already ours.
OWN_TYPES = frozenset({"control_character"})
_CHOICES = re.compile(r"^\^\(([\w|]+)\)\$$")


def number(value: Any) -> str:
    """`60.0` -> `60`; other values as they are."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def in_our_words(detail: ErrorDetails) -> str:
    """What to write instead, for one of pydantic's error details."""
    kind, ctx = detail["type"], detail.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind in OWN_TYPES:
        return detail["msg"]
    words = {
        "missing": "required",
        "int_parsing": "use a whole number",
        "int_type": "use a whole number",
        "int_from_float": "use a whole number",
        "float_parsing": "use a number",
        "float_type": "use a number",
        "finite_number": "use a number",
        "bool_parsing": "use true or false",
        "bool_type": "use true or false",
        "string_type": "use a string",
        "string_unicode": "use a string",
        "dict_type": "use an object",
        "list_type": "use a list",
    }
    if kind in words:
        return words[kind]
    if kind == "greater_than_equal":
        return f"use {number(ctx['ge'])} or more"
    if kind == "greater_than":
        return f"use more than {number(ctx['gt'])}"
    if kind == "less_than_equal":
        return f"use {number(ctx['le'])} or less"
    if kind == "less_than":
        return f"use less than {number(ctx['lt'])}"
    if kind == "string_too_short":
        least = int(ctx.get("min_length", 1))
        return "must not be empty" if least <= 1 else f"use at least {least} characters"
    if kind == "string_too_long":
        return f"use at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        choices = _CHOICES.match(str(ctx.get("pattern", "")))
        if choices:
            return "use one of: " + ", ".join(choices.group(1).split("|"))
    return "not a value this takes"
