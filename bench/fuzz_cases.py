"""Hypothesis strategies for `fuzz_routes.py`: one HTTP request for a route of the app.

A case is built from the route alone (its method and its path pattern, as the app's router
holds them), so a route added to the app is fuzzed without a change here. Path variables are
drawn from values the seeded database knows (by the variable's name: `id`, `page_id`, `slug`,
`token`, `score`), from strings matching the variable's own pattern, and from junk; query
strings, headers and bodies from a vocabulary of the names the routes read, mixed with
arbitrary text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from yarl import URL

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Route:
    method: str
    formatter: str  # the path, with {name} for each variable
    variables: tuple[tuple[str, str], ...]  # (name, the regex the router matches it with)

    @property
    def key(self) -> str:
        return f"{self.method} {self.formatter}"


@dataclass(eq=False)  # hashable (by identity): the strategies built for it are cached
class Known:
    """What the seeded database and configuration hold, for values that reach handlers."""

    admin_token: str
    twilio_token: str
    public_url: str
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # route key -> schema
    values: dict[str, list[str]] = field(default_factory=dict)  # path variable -> values
    fields: dict[str, list[str]] = field(default_factory=dict)  # body/query field -> values


@dataclass
class Case:
    method: str
    target: str  # path and query, percent-encoded, as sent on the request line
    headers: list[tuple[str, str]]
    body: bytes | None
    label: str  # what kind of body, for the report of a failure

    def describe(self) -> str:
        body = (self.body or b"")[:300]
        return f"{self.method} {self.target[:300]} headers={self.headers!r} {self.label} {body!r}"


def route_of(method: str, info: dict[str, Any]) -> Route | None:
    """A `Route` from `resource.get_info()` of aiohttp's router; None for kinds not fuzzed."""
    if "path" in info:
        return Route(method, info["path"], ())
    if "formatter" in info:
        return Route(method, info["formatter"], tuple(_variables(info["pattern"].pattern).items()))
    if "prefix" in info:  # a static directory
        return Route(method, info["prefix"].rstrip("/") + "/{filename}", (("filename", ".+"),))
    return None


def _variables(pattern: str) -> dict[str, str]:
    """{name: regex} of each `(?P<name>regex)` group in a route's pattern."""
    found: dict[str, str] = {}
    for match in re.finditer(r"\(\?P<(\w+)>", pattern):
        depth, i, in_class = 1, match.end(), False
        while i < len(pattern) and depth:
            char = pattern[i]
            if char == "\\":
                i += 2
                continue
            if in_class:
                in_class = char != "]"
            elif char == "[":
                in_class = True
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            i += 1
        found[match.group(1)] = pattern[match.end() : i - 1]
    return found


@cache
def rarely(one_in: int) -> st.SearchStrategy[bool]:
    """True one time in `one_in`. (Hypothesis favours the first of a choice and the bounds
    of a range, so `integers(0, n) == 0` would be true far more often than that.)"""
    return st.sampled_from([False] * (one_in - 1) + [True])


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each `weight` times as likely. (`one_of` takes a strategy
    given twice as one.)"""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


# -- text -------------------------------------------------------------------------------------

UNICODE = st.characters(codec="utf-8")  # anything that can be sent: no lone surrogates
CONTROL = st.sampled_from(["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff"])
DIGITS = st.sampled_from(["0", "1", "2", "9", "²", "１", "١", "-1", "+1", "1e3", "9" * 19, "0x1f"])


@cache  # one strategy object per argument: Hypothesis checks each once
def text(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(UNICODE, max_size=max_size),
        st.text(st.characters(codec="ascii"), max_size=max_size),
        st.builds(lambda a, c, b: a + c + b, st.text(max_size=8), CONTROL, st.text(max_size=8)),
        DIGITS,
        st.sampled_from(["", " ", "null", "<script>alert(1)</script>", "%00", "../..", "'\""]),
        st.integers(min_value=0, max_value=300).map(lambda n: "x" * n),
    )


# Latin-1 but DEL: aiohttp's parser refuses DEL and NUL in a header (a 400 before any
# handler), so they come now and then only, below.
LATIN1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")


@cache  # one strategy object per argument: Hypothesis checks each once
@st.composite
def header_text(draw: st.DrawFn, max_size: int = 60) -> str:
    """What http.client can put in a header: latin-1, no line breaks; one in 50 with a NUL
    or DEL, which aiohttp's parser refuses (400) before any handler sees the request."""
    if draw(rarely(50)):
        return draw(st.sampled_from(["a\x00b", "a\x7fb"]))
    return draw(
        st.one_of(
            st.text(LATIN1, max_size=max_size),
            st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=max_size),
            st.text(st.sampled_from("ab \t;,=\"'*"), max_size=12),
        )
    )


# -- the parts of a request -------------------------------------------------------------------


