"""The checks-file loader: the typed result, and every problem at FILE:LINE:COL."""

from __future__ import annotations

import textwrap
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uptimeguard.config import (
    CALENDAR_24X7,
    ChecksConfig,
    ConfigError,
    EscalationStep,
    MaintenanceWindow,
    Problem,
    RecurringMaintenance,
    SlaEscalationStep,
    Target,
    load_config,
    load_config_text,
)

BUNDLED = Path(__file__).resolve().parents[2] / "checks.yaml"

# A small valid file; tests append to it or change one line of it.
BASE = """\
calendars:
  office: {timezone: Europe/London, hours: {mon-fri: "08:00-18:00"}}
plans:
  basic:
    calendar: office
    severities:
      urgent: {response: 15m, resolution: 4h}
      normal: {response: 8h, resolution: 10d}
    causes: {down: urgent, http_5xx: normal}
people:
  carol: {name: Carol, phone: "+447700900003", role: support_manager}
customers:
  - id: acme
    name: Acme
    plan: basic
    sites:
      - {id: www, url: "https://www.acme.example/"}
"""


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    """Every problem reported for `text`, as FILE:LINE:COL: message."""
    with pytest.raises(ConfigError) as error:
        load_config_text(textwrap.dedent(text), env=env or {})
    return [str(problem) for problem in error.value.problems]


def load(text: str, env: dict[str, str] | None = None) -> ChecksConfig:
    return load_config_text(textwrap.dedent(text), env=env or {})


# -- the happy path ------------------------------------------------------------------------------


def test_base_file_loads() -> None:
    config = load(BASE)
    assert config.path == "checks.yaml"
    assert config.defaults.interval == timedelta(minutes=5)
    assert config.calendars["office"].hours[0] == ((time(8), time(18)),)
    assert 5 not in config.calendars["office"].hours
    plan = config.plans["basic"]
    assert [s.name for s in plan.severities] == ["urgent", "normal"]
    assert plan.severity("urgent").response == Target(15, "m")
    assert plan.severity("urgent").clock == "business"
    assert plan.causes == {"down": "urgent", "http_5xx": "normal"}
    assert config.people["carol"].max_pages_per_hour == 20
    assert config.oncall is None
    [site] = config.customers[0].sites
    assert (site.method, site.expect.status, site.private) == ("GET", ((200, 399),), False)


def test_bundled_checks_file_loads() -> None:
    config = load_config(BUNDLED, env={})
    assert list(config.plans) == [
        "standard", "enhanced", "gold", "silver", "lite", "technical", "bespoke", "three-level",
    ]  # fmt: skip
    assert [c.id for c in config.customers] == [
        "acme", "globex", "initech", "umbrella", "vandelay", "hooli", "wonka",
    ]  # fmt: skip
    standard = config.plans["standard"]
    assert [s.name for s in standard.severities] == [
        "mission_critical", "major", "bug_fix", "query",
    ]  # fmt: skip
    critical = standard.severity("mission_critical")
    assert (critical.response, critical.resolution) == (Target(15, "m"), Target(4, "h"))
    assert (critical.clock, critical.out_of_hours) == ("24x7", True)
    assert standard.severity("query").resolution == Target(10, "d")
    assert standard.sla_escalation[0] == SlaEscalationStep(75.0, "response", "support_manager")
    assert config.plans["gold"].severities[0].response == Target(4, "h")
    assert config.plans["silver"].severities[0].response == Target(8, "h")
    lite = config.plans["lite"]
    assert lite.calendar == "uk-7day"
    assert lite.severity("low").response == Target(2, "d")
    assert config.calendars["uk-7day"].hours[6] == ((time(8), time(18)),)
    assert config.calendars["uk-office"].holidays == "england-and-wales"
    oncall = config.oncall
    assert oncall is not None and oncall.rotation is not None
    assert oncall.rotation.members == ("alice", "bob")
    assert oncall.rotation.start == datetime(2026, 1, 5, 9, 0)
    assert oncall.escalation[2] == EscalationStep(
        "support_manager", ("sms", "voice"), timedelta(minutes=15)
    )
    assert oncall.escalation[-1].then_wait is None
    assert oncall.repeat == 2
    for ref in config.site_refs():  # make run must never probe an outside host
        assert ref.site.url.startswith(("http://127.0.0.1:8080/", "http://localhost:8080/"))
    assert all(p.phone.startswith("+4477009000") for p in config.people.values())


