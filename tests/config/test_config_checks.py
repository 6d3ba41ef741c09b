"""The checks file's check options: follow_redirects, body and JSON expectations, request
headers/body/basic_auth, tcp:// and dns:// checks, cert_expiry, and the combinations refused."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from uptimeguard.config import ConfigError, load_config_text
from uptimeguard.config.models import BasicAuth, CertExpiry, DnsCheck, JsonExpect, Site

BASE = """\
calendars:
  office: {timezone: Europe/London, hours: {mon-fri: "08:00-18:00"}}
plans:
  basic:
    calendar: office
    severities:
      urgent: {response: 15m, resolution: 4h}
      normal: {response: 8h, resolution: 10d}
    causes: {down: urgent, http_5xx: normal, cert_expiry: normal}
customers:
  - id: acme
    name: Acme
    plan: basic
    sites:
"""
ENV = {"MONITOR_PASSWORD": "s3cret", "API_TOKEN": "tok"}


def sites(text: str) -> tuple[Site, ...]:
    config = load_config_text(BASE + textwrap.indent(textwrap.dedent(text), "      "), env=ENV)
    return config.customers[0].sites


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as error:
        sites(text)
    return [str(problem) for problem in error.value.problems]


def test_every_check_option_is_read() -> None:
    www, db, records = sites(
        """\
        - id: www
          url: https://www.acme.example/api
          method: POST
          follow_redirects: false
          headers: {X-Token: "${API_TOKEN}", Accept: application/json}
          body: '{"q": 1}'
          basic_auth: {username: monitor, password: "${MONITOR_PASSWORD}"}
          cert_expiry: {warn: [7d, 30d, 14d]}
          expect:
            status: 301
            body_not_contains: Error
            body_matches: "Build [0-9]+"
            json: [{path: "$.status", equals: ok}, {path: "$.items[0]['id']"}]
        - id: db
          url: tcp://db.acme.example:6379
          send: PING
          expect: {line: "+PONG", max_response: 1s}
        - id: records
          url: dns://www.acme.example
          dns: {record: aaaa, value: ["2001:db8::1"], server: "127.0.0.1:5353"}
        """
    )
    assert www.kind == "http" and not www.follow_redirects and www.method == "POST"
    assert www.headers == (("X-Token", "tok"), ("Accept", "application/json"))
    assert www.body == '{"q": 1}'
    assert www.basic_auth == BasicAuth("monitor", "s3cret")
    assert "s3cret" not in repr(www)
    assert www.cert_expiry == CertExpiry((timedelta(days=30), timedelta(days=14), timedelta(7)))
    assert www.expect.status == ((301, 301),)
    assert www.expect.body_not_contains == "Error"
    assert www.expect.body_matches is not None
    assert www.expect.body_matches.pattern == "Build [0-9]+"
    assert www.expect.json == (
        JsonExpect("$.status", ("status",), "ok"),
        JsonExpect("$.items[0]['id']", ("items", 0, "id"), None),
    )
    assert (db.kind, db.send, db.expect.line) == ("tcp", "PING", "+PONG")
    assert records.kind == "dns"
    assert records.dns == DnsCheck("AAAA", ("2001:db8::1",), "127.0.0.1:5353")


def test_defaults_are_unchanged() -> None:
    [site] = sites("- {id: www, url: https://www.acme.example/}\n")
    assert site.follow_redirects and site.headers == () and site.body is None
    assert site.basic_auth is None and site.dns is None and site.cert_expiry is None
    assert site.expect.json == () and site.expect.body_matches is None


def test_bad_values_name_file_line_and_column() -> None:
    assert problems(
        """\
        - id: a
          url: https://www.acme.example/
          basic_auth: {username: monitor, password: hunter2}
          headers: {"Bad Name": x}
          expect: {body_matches: "(", json: [{path: "status"}]}
        - id: b
          url: tcp://db.acme.example
        - id: c
          url: dns://x.example
          dns: {record: SRV, value: 1.2.3.4}
        - id: d
          url: dns://x.example
          dns: {record: A, value: nope}
        - id: e
          url: https://www.acme.example/
          cert_expiry: {warn: [30d, 30d]}
          send: "two\\nlines"
        """
    ) == [
        "checks.yaml:17:51: the password in basic_auth of site 'a' of customer 'acme' must come "
        "from the environment: write password: ${NAME}",
        "checks.yaml:18:19: bad header name 'Bad Name' in headers of site 'a' of customer 'acme'",
        "checks.yaml:19:32: bad regular expression '(': missing ), unterminated subpattern at "
        "position 0",
        "checks.yaml:19:51: bad JSON path 'status': use a path such as $.status, "
        "$.checks[0].state or $['odd key']",
        "checks.yaml:21:14: bad URL 'tcp://db.acme.example': a tcp check is tcp://host:port, "
        "e.g. tcp://db:5432",
        "checks.yaml:24:23: bad record type 'SRV': use one of A, AAAA, CNAME, MX, NS, TXT",
        "checks.yaml:27:33: bad A value 'nope': use an IP address",
        "checks.yaml:30:29: 'warn' in cert_expiry of site 'e' of customer 'acme' names a "
        "threshold twice",
        "checks.yaml:31:15: 'send' must be one line of text, without line breaks",
        "checks.yaml:31:15: 'send' is for tcp:// checks only, in site 'e' of customer 'acme'",
    ]


def test_impossible_combinations_are_refused() -> None:
    assert problems(
        """\
        - id: head
          url: https://www.acme.example/
          method: HEAD
          expect: {body_contains: Welcome, json: [{path: $.a}]}
        - id: tcp
          url: tcp://db.acme.example:5432
          method: GET
          headers: {X: y}
          expect: {json: [{path: $.a}], status: 200}
        - id: plain
          url: http://www.acme.example/
          cert_expiry: {warn: 30d}
          dns: {record: A}
        - id: dns
          url: dns://x.example
          follow_redirects: false
          expect: {body_contains: x, line: y}
        - id: redirect
          url: https://www.acme.example/
          expect: {status: 301-302}
        - id: both
          url: https://www.acme.example/
          expect: {body_contains: Error, body_not_contains: Error}
        """
    ) == [
        "checks.yaml:18:33: 'body_contains' can never pass with method HEAD (a HEAD reply has "
        "no body); use GET, in site 'head' of customer 'acme'",
        "checks.yaml:18:48: 'json' can never pass with method HEAD (a HEAD reply has no body); "
        "use GET, in site 'head' of customer 'acme'",
        "checks.yaml:21:17: 'method' cannot apply to a tcp:// check in site 'tcp' of customer "
        "'acme'",
        "checks.yaml:22:18: 'headers' cannot apply to a tcp:// check in site 'tcp' of customer "
        "'acme'",
        "checks.yaml:23:24: 'json' cannot apply to a tcp:// check in site 'tcp' of customer 'acme'",
        "checks.yaml:23:47: 'status' cannot apply to a tcp:// check in site 'tcp' of customer "
        "'acme'",
        "checks.yaml:26:22: 'cert_expiry' needs an https:// URL, in site 'plain' of customer "
        "'acme'",
        "checks.yaml:27:14: 'dns' is for dns:// checks only, in site 'plain' of customer 'acme'",
        "checks.yaml:30:27: 'follow_redirects' cannot apply to a dns:// check in site 'dns' of "
        "customer 'acme'",
        "checks.yaml:31:33: 'body_contains' cannot apply to a dns:// check in site 'dns' of "
        "customer 'acme'",
        "checks.yaml:31:42: 'line' is for tcp:// checks only, in site 'dns' of customer 'acme'",
        "checks.yaml:34:26: status 301-302 is never seen while redirects are followed; add "
        "follow_redirects: false, in site 'redirect' of customer 'acme'",
        "checks.yaml:37:59: 'body_contains' and 'body_not_contains' name the same text, so the "
        "check can never pass, in site 'both' of customer 'acme'",
    ]


def test_a_redirect_status_is_fine_when_redirects_are_not_followed() -> None:
    [site] = sites(
        "- {id: www, url: https://www.acme.example/, follow_redirects: no, expect: {status: 301}}\n"
    )
    assert site.expect.status == ((301, 301),) and not site.follow_redirects


def test_cert_expiry_cause_is_a_plan_cause() -> None:
    text = BASE.replace("cert_expiry: normal", "cert_expiry: nope")
    with pytest.raises(ConfigError) as error:
        load_config_text(text + "      - {id: www, url: https://www.acme.example/}\n")
    assert "unknown severity 'nope'" in str(error.value) or "nope" in str(error.value)