@cache  # one strategy object per argument: Hypothesis checks each once
def _path_value(name: str, regex: str, known: Known) -> st.SearchStrategy[str]:
    choices = [
        st.from_regex(regex, fullmatch=True, alphabet=UNICODE),
        st.text(UNICODE, min_size=1, max_size=30).filter(lambda s: "/" not in s),
        DIGITS,
    ]
    good = known.values.get(name)
    if not good:
        return st.one_of(choices)
    return weighted((6, st.sampled_from(good)), (1, st.one_of(choices)))


@cache  # one strategy object per argument: Hypothesis checks each once
@st.composite
def path(draw: st.DrawFn, route: Route, known: Known) -> str:
    values = {name: draw(_path_value(name, regex, known)) for name, regex in route.variables}
    result = route.formatter.format(**values)
    if draw(rarely(5)):
        mutation = draw(st.sampled_from(["extra", "slash", "double", "upper"]))
        if mutation == "slash":
            result += "/"
        elif mutation == "double":
            result = "/" + result
        elif mutation == "extra":
            result += "/" + draw(text(20))
        else:
            result = result.upper()
    return result


QUERY_NAMES = ["status", "customer", "play", "caller", "name[]", "site", "limit", "format"]


@cache  # one strategy object per argument: Hypothesis checks each once
def query(known: Known) -> st.SearchStrategy[list[tuple[str, str]]]:
    name = st.one_of(st.sampled_from(QUERY_NAMES), text(12))
    value = st.one_of(
        text(30),
        st.sampled_from(known.fields.get("status", []) + known.fields.get("customer", []) or [""]),
    )
    return st.one_of(st.just([]), st.lists(st.tuples(name, value), max_size=4))


@cache  # one strategy object per argument: Hypothesis checks each once
def authorization(known: Known) -> st.SearchStrategy[str | None]:
    token = known.admin_token
    # The right token three times in four, so most cases reach the handlers.
    wrong = st.one_of(
        st.none(),
        st.sampled_from(
            [
                f"bearer  {token}  ",
                f"Bearer {token}x",
                f"Bearer {token[:-1]}",
                "Bearer",
                "Bearer ",
                "",
                f"Basic {token}",
                f"Token {token}",
                f"Bearer {token}\x00",
            ]
        ),
        header_text(80).map(lambda s: "Bearer " + s),
        header_text(80),
    )
    return weighted((3, st.just(f"Bearer {token}")), (1, wrong))


EXTRA_HEADERS = [
    "Accept",
    "Accept-Encoding",
    "If-None-Match",
    "X-Forwarded-For",
    "Forwarded",
    "X-Real-IP",
    "Cookie",
    "Origin",
    "Range",
    "Content-Encoding",
    "Transfer-Encoding-Ext",
]
HEADER_VALUES = [
    "gzip",
    "application/openmetrics-text; version=1.0.0",
    "text/plain",
    "*",
    '"x"',
    "127.0.0.1",
    "203.0.113.9, 127.0.0.1",
    "for=203.0.113.9",
    "bytes=0-10",
]


@cache  # one strategy object per argument: Hypothesis checks each once
def extra_headers() -> st.SearchStrategy[list[tuple[str, str]]]:
    name = st.sampled_from(EXTRA_HEADERS)
    value = st.one_of(st.sampled_from(HEADER_VALUES), header_text())
    return st.lists(st.tuples(name, value), max_size=3)


# -- bodies -----------------------------------------------------------------------------------

BODY_FIELDS = [
    "customer",
    "site",
    "severity",
    "summary",
    "by",
    "note",
    "public",
    "email",
    "sites",
    "reason",
]
FORM_FIELDS = [
    "From",
    "To",
    "Body",
    "Digits",
    "MessageStatus",
    "SmsStatus",
    "CallStatus",
    "ErrorCode",
    "MessageSid",
    "CallSid",
    "AccountSid",
    "RecordingSid",
    "RecordingUrl",
    "RecordingDuration",
    "RecordingStatus",
    "Direction",
    "email",
    "sites",
    "name",
    "phone",
    "about",
    "comment",
]

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | text(30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text(10), inner, max_size=4),
    max_leaves=12,
)


@cache  # one strategy object per argument: Hypothesis checks each once
def _field_value(name: str, known: Known) -> st.SearchStrategy[Any]:
    good = known.fields.get(name)
    if not good:
        return text(60)
    return weighted((3, st.sampled_from(good)), (1, text(60)))


@cache  # one strategy object per argument: Hypothesis checks each once
@st.composite
def json_object(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(BODY_FIELDS), max_size=6, unique=True))
    body: dict[str, Any] = {}
    for name in names:
        if draw(rarely(6)):
            body[name] = draw(JSON_VALUES)
        else:
            body[name] = draw(_field_value(name, known))
            if isinstance(body[name], str) and draw(rarely(8)):
                body[name] += "\ud800"  # a lone surrogate: JSON can carry one, UTF-8 cannot
    if draw(rarely(10)):
        body[draw(text(10))] = draw(JSON_VALUES)
    return body