def test_everything_the_spec_example_uses() -> None:
    config = load(
        BASE
        + """\
  - id: globex
    name: Globex
    plan: basic
    status_page: {slug: globex, title: Globex status}
    sites:
      - id: shop
        name: Shop
        url: http://shop.globex.example:8443/health?full=1
        method: post
        private: yes
        interval: 1m
        timeout: 5s
        confirm: 3
        recheck: 10s
        recover: 4
        expect: {status: ["200", 204, "300-399"], body_contains: OK, max_response: 2s}
        maintenance:
          - {every: "sun 02:00", duration: 2h}
          - {from: "2026-12-30T22:00", to: "2026-12-31 02:00"}
"""
    )
    customer = config.customer("globex")
    assert customer.status_page is not None and customer.status_page.title == "Globex status"
    site = customer.sites[0]
    assert site.method == "POST" and site.private and site.name == "Shop"
    assert site.expect.status == ((200, 200), (204, 204), (300, 399))
    assert site.expect.max_response == timedelta(seconds=2)
    assert site.maintenance == (
        RecurringMaintenance(6, time(2, 0), timedelta(hours=2)),
        MaintenanceWindow(datetime(2026, 12, 30, 22, 0), datetime(2026, 12, 31, 2, 0)),
    )
    ref = next(r for r in config.site_refs() if r.site.id == "shop")
    assert (ref.interval, ref.timeout, ref.confirm, ref.recheck, ref.recover) == (
        timedelta(minutes=1), timedelta(seconds=5), 3, timedelta(seconds=10), 4,
    )  # fmt: skip


def test_calendar_hours_forms() -> None:
    config = load(
        BASE.replace(
            'hours: {mon-fri: "08:00-18:00"}',
            'hours: {mon-thu: "08:00-18:00", fri: ["08:00-12:00", "13:00-16:30"],'
            ' "sat,sun": "00:00-24:00"}, closed: [2026-12-24, "2026-12-31"]',
        )
    )
    calendar = config.calendars["office"]
    assert calendar.hours[4] == ((time(8), time(12)), (time(13), time(16, 30)))
    assert calendar.hours[5] == ((time(0), time(0)),)  # 24:00 closes at midnight
    assert calendar.closed == frozenset({date(2026, 12, 24), date(2026, 12, 31)})


def test_24x7_calendar_is_built_in() -> None:
    config = load(BASE.replace("calendar: office", "calendar: 24x7"))
    assert config.plans["basic"].calendar == CALENDAR_24X7
    always = config.calendars[CALENDAR_24X7]
    assert always.timezone == "UTC"
    assert all(always.hours[day] == ((time(0), time(0)),) for day in range(7))


def test_sla_escalation_steps() -> None:
    config = load(
        BASE.replace(
            "    causes: {down: urgent, http_5xx: normal}\n",
            "    causes: {down: urgent, http_5xx: normal}\n"
            "    sla_escalation:\n"
            "      - {at: 75% response, notify: support_manager}\n"
            '      - {at: "150%resolution", notify: carol, severities: urgent}\n',
        )
    )
    assert config.plans["basic"].sla_escalation == (
        SlaEscalationStep(75.0, "response", "support_manager"),
        SlaEscalationStep(150.0, "resolution", "carol", ("urgent",)),
    )


def test_env_expansion() -> None:
    text = BASE.replace('"https://www.acme.example/"', '"https://${HOST}:${PORT}/$${literal}"')
    config = load(text, env={"HOST": "acme.example", "PORT": "8443"})
    assert config.customers[0].sites[0].url == "https://acme.example:8443/${literal}"


