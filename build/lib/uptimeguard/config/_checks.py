"""A site's check options beyond url/method/expect: what is sent, the tcp and dns kinds,
certificate expiry, the extra expectations, and the combinations that can never pass.

Each reader returns keyword arguments for `Site` or `Expect` (None after recording a
problem), so `_customers` stays the one place that builds them.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from yaml.nodes import Node, ScalarNode

from uptimeguard.config import parsers as p
from uptimeguard.config._yamlnodes import Context, Section, shorten
from uptimeguard.config.durations import parse_duration
from uptimeguard.config.models import BasicAuth, CertExpiry, DnsCheck, Expect, JsonExpect

SITE_CHECK_KEYS = (
    "follow_redirects",
    "headers",
    "body",
    "basic_auth",
    "send",
    "dns",
    "cert_expiry",
)
EXPECT_CHECK_KEYS = ("body_not_contains", "body_matches", "json", "line")
BODY_CHECKS = ("body_contains", "body_not_contains", "body_matches", "json")
RECORDS = ("A", "AAAA", "CNAME", "MX", "NS", "TXT")
# Options each kind of check takes (besides id, name, url, private and the timings).
HTTP_ONLY = ("method", "follow_redirects", "headers", "body", "basic_auth", "cert_expiry")
EXPECT_HTTP_ONLY = ("status", *BODY_CHECKS)
REDIRECTS = frozenset({301, 302, 303, 307, 308})

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", re.ASCII)
_JSON_STEP = re.compile(r"\.([^.\[\]]+)|\[(-?[0-9]+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def read_site_checks(ctx: Context, s: Section) -> dict[str, Any] | None:
    """`Site` keyword arguments for the check options in `s` (a site's section)."""
    found: dict[str, Any] = {}
    ok = True
    if s.has("follow_redirects"):
        found["follow_redirects"] = s.value("follow_redirects", p.parse_bool)
        ok = found["follow_redirects"] is not None
    if s.has("headers"):
        found["headers"] = _headers(ctx, s.get("headers"), s.what)
    if s.has("body"):
        found["body"] = s.value("body", str)
    if s.has("basic_auth"):
        found["basic_auth"] = _basic_auth(ctx, s.get("basic_auth"), s.what)
    if s.has("send"):
        found["send"] = s.value("send", _line("send"))
    if s.has("dns"):
        found["dns"] = _dns(ctx, s.get("dns"), s.what)
    if s.has("cert_expiry"):
        found["cert_expiry"] = _cert_expiry(ctx, s.get("cert_expiry"), s.what)
    if not ok or any(value is None for value in found.values()):
        return None
    return found


def read_expect_checks(ctx: Context, s: Section) -> dict[str, Any] | None:
    """`Expect` keyword arguments for the extra expectations in `s` (an expect section)."""
    found: dict[str, Any] = {}
    if s.has("body_not_contains"):
        found["body_not_contains"] = s.value("body_not_contains", p.parse_name)
    if s.has("body_matches"):
        found["body_matches"] = s.value("body_matches", parse_regex)
    if s.has("json"):
        found["json"] = _json(ctx, s.get("json"), s.what)
    if s.has("line"):
        found["line"] = s.value("line", _line("line"))
    if any(value is None for value in found.values()):
        return None
    return found


def refuse_impossible(
    ctx: Context, site: Section, expect: Section | None, url: str, method: str, values: Expect
) -> bool:
    """Record each option that cannot apply to this kind of check, or can never pass.

    True when there is none."""
    scheme = url.split(":", 1)[0].lower()
    kind = scheme if scheme in ("tcp", "dns") else "http"
    before = len(ctx.problems)

    def refuse(section: Section | None, key: str, message: str) -> None:
        if section is not None and section.has(key):
            ctx.add(section.get(key) or section.node, message)

    if kind != "http":
        for key in HTTP_ONLY:
            refuse(site, key, f"'{key}' cannot apply to a {kind}:// check in {site.what}")
        for key in EXPECT_HTTP_ONLY:
            refuse(expect, key, f"'{key}' cannot apply to a {kind}:// check in {site.what}")
    if kind != "tcp":
        for section, key in ((site, "send"), (expect, "line")):
            refuse(section, key, f"'{key}' is for tcp:// checks only, in {site.what}")
    if kind != "dns":
        refuse(site, "dns", f"'dns' is for dns:// checks only, in {site.what}")
    if kind == "http":
        _refuse_http(ctx, site, expect, url, method, values, refuse)
    return len(ctx.problems) == before


def _refuse_http(
    ctx: Context,
    site: Section,
    expect: Section | None,
    url: str,
    method: str,
    values: Expect,
    refuse: Any,
) -> None:
    if method == "HEAD":
        for key in BODY_CHECKS:
            refuse(expect, key, f"'{key}' can never pass with method HEAD (a HEAD reply has "
                   f"no body); use GET, in {site.what}")  # fmt: skip
    if not url.lower().startswith("https:"):
        refuse(site, "cert_expiry", f"'cert_expiry' needs an https:// URL, in {site.what}")
    follows = site.value("follow_redirects", p.parse_bool) is not False
    accepted = {code for low, high in values.status for code in range(low, high + 1)}
    if follows and accepted <= REDIRECTS:
        refuse(expect, "status", f"status {p_status(values)} is never seen while redirects "
               f"are followed; add follow_redirects: false, in {site.what}")  # fmt: skip
    if values.body_contains is not None and values.body_contains == values.body_not_contains:
        refuse(expect, "body_not_contains", "'body_contains' and 'body_not_contains' name the "
               f"same text, so the check can never pass, in {site.what}")  # fmt: skip
    headers = site.get("headers")
    if site.has("basic_auth") and headers is not None:
        entries = ctx.entries(headers, "headers") or []
        if any(name.lower() == "authorization" for name, _, _ in entries):
            refuse(site, "basic_auth", "'basic_auth' and an Authorization header both set "
                   f"the same header; keep one, in {site.what}")  # fmt: skip


def p_status(values: Expect) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in values.status)


