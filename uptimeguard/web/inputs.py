"""What every route checks in what a request carries, before anything is stored or looked up.

- Numbers (incident and page ids, counts) are ASCII digits only. `str.isdigit()` is true for
  "²" (which `int()` then refuses) and `int()` takes "١٢" or "１２": neither is an id anyone
  was given.
- Text (a summary, a note, who did it, a filter) carries no control characters and no lone
  surrogates: PostgreSQL refuses NUL outright, SQLite stores it and hands it to every page that
  shows the text, and a lone surrogate cannot be written as UTF-8 at all. Tab and newlines are
  allowed where the text may span lines.
- A JSON body is refused as such (400), also when it nests too deep for the parser.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any

from aiohttp import web
from multidict import MultiDict
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from uptimeguard.web.errors import BadRequest

_ID = re.compile(r"[0-9]{1,18}", re.ASCII)
_LINE_BREAKS = "\t\n\r"


def ascii_int(text: str | None, digits: int = 18) -> int | None:
    """`text` as a number when it is 1..`digits` ASCII digits, else None."""
    if text is None or len(text) > digits or not _ID.fullmatch(text):
        return None
    return int(text)


def forbidden_character(text: str, multiline: bool = False) -> str | None:
    """The first character `text` may not carry, as `U+XXXX`; None when it has none."""
    for char in text:
        if char.isprintable() or char == " " or (multiline and char in _LINE_BREAKS):
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            return f"U+{ord(char):04X}"
    return None


def check_text(name: str, value: str, multiline: bool = False) -> str:
    """`value` unchanged, or BadRequest naming the field and the character to remove."""
    found = forbidden_character(value, multiline)
    if found is not None:
        raise BadRequest(f"{name}: remove the control character {found}")
    return value


def check_query_text(request: web.Request, name: str) -> str | None:
    """The query parameter `name` (None when absent), checked like any other text."""
    value = request.query.get(name)
    return None if value is None else check_text(name, value)


def clean_fields(fields: MultiDict[str]) -> MultiDict[str]:
    """Form fields with each forbidden character replaced by U+FFFD: for Twilio's webhooks,
    where refusing the request would lose the text or keypress it carries."""
    return MultiDict((_replace(key), _replace(value)) for key, value in fields.items())


def _replace(value: str) -> str:
    if forbidden_character(value, multiline=True) is None:
        return value
    return "".join(
        "\ufffd" if forbidden_character(char, multiline=True) else char for char in value
    )


def _validator(multiline: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # pydantic's own check says what it should be
        found = forbidden_character(value, multiline)
        if found is not None:
            raise PydanticCustomError(
                "control_character",
                "remove the control character {found}",
                {"found": found},
            )
        return value

    return check


# For pydantic request bodies: one line of text, or text that may span lines. Checked before
# pydantic's own checks, which strip whitespace (some control characters among it) and refuse
# a lone surrogate in words of their own.
Line = Annotated[str, BeforeValidator(_validator(multiline=False))]
Text = Annotated[str, BeforeValidator(_validator(multiline=True))]


async def read_json(request: web.Request) -> Any:
    """The body parsed as JSON; BadRequest when it is not (bad UTF-8, bad JSON, too deep)."""
    try:
        raw = await request.read()
        return json.loads(raw.decode(request.charset or "utf-8"))
    except (ValueError, LookupError):  # JSONDecodeError, UnicodeDecodeError, unknown charset
        raise BadRequest("body is not valid JSON") from None
    except RecursionError:
        raise BadRequest("body is not valid JSON: nested too deeply") from None