def test_anchors_and_merge_keys() -> None:
    config = load(
        BASE
        + """\
  - id: globex
    name: Globex
    plan: basic
    sites:
      - &common {id: one, url: "https://one.example/", interval: 1m, timeout: 5s}
      - <<: *common
        id: two
"""
    )
    one, two = config.customer("globex").sites
    assert (two.id, two.url, two.interval) == ("two", "https://one.example/", timedelta(minutes=1))
    assert one.id == "one"


def test_empty_file_is_valid_and_monitors_nothing() -> None:
    assert load("").customers == ()
    assert load("customers: []\n").site_refs() == ()


# -- one test per kind of problem ------------------------------------------------------------


def test_unknown_key() -> None:
    assert problems("defaults:\n  intervall: 5m\n") == [
        "checks.yaml:2:3: unknown key 'intervall' in defaults; "
        "expected one of: interval, timeout, confirm, recheck, recover, agree"
    ]


def test_unknown_top_level_key() -> None:
    assert problems(BASE + "custmers: []\n") == [
        "checks.yaml:18:1: unknown key 'custmers' in the checks file; expected one of: "
        "defaults, calendars, plans, people, oncall, customers, nps, allow_empty"
    ]


def test_unknown_plan() -> None:
    assert problems(BASE.replace("plan: basic", "plan: gold")) == [
        "checks.yaml:15:11: unknown plan 'gold'; defined: basic"
    ]


def test_unknown_calendar() -> None:
    assert problems(BASE.replace("calendar: office", "calendar: ofice")) == [
        "checks.yaml:5:15: unknown calendar 'ofice'; defined: office, 24x7"
    ]


def test_unknown_severity_in_causes() -> None:
    assert problems(BASE.replace("http_5xx: normal", "http_5xx: minor")) == [
        "checks.yaml:9:38: unknown severity 'minor' in plan 'basic'; defined: urgent, normal"
    ]


def test_unknown_cause() -> None:
    assert problems(BASE.replace("http_5xx: normal", "http_500: normal")) == [
        "checks.yaml:9:28: unknown cause 'http_500': use one of down, http_5xx, http_4xx, "
        "content, slow, cert_expiry"
    ]


def test_unknown_person_and_role_references() -> None:
    text = (
        BASE
        + """\
oncall:
  timezone: Europe/London
  rotation: {members: [alice, carol], start: "2026-01-05 09:00", every: 1w}
  escalation:
    - {notify: oncall, via: sms, then_wait: 5m}
    - {notify: service_director, via: [sms, voice]}
"""
    )
    assert problems(text) == [
        "checks.yaml:20:24: unknown person 'alice'; defined: carol",
        "checks.yaml:23:16: no one in people has role 'service_director'",
    ]


def test_bad_duration() -> None:
    assert problems("defaults:\n  interval: 5x\n") == [
        "checks.yaml:2:13: bad duration '5x': use a number and a unit: 30s, 5m, 8h, 2d"
    ]


def test_bad_target() -> None:
    assert problems(BASE.replace("response: 15m", "response: 15 minutes")) == [
        "checks.yaml:7:26: bad target '15 minutes': use a number and a unit: 15m, 8h, 2d"
    ]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ('"8:00-18:00"', 'bad time \'8:00-18:00\': use "HH:MM-HH:MM", e.g. "08:00-18:00"'),
        ('"18:00-08:00"', "bad time '18:00-08:00': the close must be after the open"),
        ('"08:00-24:01"', 'bad time \'08:00-24:01\': use "HH:MM-HH:MM", e.g. "08:00-18:00"'),
    ],
)
def test_bad_time(hours: str, message: str) -> None:
    text = BASE.replace('"08:00-18:00"', hours)
    assert problems(text) == [f"checks.yaml:2:54: {message}"]


def test_overlapping_hours() -> None:
    text = BASE.replace('{mon-fri: "08:00-18:00"}', '{mon-fri: "08:00-18:00", fri: "17:00-20:00"}')
    assert problems(text) == [
        "checks.yaml:2:74: opening hours '17:00-20:00' overlap '08:00-18:00' in calendar 'office'"
    ]


