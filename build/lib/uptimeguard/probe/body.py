"""What a body must and must not hold: `body_contains`, `body_not_contains`, `body_matches`
and `json` expectations, judged on the first `MATCH_BYTES` of the body.

Text is searched as UTF-8 bytes first, then in the charset the answer declared; a regular
expression runs on the body decoded (declared charset, else UTF-8, undecodable bytes
replaced). JSON is parsed from the same bytes: a JSON body longer than `MATCH_BYTES` cannot be
judged and fails as not JSON.
"""

from __future__ import annotations

import json
from typing import Any

from uptimeguard.config.models import Expect, JsonExpect

MATCH_BYTES = 1 << 20  # 1 MiB: expectations look at no more of a body
_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def body_problem(body: bytes, charset: str | None, expect: Expect) -> str | None:
    """Why the body fails `expect` (one line), or None when it passes."""
    read = len(body)
    if expect.body_contains and not contains(body, expect.body_contains, charset):
        return f"body does not contain {expect.body_contains!r} (read {read} bytes)"
    if expect.body_not_contains and contains(body, expect.body_not_contains, charset):
        return f"body contains {expect.body_not_contains!r}"
    if expect.body_matches is not None and not expect.body_matches.search(_text(body, charset)):
        return f"body does not match {expect.body_matches.pattern!r} (read {read} bytes)"
    if expect.json:
        return _json_problem(body, charset, expect.json)
    return None


def contains(body: bytes, needle: str, charset: str | None) -> bool:
    """Whether `needle` is in the body: as UTF-8 bytes, or in the declared charset."""
    if needle.encode() in body:
        return True
    if charset and charset.lower().replace("_", "-") not in _UTF8:
        try:
            return needle in body.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            return False
    return False


def _text(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


_MISSING = object()


def _json_problem(body: bytes, charset: str | None, wanted: tuple[JsonExpect, ...]) -> str | None:
    try:
        document = json.loads(_text(body, charset))
    except ValueError as error:
        return f"body is not JSON: {error}"[:200]
    for each in wanted:
        value = follow(document, each.steps)
        if value is _MISSING:
            return f"JSON has no {each.path}"
        if each.equals is not None and as_text(value) != each.equals:
            return f"JSON {each.path} is {shown(value)}, expected {each.equals!r}"
    return None


def follow(document: Any, steps: tuple[str | int, ...]) -> Any:
    """The value at `steps`, or `_MISSING`."""
    value = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return _MISSING
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return _MISSING
            value = value[step]
    return value


def as_text(value: Any) -> str:
    """A JSON value as `equals` compares it: a string as itself, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def shown(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