@cache  # one strategy object per argument: Hypothesis checks each once
@st.composite
def form_fields(draw: st.DrawFn, known: Known) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(FORM_FIELDS), max_size=7, unique=True))
    fields = {name: str(draw(_field_value(name, known))) for name in names}
    if draw(rarely(10)):
        fields[draw(text(10))] = draw(text(30))
    return fields


def _deep(depth: int, opener: str) -> bytes:
    return (opener * depth).encode()


@cache  # one strategy object per argument: Hypothesis checks each once
@st.composite
def body(draw: st.DrawFn, known: Known) -> tuple[str, bytes | None, str | None, dict[str, str]]:
    """(label, bytes, content type, the form fields a signature covers)."""
    kinds = ["json", "form", "json", "form", "none", "json-any", "raw", "deep"]
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return kind, None, draw(st.sampled_from([None, JSON, FORM])), {}
    if kind == "json":
        value = draw(json_object(known))
        return kind, json.dumps(value).encode(), JSON, {}
    if kind == "json-any":
        return kind, json.dumps(draw(JSON_VALUES)).encode(), JSON, {}
    if kind == "form":
        fields = draw(form_fields(known))
        ctype = draw(st.sampled_from([FORM, FORM, FORM, f"{FORM}; charset=utf-8", "multipart"]))
        if ctype == "multipart":
            parts = b"".join(
                b'--b\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                % (k.encode(), v.encode())
                for k, v in fields.items()
            )
            return kind, parts + b"--b--\r\n", "multipart/form-data; boundary=b", fields
        return kind, urlencode(fields).encode(), ctype, fields
    if kind == "raw":
        ctype = draw(st.one_of(st.sampled_from([JSON, FORM, "text/plain", None]), header_text(30)))
        return kind, draw(st.binary(max_size=2000)), ctype, {}
    opener = draw(st.sampled_from(["[", '{"a":', '{"summary":[']))
    depth = draw(st.sampled_from([100, 1_000, 50_000]))
    return kind, _deep(depth, opener), draw(st.sampled_from([JSON, FORM])), {}


@cache
def schema_body(key: str, known: Known) -> st.SearchStrategy[bytes]:
    """A JSON body as the route's schema describes it: every required field and some of the
    others, each a value the seeded data knows, or text, or a value of any type."""
    schema = known.bodies[key]
    properties: dict[str, Any] = schema.get("properties", {})
    required = [name for name in schema.get("required", []) if name in properties]
    optional = [name for name in properties if name not in required]

    def value(name: str) -> st.SearchStrategy[Any]:
        kind = properties[name].get("type")
        anyof = [p.get("type") for p in properties[name].get("anyOf", [])]
        if kind == "boolean" or "boolean" in anyof:
            good: st.SearchStrategy[Any] = st.booleans()
        else:
            good = _field_value(name, known)
        return weighted((8, good), (1, JSON_VALUES))

    @st.composite
    def draw_body(draw: st.DrawFn) -> bytes:
        names = list(required)
        if draw(rarely(8)) and names:
            names.remove(draw(st.sampled_from(names)))  # one required field missing
        names += draw(st.lists(st.sampled_from(optional), unique=True)) if optional else []
        return json.dumps({name: draw(value(name)) for name in names}).encode()

    return draw_body()


# -- a whole request --------------------------------------------------------------------------


@cache  # one strategy object per argument: Hypothesis checks each once
@st.composite
def request_case(draw: st.DrawFn, route: Route, known: Known) -> Case:
    method = route.method
    if draw(rarely(20)):
        method = draw(st.sampled_from(METHODS))
    url = URL.build(path=draw(path(route, known)), query=draw(query(known)))
    target = str(url)
    label, data, ctype, signed_fields = draw(body(known))
    if route.key in known.bodies and draw(st.sampled_from([True, True, False])):
        label, data, ctype, signed_fields = (
            "json-schema",
            draw(schema_body(route.key, known)),
            JSON,
            {},
        )
    if method in ("GET", "HEAD", "OPTIONS") and draw(st.booleans()):
        data, label = None, "none"
    headers: list[tuple[str, str]] = []
    auth = draw(authorization(known))
    if auth is not None:
        headers.append(("Authorization", auth))
    signature = draw(st.sampled_from(["valid", "valid", "valid", "none", "other", "junk"]))
    validator = RequestValidator(known.twilio_token)
    if signature == "valid":
        headers.append(
            ("X-Twilio-Signature", validator.compute_signature(known.public_url + target,
                                                               signed_fields))
        )  # fmt: skip
    elif signature == "other":
        headers.append(
            ("X-Twilio-Signature", validator.compute_signature(known.public_url + "/", {}))
        )
    elif signature == "junk":
        headers.append(("X-Twilio-Signature", draw(header_text(40))))
    if ctype is not None:
        headers.append(("Content-Type", ctype))
    headers += draw(extra_headers())
    return Case(method, target, headers, data, label)