def test_bad_days() -> None:
    text = BASE.replace("mon-fri:", "fri-mon:")
    assert problems(text) == [
        "checks.yaml:2:45: bad days 'fri-mon': a range runs forwards, mon to sun: "
        "use mon..sun, a range such as mon-fri, or a list such as sat,sun"
    ]


def test_bad_timezone() -> None:
    assert problems(BASE.replace("Europe/London", "Europe/Londres")) == [
        "checks.yaml:2:22: bad time zone 'Europe/Londres': use an IANA name such as "
        "Europe/London or UTC"
    ]


def test_duplicate_customer_id() -> None:
    text = BASE + "  - {id: acme, name: Acme again, plan: basic}\n"
    assert problems(text) == ["checks.yaml:18:10: duplicate customer id 'acme' (first at line 13)"]


def test_duplicate_site_id() -> None:
    text = BASE + '      - {id: www, url: "https://two.acme.example/"}\n'
    assert problems(text) == ["checks.yaml:18:14: duplicate site id 'www' (first at line 17)"]


def test_duplicate_status_page_slug() -> None:
    text = BASE.replace("    plan: basic\n", "    plan: basic\n    status_page: {slug: shared}\n")
    text += "  - {id: globex, name: Globex, plan: basic, status_page: {slug: shared}}\n"
    assert problems(text) == [
        "checks.yaml:19:65: duplicate status page slug 'shared' (first at line 16)"
    ]


def test_duplicate_yaml_key() -> None:
    text = BASE.replace(
        "people:\n", 'people:\n  carol: {name: Carol Two, phone: "+447700900013"}\n'
    )
    assert problems(text) == [
        "checks.yaml:12:3: duplicate key 'carol' in people (first at line 11)"
    ]


def test_unset_environment_variable() -> None:
    text = BASE.replace('"https://www.acme.example/"', '"https://${ACME_HOST}/"')
    assert problems(text) == ["checks.yaml:17:24: environment variable ACME_HOST is not set"]


def test_environment_values_are_quoted_without_passwords() -> None:
    text = BASE.replace('"https://www.acme.example/"', '"${SECRET_URL}"')
    [message] = problems(text, env={"SECRET_URL": "ftp://user:hunter2@host/"})
    assert "hunter2" not in message
    assert message == (
        "checks.yaml:17:24: bad URL 'ftp://user:***@host/' (from ${SECRET_URL}): use http:// or "
        "https:// and a host (e.g. https://www.example.com/), tcp://host:port or dns://name"
    )


def test_a_bad_value_from_the_environment_is_shown_as_substituted() -> None:
    text = BASE.replace('"+447700900003"', '"${DESK_PHONE}"', 1)
    assert text != BASE
    [message] = problems(text, env={"DESK_PHONE": "07700 900003"})
    assert "bad phone number '07700 900003' (from ${DESK_PHONE}): use E.164" in message


def test_an_empty_environment_variable_is_a_problem() -> None:
    text = BASE.replace('"https://www.acme.example/"', '"http://127.0.0.1:${PORT}/"')
    assert problems(text, env={"PORT": ""}) == [
        "checks.yaml:17:24: environment variable PORT is empty"
    ]
    assert load(text, env={"PORT": "8080"}).customers[0].sites[0].url == "http://127.0.0.1:8080/"


def test_a_url_with_an_empty_port_is_refused() -> None:
    text = BASE.replace('"https://www.acme.example/"', '"http://127.0.0.1:/"')
    assert problems(text) == [
        "checks.yaml:17:24: bad URL 'http://127.0.0.1:/': the port after ':' is missing"
    ]


