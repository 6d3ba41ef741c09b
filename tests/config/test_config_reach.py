"""Contacts, ad-hoc cover, `nps`, the desk's email and a plan's `phone`/`callback` severities:
what they read as, and each problem at FILE:LINE:COL."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta

import pytest

from uptimeguard.config import ConfigError, Contact, Cover, Nps, load_config_text

BASE = """\
calendars:
  office: {timezone: Europe/London, hours: {mon-fri: "08:00-18:00"}}
plans:
  basic:
    calendar: office
    severities:
      urgent: {response: 15m, resolution: 4h}
      query: {response: 8h, resolution: 10d}
  other:
    calendar: office
    severities:
      one: {response: 15m, resolution: 4h}
      two: {response: 8h, resolution: 10d}
    phone: two
    callback: one
customers:
  - id: acme
    name: Acme
    plan: basic
    sites: []
"""


def load(extra: str = "", top: str = ""):  # type: ignore[no-untyped-def]
    return load_config_text(textwrap.dedent(BASE + extra + top), env={})


def problems(extra: str = "", top: str = "") -> list[str]:
    with pytest.raises(ConfigError) as error:
        load(extra, top)
    return [str(p).removeprefix("checks.yaml:") for p in error.value.problems]


def test_contacts_are_read():
    config = load(
        "    contacts:\n"
        '      - {name: Jo, phone: "+447700900101", email: jo@acme.example}\n'
        "      - {name: Sam, email: sam@acme.example}\n"
        '      - {name: Kim, phone: "+447700900102"}\n'
    )
    assert config.customer("acme").contacts == (
        Contact("Jo", "+447700900101", "jo@acme.example"),
        Contact("Sam", None, "sam@acme.example"),
        Contact("Kim", "+447700900102", None),
    )


def test_contact_problems():
    found = problems(
        "    contacts:\n"
        "      - {name: Jo}\n"
        '      - {name: Sam, phone: "07700 900101"}\n'
        "      - {name: Kim, email: kim-at-acme}\n"
        '      - {name: Lee, phone: "+447700900101", email: a@b.example}\n'
        '      - {name: Max, phone: "+447700900101"}\n'
        "      - {name: Ann, email: A@b.example}\n"
        '      - {phone: "+447700900109"}\n'
        "  - id: beta\n    name: Beta\n    plan: basic\n    sites: []\n    contacts:\n"
        '      - {name: Bo, phone: "+447700900101"}\n'
    )
    assert found == [
        "22:9: a contact of customer 'acme' needs a phone or an email",
        "23:28: bad phone number '07700 900101': use E.164, a + and 8 to 15 digits, e.g. "
        "+447700900001",
        "24:28: bad email address 'kim-at-acme': use name@example.com",
        "26:28: phone +447700900101 is already a contact of this customer (line 25)",
        "27:28: duplicate contact email (first at line 25)",
        "28:9: a contact of customer 'acme' is missing 'name'",
        "34:27: phone +447700900101 is already a contact of customer 'acme' (line 25)",
    ]


def test_cover_is_read_in_order_with_whole_days():
    config = load(
        "    cover:\n"
        '      - {from: "2027-03-01 18:00", to: "2027-03-02 06:00", plan: other}\n'
        "      - {from: 2026-12-20, to: 2027-01-04, plan: other}\n"
    )
    assert config.customer("acme").cover == (
        Cover(datetime(2026, 12, 20), datetime(2027, 1, 5), "other", "2026-12-20..2027-01-04"),
        Cover(
            datetime(2027, 3, 1, 18),
            datetime(2027, 3, 2, 6),
            "other",
            "2027-03-01 18:00..2027-03-02 06:00",
        ),
    )


def test_overlapping_cover_names_both_periods():
    found = problems(
        "    cover:\n"
        "      - {from: 2026-12-20, to: 2027-01-04, plan: other}\n"
        "      - {from: 2027-01-04, to: 2027-01-10, plan: other}\n"
    )
    assert found == [
        "23:9: cover 2027-01-04..2027-01-10 overlaps cover 2026-12-20..2027-01-04 (line 22)"
    ]


def test_cover_problems():
    found = problems(
        "    cover:\n"
        "      - {from: 2027-01-10, to: 2027-01-04, plan: other}\n"
        "      - {from: 2027-02-01, to: 2027-02-02, plan: basic}\n"
        "      - {from: 2027-03-01, to: 2027-03-02, plan: gold}\n"
        "      - {from: soon, to: 2027-04-02, plan: other}\n"
        "      - {from: 2027-05-01, plan: other}\n"
    )
    assert found == [
        "22:32: a cover's 'to' must be after its 'from'",
        "23:50: cover plan 'basic' is the customer's own plan",
        "24:50: unknown plan 'gold'; defined: basic, other",
        "25:16: bad date 'soon': use YYYY-MM-DD (a whole day) or \"YYYY-MM-DD HH:MM\", local time",
        "26:9: cover of customer 'acme' is missing 'to'",
    ]


def test_nps_defaults_and_settings():
    assert load().nps == Nps(True, timedelta(days=30))
    assert load(top="nps: {every: 14d}\n").nps == Nps(True, timedelta(days=14))
    assert load(top="nps: {enabled: false}\n").nps.enabled is False
    assert problems(top="nps: {every: 2h, often: yes}\n") == [
        "21:14: nps 'every' must be at least 1d",
        "21:18: unknown key 'often' in nps; expected one of: enabled, every",
    ]


def test_plan_phone_and_callback_severities():
    config = load()
    assert (config.plans["basic"].phone_severity, config.plans["basic"].callback_severity) == (
        "urgent",
        "query",
    )
    assert (config.plans["other"].phone_severity, config.plans["other"].callback_severity) == (
        "two",
        "one",
    )
    bad = BASE.replace("    phone: two\n", "    phone: three\n")
    with pytest.raises(ConfigError) as error:
        load_config_text(bad, env={})
    assert [str(p) for p in error.value.problems] == [
        "checks.yaml:14:12: unknown severity 'three' in plan 'other'; defined: one, two"
    ]


def test_desk_email():
    people = 'people:\n  al: {name: Al, phone: "+447700900001"}\n'
    config = load(top=people + "oncall:\n  timezone: UTC\n  desk: {email: desk@x.example}\n")
    assert config.oncall is not None
    assert (config.oncall.desk_phone, config.oncall.desk_email) == (None, "desk@x.example")
    assert problems(top=people + "oncall:\n  timezone: UTC\n  desk: {}\n") == [
        "25:9: oncall desk needs a phone, an email or both"
    ]
    assert problems(top=people + "oncall:\n  timezone: UTC\n  desk: {email: nobody}\n") == [
        "25:17: bad email address 'nobody': use name@example.com"
    ]
