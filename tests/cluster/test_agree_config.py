"""`agree: N` in the checks file: in `defaults` and per site, 1 by default, validated with
FILE:LINE:COL."""

from __future__ import annotations

import textwrap

import pytest

from uptimeguard.config import ConfigError, load_config_text

BASE = """
defaults: {{interval: 1m, agree: {default}}}
calendars:
  office: {{timezone: UTC, hours: {{mon-fri: "08:00-18:00"}}}}
plans:
  p:
    calendar: office
    severities: {{major: {{response: 1h, resolution: 8h}}}}
    causes: {{down: major}}
customers:
  - id: acme
    name: Acme
    plan: p
    sites:
      - {{id: www, url: "https://www.acme.example/", agree: {site}}}
      - {{id: api, url: "https://api.acme.example/"}}
"""


def agree_of(default: str, site: str) -> dict[str, int]:
    config = load_config_text(textwrap.dedent(BASE.format(default=default, site=site)))
    return {ref.site.id: ref.agree for ref in config.site_refs()}


def test_agree_defaults_to_one_and_a_site_overrides_it() -> None:
    config = load_config_text(
        textwrap.dedent(
            BASE.replace(", agree: {default}", "").replace(", agree: {site}", "").format()
        )
    )
    assert {ref.site.id: ref.agree for ref in config.site_refs()} == {"www": 1, "api": 1}
    assert agree_of("2", "3") == {"www": 3, "api": 2}
    assert agree_of("3", "1") == {"www": 1, "api": 3}


@pytest.mark.parametrize(
    ("default", "site", "where"),
    [("0", "1", "2:33"), ("two", "1", "2:33"), ("2", "21", "15:60"), ("2", "-1", "15:60")],
)
def test_a_bad_agree_names_its_line_and_column(default: str, site: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        agree_of(default, site)
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"checks.yaml:{where}: bad number"), problems
    assert "use a whole number from 1 to 20" in problems[0]