def test_timeout_must_be_shorter_than_interval() -> None:
    assert problems("defaults: {interval: 10s}\n") == [
        "checks.yaml:1:22: timeout (10s) must be shorter than interval (10s)"
    ]
    text = BASE.replace(
        'url: "https://www.acme.example/"}', 'url: "https://a.example/", timeout: 6m}'
    )
    assert problems(text) == [
        "checks.yaml:17:55: timeout (6m) must be shorter than interval (5m) "
        "in site 'www' of customer 'acme'"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"+447700900003"', '"447700900001"', "11:31: bad phone number '447700900001'"),
        ("support_manager", "manager", "11:54: unknown role 'manager'"),
        ("role: support_manager", "max_pages_per_hour: 99999999999999999999999",
         "11:68: bad number '99999999999999999999999'"),
        ("  carol:", "  oncall:", "11:3: person id 'oncall' is reserved"),
    ],
)  # fmt: skip
def test_bad_person_fields(old: str, new: str, expected: str) -> None:
    [problem] = problems(BASE.replace(old, new))
    assert problem.startswith(f"checks.yaml:{expected}")


def test_long_values_are_shortened_in_problems() -> None:
    [problem] = problems(BASE.replace("name: Acme", "name: Acme\n    title: " + "x" * 5000))
    assert len(problem) < 200
    assert problem.startswith("checks.yaml:15:5: unknown key 'title' in customer 'acme'")
    [problem] = problems(f"defaults: {{interval: {'9' * 5000}m}}\n")
    assert len(problem) < 200 and "..." in problem


def test_null_optional_values_read_as_unset() -> None:
    config = load(BASE.replace("    plan: basic\n", "    plan: basic\n    status_page:\n"))
    assert config.customers[0].status_page is None


def test_missing_keys_are_reported_at_the_mapping() -> None:
    assert problems(BASE.replace("    name: Acme\n", "")) == [
        "checks.yaml:13:5: customer 'acme' is missing 'name'"
    ]


def test_bad_site_values() -> None:
    text = BASE.replace(
        '{id: www, url: "https://www.acme.example/"}',
        '{id: WWW, url: "ftp://x/", method: FETCH, private: maybe, expect: {status: 700}}',
    )
    assert problems(text) == [
        "checks.yaml:17:14: bad id 'WWW': use lowercase letters, digits, '-' and '_', "
        "starting with a letter or digit (at most 64 characters)",
        "checks.yaml:17:24: bad URL 'ftp://x/': use http:// or https:// and a host "
        "(e.g. https://www.example.com/), tcp://host:port or dns://name",
        "checks.yaml:17:44: bad method 'FETCH': use one of GET, HEAD, POST, PUT, PATCH, "
        "DELETE, OPTIONS",
        "checks.yaml:17:60: bad value 'maybe': use true or false",
        "checks.yaml:17:84: bad status '700': use a code or a range from 100 to 599, e.g. 200-399",
    ]


def test_bad_maintenance() -> None:
    text = BASE.replace(
        '{id: www, url: "https://www.acme.example/"}',
        '{id: www, url: "https://a.example/", maintenance: [{every: "sunday 2am", duration: 2h},'
        ' {from: "2026-12-31 02:00", to: "2026-12-30 22:00"}, {every: "sun 02:00"}]}',
    )
    assert problems(text) == [
        "checks.yaml:17:68: bad weekly time 'sunday 2am': use a day and a time, e.g. \"sun 02:00\"",
        "checks.yaml:17:128: a maintenance window's 'to' must be after its 'from'",
        "checks.yaml:17:149: maintenance of site 'www' of customer 'acme' is missing 'duration'",
    ]


def test_escalation_ladder_rules() -> None:
    text = (
        BASE
        + """\
oncall:
  timezone: Europe/London
  escalation:
    - {notify: oncall, via: fax}
    - {notify: carol, via: []}
"""
    )
    assert problems(text) == [
        "checks.yaml:21:7: an escalation step needs 'then_wait' unless it is the last",
        "checks.yaml:21:16: notify 'oncall' needs an oncall rotation",
        "checks.yaml:21:29: unknown channel 'fax': use sms or voice",
        "checks.yaml:22:28: 'via' needs at least one channel: sms or voice",
    ]