def parse_regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as error:
        raise ValueError(f"bad regular expression '{text}': {error}") from None


def parse_json_path(text: str) -> tuple[str | int, ...]:
    """`$.status`, `$.items[0].id`, `$['odd key']` -> the keys and indexes."""
    stripped = text.strip()
    hint = "use a path such as $.status, $.checks[0].state or $['odd key']"
    if not stripped.startswith("$"):
        raise ValueError(f"bad JSON path '{text}': {hint}")
    steps: list[str | int] = []
    at = 1
    while at < len(stripped):
        match = _JSON_STEP.match(stripped, at)
        if match is None:
            raise ValueError(f"bad JSON path '{text}': {hint}")
        name, index, single, double = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(next(v for v in (name, single, double) if v is not None))
        at = match.end()
    return tuple(steps)


def _line(key: str) -> Any:
    def parse(text: str) -> str:
        if not text or "\n" in text or "\r" in text:
            raise ValueError(f"'{key}' must be one line of text, without line breaks")
        return text

    return parse


def _headers(ctx: Context, node: Node | None, where: str) -> tuple[tuple[str, str], ...] | None:
    what = f"headers of {where}"
    entries = ctx.entries(node, what)
    if entries is None:
        return None
    headers = []
    ok = True
    for name, key_node, value_node in entries:
        if not _TOKEN.fullmatch(name):
            ctx.add(key_node, f"bad header name '{shorten(name)}' in {what}")
            ok = False
            continue
        value = ctx.value(value_node, _header_value, f"header '{name}'")
        if value is None:
            ok = False
            continue
        headers.append((name, value))
    return tuple(headers) if ok else None


def _header_value(text: str) -> str:
    if "\n" in text or "\r" in text or "\0" in text:
        raise ValueError("a header value must be one line of text")
    return text.strip()


