"""Content negotiation the public pages, the feed and /metrics share.

Conditional requests use aiohttp's own parsing of `If-None-Match` (`request.if_none_match`:
a list of entity tags, or `*`). aiohttp's compression (`enable_compression`) only looks for
the word `gzip` in `Accept-Encoding`, so `gzip;q=0` (RFC 9110: "not acceptable") would still
get gzip; the q-values are read here instead.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.helpers import ETAG_ANY


def not_modified(request: web.Request, etag: str) -> bool:
    """True when `If-None-Match` names `etag` (weakly compared, RFC 9110 13.1.2) or is `*`
    (the resource exists, so any current representation matches)."""
    wanted = request.if_none_match
    if not wanted:
        return False
    value = etag.removeprefix("W/").strip('"')
    return any(tag.value in (ETAG_ANY, value) for tag in wanted)


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0  # a q-value we cannot read: do not take it as a yes
    return 1.0


def accepts_gzip(request: web.BaseRequest) -> bool:
    """Whether the client takes a gzip body: `gzip` (or `x-gzip`) listed with a q-value above
    0, or `*` above 0 with gzip not refused by name."""
    header = ",".join(request.headers.getall(hdrs.ACCEPT_ENCODING, []))
    named: float | None = None
    anything: float | None = None
    for item in header.split(","):
        coding, *parameters = item.split(";")
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            named = max(named or 0.0, _quality(parameters))
        elif coding == "*":
            anything = _quality(parameters)
    if named is not None:
        return named > 0
    return anything is not None and anything > 0