# -- several problems, structure, syntax ---------------------------------------------------------


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = """\
        defaults:
          intervall: 5m
          timeout: 10x
        calendars:
          office: {timezone: Mars/Olympus, hours: {mon-fri: "08:00-18:00"}}
        plans:
          basic:
            calendar: office
            severities: {urgent: {response: 15m, resolution: 4h}}
            causes: {down: critical}
        customers:
          - {id: acme, name: Acme, plan: basic}
          - {id: acme, name: Acme, plan: premium}
        """
    assert problems(text) == [
        "checks.yaml:2:3: unknown key 'intervall' in defaults; "
        "expected one of: interval, timeout, confirm, recheck, recover, agree",
        "checks.yaml:3:12: bad duration '10x': use a number and a unit: 30s, 5m, 8h, 2d",
        "checks.yaml:5:22: bad time zone 'Mars/Olympus': use an IANA name such as "
        "Europe/London or UTC",
        "checks.yaml:10:20: unknown severity 'critical' in plan 'basic'; defined: urgent",
        "checks.yaml:13:10: duplicate customer id 'acme' (first at line 12)",
        "checks.yaml:13:34: unknown plan 'premium'; defined: basic",
    ]


def test_config_error_message_lists_every_problem() -> None:
    with pytest.raises(ConfigError) as error:
        load_config_text("defaults: {a: 1, b: 2}\n", path="x.yaml")
    assert str(error.value).splitlines() == [str(p) for p in error.value.problems]
    assert error.value.problems[0] == Problem("x.yaml", 1, 12, error.value.problems[0].message)
    assert len(error.value.problems) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "checks.yaml:1:1: the checks file must be a mapping of keys to values, "
                       "not a list"),
        ("customers: {id: acme}\n", "checks.yaml:1:12: customers must be a list, not a mapping"),
        ("people: [alice]\n", "checks.yaml:1:9: people must be a mapping of keys to values, "
                              "not a list"),
        ("calendars: {1: x}\n", "checks.yaml:1:16: calendar '1' must be a mapping of keys to "
                                "values, not 'x'"),
        ("calendars: {[a]: x}\n", "checks.yaml:1:13: a key in calendars must be a name, "
                                  "not a list"),
        ("people:\n  <<: 5\n", "checks.yaml:2:7: '<<' must merge a mapping or a list of mappings"),
    ],
)  # fmt: skip
def test_wrong_shapes(text: str, expected: str) -> None:
    assert expected in problems(text)


def test_yaml_syntax_error_has_its_position() -> None:
    [problem] = problems("customers:\n  - id: acme\n    name: [unclosed\n")
    assert problem.startswith("checks.yaml:4:1: YAML syntax: ")


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as error:
        load_config(missing)
    [problem] = error.value.problems
    assert (problem.file, problem.line, problem.col) == (str(missing), 1, 1)
    assert problem.message.startswith("cannot read file: ")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"customers: []\n\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"binary.yaml:2:1: cannot read file: it is not UTF-8"):
        load_config(binary)


def test_alias_bombs_are_refused_quickly() -> None:
    lines = ['a0: &a0 {id: x, url: "https://x.example/"}']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    text = "\n".join(lines) + "\ncustomers:\n  - {id: c, name: C, plan: p, sites: *a11}\n"
    assert problems(text)  # refused (unknown keys, too many entries), not ground through


def test_the_entry_limit_grows_with_the_file_so_big_plain_files_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from uptimeguard.config import _yamlnodes

    monkeypatch.setattr(_yamlnodes, "MAX_ENTRIES", 50)
    sites = "".join(
        f'      - {{id: s{i}, url: "https://s{i}.acme.example/"}}\n' for i in range(200)
    )
    big = BASE.replace('      - {id: www, url: "https://www.acme.example/"}\n', sites)
    config = load_config_text(big, env={})
    assert len(config.site_refs()) == 200  # 400+ entries, none through an alias
    # 100 customers through one alias, each with the same 100 sites through another.
    head, _, _ = BASE.partition("customers:")
    hundred = ", ".join(["*s"] * 100)
    bomb = head + (
        's: &s {id: x, url: "https://x.example/"}\n'
        f"l: &l [{hundred}]\n"
        "c: &c {id: acme, name: Acme, plan: basic, sites: *l}\n"
        f"customers: [{hundred.replace('s', 'c')}]\n"
    )
    assert len(bomb) < 2_000  # yet 100 x (4 + 100 x 2) entries behind it
    expected = "checks.yaml:1:1: the file expands (through anchors) to too many entries"
    assert expected in problems(bomb)