def _basic_auth(ctx: Context, node: Node | None, where: str) -> BasicAuth | None:
    assert node is not None
    what = f"basic_auth of {where}"
    s = Section(ctx, node, what, ("username", "password"), required=("username", "password"))
    username = s.value("username", _username)
    raw = s.get("password")
    if isinstance(raw, ScalarNode) and "${" not in raw.value.replace("$${", ""):
        # A password written into the file would be read by everyone who reads the file.
        ctx.add(raw, f"the password in {what} must come from the environment: "
                "write password: ${NAME}")  # fmt: skip
        return None
    password = s.value("password", str)
    if not s.ok or username is None or password is None:
        return None
    return BasicAuth(username, password)


def _username(text: str) -> str:
    if not text or ":" in text or any(not c.isprintable() for c in text):
        raise ValueError(f"bad username '{text}': use printable text without ':'")
    return text


def _dns(ctx: Context, node: Node | None, where: str) -> DnsCheck | None:
    assert node is not None
    what = f"dns of {where}"
    s = Section(ctx, node, what, ("record", "value", "server"))
    record = s.value("record", _record) or "A"
    server = s.value("server", p.parse_dns_server)
    values: list[str | None] = []
    value_node = s.get("value")
    if value_node is not None:
        values = [
            ctx.value(n, _record_value(record), "a value") for n in ctx.one_or_many(value_node)
        ]
    failed = (s.has("record") and s.value("record", _record) is None) or (
        s.has("server") and server is None
    )
    if not s.ok or failed or None in values:
        return None
    return DnsCheck(record, tuple(v for v in values if v is not None), server)


def _record(text: str) -> str:
    if text.strip().upper() not in RECORDS:
        raise ValueError(f"bad record type '{text}': use one of {', '.join(RECORDS)}")
    return text.strip().upper()


def _record_value(record: str) -> Any:
    def parse(text: str) -> str:
        if record in ("A", "AAAA"):
            try:
                address = ipaddress.ip_address(text.strip())
            except ValueError:
                raise ValueError(f"bad {record} value '{text}': use an IP address") from None
            if (address.version == 4) != (record == "A"):
                raise ValueError(f"bad {record} value '{text}': not an IPv{address.version} "
                                 "record's address")  # fmt: skip
        if not text.strip():
            raise ValueError("a record value must not be empty")
        return text if record == "TXT" else text.strip()

    return parse


def _cert_expiry(ctx: Context, node: Node | None, where: str) -> CertExpiry | None:
    assert node is not None
    what = f"cert_expiry of {where}"
    s = Section(ctx, node, what, ("warn",), required=("warn",))
    warn_node = s.get("warn")
    if not s.ok or warn_node is None:
        return None
    items = ctx.one_or_many(warn_node)
    warn = [ctx.value(n, parse_duration, "a warning threshold") for n in items]
    if None in warn or not warn:
        if not warn:
            ctx.add(warn_node, f"'warn' in {what} needs at least one duration, e.g. [30d, 14d]")
        return None
    thresholds = [w for w in warn if w is not None]
    if len(set(thresholds)) != len(thresholds):
        ctx.add(warn_node, f"'warn' in {what} names a threshold twice")
        return None
    ordered = tuple(sorted(thresholds, reverse=True))
    if len(ordered) > 10:
        ctx.add(warn_node, f"'warn' in {what} takes at most 10 thresholds")
        return None
    return CertExpiry(ordered)


def _json(ctx: Context, node: Node | None, where: str) -> tuple[JsonExpect, ...] | None:
    what = f"json of {where}"
    items = ctx.seq(node, what)
    if items is None:
        return None
    if not items:
        assert node is not None
        ctx.add(node, f"'json' in {where} needs at least one " + '{path: "$.status", equals: ok}')
        return None
    found = []
    for item in items:
        s = Section(ctx, item, f"a json expectation of {where}", ("path", "equals"),
                    required=("path",))  # fmt: skip
        path = s.value("path", parse_json_path)
        equals = s.value("equals", str)
        if not s.ok or path is None or (s.has("equals") and equals is None):
            return None
        raw_path = ctx.text(s.get("path"), "path")  # type: ignore[arg-type]
        found.append(JsonExpect(raw_path.strip(), path, equals))
    return tuple(found)
