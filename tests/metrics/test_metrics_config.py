"""`Metrics.use_config`: zeros for bounded label sets, no series for sites that were removed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from uptimeguard.config import load_config_text
from uptimeguard.metrics import Metrics

CHECKS = """
calendars:
  office: {{timezone: Europe/London, hours: {{mon-fri: "08:00-18:00"}}}}
plans:
  standard:
    calendar: office
    severities:
      mission_critical: {{response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}}
      bug_fix: {{response: 2h, resolution: 1d}}
    causes: {{down: mission_critical, http_5xx: bug_fix}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
{sites}
"""


def config(*site_ids: str):  # type: ignore[no-untyped-def]
    sites = "\n".join(f"      - {{id: {s}, url: 'https://{s}.acme.example/'}}" for s in site_ids)
    return load_config_text(CHECKS.format(sites=sites), path="checks.yaml")


def exposed(metrics: Metrics) -> dict[str, list[dict[str, str]]]:
    text = generate_latest(metrics.registry).decode()
    found: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample.labels)
    return found


def test_bounded_label_sets_start_at_zero() -> None:
    metrics = Metrics(CollectorRegistry(), process=False)
    pages = exposed(metrics)["uptimeguard_pages_total"]
    assert len(pages) == 8  # sms, voice x sent, delivered, failed, no_answer

    metrics.use_config(config("www"))
    found = exposed(metrics)
    assert sorted(
        (s["severity"], s["cause"]) for s in found["uptimeguard_incidents_opened_total"]
    ) == [("bug_fix", "callback"), ("bug_fix", "http_5xx"), ("bug_fix", "manual"),
          ("mission_critical", "down"), ("mission_critical", "manual"),
          ("mission_critical", "phone")]  # fmt: skip
    assert len(found["uptimeguard_sla_breaches_total"]) == 4  # 2 severities x 2 targets
    assert len(found["uptimeguard_incidents_open"]) == 2
    registry = metrics.registry
    assert registry.get_sample_value(
        "uptimeguard_sla_breaches_total",
        {"customer": "acme", "severity": "bug_fix", "target": "response"},
    ) == 0  # fmt: skip


def test_a_reload_drops_the_series_of_removed_sites_only() -> None:
    metrics = Metrics(CollectorRegistry(), process=False)
    metrics.use_config(config("www", "shop"))
    for site in ("www", "shop"):
        metrics.sites.series("acme", site).record("up", 0.1, 200, 2e9)
        metrics.sites.set_uptime("acme", site, "1d", 1.0)
    metrics.incidents_opened.labels("acme", "bug_fix", "http_5xx").inc()

    metrics.use_config(config("www"))

    found = exposed(metrics)
    for name in (
        "uptimeguard_probes_total",
        "uptimeguard_site_probe_duration_seconds",
        "uptimeguard_site_up",
        "uptimeguard_site_http_status",
        "uptimeguard_tls_cert_expiry_timestamp_seconds",
        "uptimeguard_uptime_ratio",
    ):
        assert {s["site"] for s in found[name]} == {"www"}, name
    assert metrics.registry.get_sample_value(
        "uptimeguard_incidents_opened_total",
        {"customer": "acme", "severity": "bug_fix", "cause": "http_5xx"},
    ) == 1  # fmt: skip