def test_a_control_character_is_named_with_its_position() -> None:
    assert problems("customers:\n  - a\x07b\n") == [
        "checks.yaml:2:6: YAML syntax: character '\\x07' is not allowed"
    ]


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    assert problems("customers: " + "[" * 2000 + "]" * 2000 + "\n")


# -- fuzz: nothing but ConfigError ever escapes --------------------------------------------------


def _never_raises_anything_else(text: str) -> None:
    try:
        load_config_text(text, env={"HOST": "example.com"})
    except ConfigError as error:
        assert error.problems
        assert all(p.line >= 1 and p.col >= 1 for p in error.problems)


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text())
def test_fuzz_random_text(text: str) -> None:
    _never_raises_anything_else(text)


_BUNDLED_TEXT = BUNDLED.read_text(encoding="utf-8")
_TOKENS = [
    "", " ", ":", "-", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ", "!!str ", "\n", "  ",
    "'", '"', "#", "${HOST}", "${X", "$${", "0", "-1", "99999999999999999999", "1e9", "24:00",
    "null", "~", "true", "24x7", "mon-sun", "?", "|", ">",
]  # fmt: skip


@st.composite
def _mutations(draw: st.DrawFn) -> str:
    text = _BUNDLED_TEXT
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = min(len(text), start + draw(st.integers(0, 40)))
        insert = draw(st.one_of(st.sampled_from(_TOKENS), st.text(max_size=8)))
        text = text[:start] + insert + text[end:]
    return text


@FUZZ
@given(_mutations())
def test_fuzz_mutations_of_the_bundled_file(text: str) -> None:
    _never_raises_anything_else(text)


@FUZZ
@given(st.lists(st.sampled_from(_BUNDLED_TEXT.splitlines()), max_size=60))
def test_fuzz_shuffled_lines_of_the_bundled_file(lines: list[str]) -> None:
    _never_raises_anything_else("\n".join(lines))


def test_an_alias_bomb_padded_to_a_large_file_is_refused_before_it_is_read() -> None:
    # The entry limit grows with the file's length, so padding (a long comment) used to let
    # a bomb through to be read: here 600,000 entries behind 1,300 nodes. The tree's size is
    # now measured on the composed graph, where the padding counts for nothing.
    head, _, _ = BASE.partition("customers:")
    thousand = ", ".join(["*s"] * 1000)
    bomb = head + (
        "#" + "x" * 1_999_998 + "\n"
        's: &s {id: x, url: "https://x.example/"}\n'
        f"l: &l [{thousand}]\n"
        "c: &c {id: acme, name: Acme, plan: basic, sites: *l}\n"
        f"customers: [{', '.join(['*c'] * 300)}]\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config_text(bomb, env={})
    assert [str(p) for p in error.value.problems] == [
        "checks.yaml:1:1: the file expands (through anchors) to too many entries"
    ]


def test_an_anchor_that_contains_itself_is_a_problem() -> None:
    assert problems(BASE + "x: &x [*x]\n") == [
        "checks.yaml:1:1: the file expands (through anchors) to too many entries"
    ]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "checks.yaml"
    path.write_text(BASE + "# " + "x" * 5000 + "\n")
    size = path.stat().st_size
    with pytest.raises(ConfigError) as error:
        load_config(path, env={}, max_bytes=4096)
    assert [str(p) for p in error.value.problems] == [
        f"{path}:1:1: the file is {size:,} bytes, over the 4,096-byte limit for a checks file; "
        "raise UPTIMEGUARD_CHECKS_MAX_BYTES to load it"
    ]
    assert load_config(path, env={}, max_bytes=size).customers
