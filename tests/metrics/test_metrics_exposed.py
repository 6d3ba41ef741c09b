"""Every documented metric at /metrics, with exactly its labels, after a run with an outage."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from metrics_scenario import Samples, World, run_outage, running_world
from prometheus_client import REGISTRY, generate_latest

from uptimeguard.config.models import CHANNELS
from uptimeguard.metrics import PAGE_RESULTS

# The README's metrics: name -> (type, labels).
DOCUMENTED: dict[str, tuple[str, set[str]]] = {
    "uptimeguard_probes_total": ("counter", {"customer", "site", "outcome"}),
    # Per customer by default; per site (customer, site) with PER_SITE_HISTOGRAM
    # (tests/metrics/test_site_metrics.py), each site's last probe time beside it.
    "uptimeguard_probe_duration_seconds": ("histogram", {"customer"}),
    "uptimeguard_site_probe_duration_seconds": ("gauge", {"customer", "site"}),
    "uptimeguard_site_up": ("gauge", {"customer", "site"}),
    "uptimeguard_site_http_status": ("gauge", {"customer", "site"}),
    "uptimeguard_tls_cert_expiry_timestamp_seconds": ("gauge", {"customer", "site"}),
    "uptimeguard_uptime_ratio": ("gauge", {"customer", "site", "window"}),
    "uptimeguard_incidents_open": ("gauge", {"customer", "severity"}),
    "uptimeguard_incidents_opened_total": ("counter", {"customer", "severity", "cause"}),
    "uptimeguard_sla_breaches_total": ("counter", {"customer", "severity", "target"}),
    "uptimeguard_pages_total": ("counter", {"channel", "result"}),
    "uptimeguard_page_ack_seconds": ("histogram", set()),
    "uptimeguard_scheduler_lag_seconds": ("histogram", set()),
}
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


def series(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for sample_name, labels in samples if sample_name == name]


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.fixture
async def world(tmp_path: Path, certs, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    async with running_world(tmp_path, certs, monkeypatch) as running:
        yield running


async def test_every_spec_metric_is_exported_with_its_labels(world: World) -> None:
    await run_outage(world)
    await world.wait_for("uptimeguard_uptime_ratio", 0, customer="acme", site="www", window="30d")
    samples = await world.samples()

    for name, (kind, labels) in DOCUMENTED.items():
        base = name.removesuffix("_total")
        for suffix in SUFFIXES[kind]:
            found = series(samples, base + suffix)
            assert found, f"{base + suffix} is not at /metrics"
            expected = labels | {"le"} if suffix == "_bucket" else labels
            for labelset in found:
                assert set(labelset) == expected, (base + suffix, labelset)

    # What the outage did, series by series.
    www = {"customer": "acme", "site": "www"}
    assert value(samples, "uptimeguard_probes_total", **www, outcome="up") >= 2
    assert value(samples, "uptimeguard_probes_total", **www, outcome="http_5xx") >= 2
    assert value(samples, "uptimeguard_probes_total", **www, outcome="refused") >= 1
    assert value(samples, "uptimeguard_probe_duration_seconds_count", customer="acme") >= 5
    assert 0 < value(samples, "uptimeguard_site_probe_duration_seconds", **www) < 1
    assert value(samples, "uptimeguard_site_up", **www) == 1
    assert value(samples, "uptimeguard_site_http_status", **www) == 200
    expiry = value(
        samples, "uptimeguard_tls_cert_expiry_timestamp_seconds", customer="acme", site="secure"
    )
    assert 44 * 86400 < expiry - time.time() < 46 * 86400  # the leaf is valid for 45 days
    assert [s for s in series(samples, "uptimeguard_tls_cert_expiry_timestamp_seconds")] == [
        {"customer": "acme", "site": "secure"}
    ]  # no HTTPS, no expiry
    for window in ("1d", "30d"):
        assert 0 < value(samples, "uptimeguard_uptime_ratio", **www, window=window) < 1
        assert (
            value(samples, "uptimeguard_uptime_ratio", customer="globex", site="www", window=window)
            == 1
        )
    for severity in ("mission_critical", "bug_fix"):
        for customer in ("acme", "globex"):
            assert (
                value(samples, "uptimeguard_incidents_open", customer=customer, severity=severity)
                == 0
            )
    opened = {"customer": "acme", "severity": "bug_fix", "cause": "http_5xx"}
    assert value(samples, "uptimeguard_incidents_opened_total", **opened) == 1
    # The upgrade to mission_critical changed an open incident; it opened none.
    mc_down = {"customer": "acme", "severity": "mission_critical", "cause": "down"}
    assert value(samples, "uptimeguard_incidents_opened_total", **mc_down) == 0
    breach = {"customer": "acme", "severity": "mission_critical"}
    assert value(samples, "uptimeguard_sla_breaches_total", **breach, target="response") == 1
    assert value(samples, "uptimeguard_sla_breaches_total", **breach, target="resolution") == 0
    assert value(samples, "uptimeguard_pages_total", channel="sms", result="sent") >= 1
    assert value(samples, "uptimeguard_page_ack_seconds_count") == 1
    assert 0 < value(samples, "uptimeguard_page_ack_seconds_sum") < 60
    assert value(samples, "uptimeguard_scheduler_lag_seconds_count") >= 10

    # Zeros for every bounded label set, so increase() sees the first event of each.
    assert {(s["channel"], s["result"]) for s in series(samples, "uptimeguard_pages_total")} == {
        (channel, result) for channel in CHANNELS for result in PAGE_RESULTS
    }
    assert value(samples, "uptimeguard_sla_breaches_total", customer="globex",
                 severity="bug_fix", target="resolution") == 0  # fmt: skip
    assert value(samples, "uptimeguard_incidents_opened_total", customer="globex",
                 severity="bug_fix", cause="manual") == 0  # fmt: skip


async def test_labels_stay_bounded_and_the_registry_is_the_apps(world: World) -> None:
    await world.wait_for("uptimeguard_site_up", 1, customer="acme", site="secure")
    samples = await world.samples()
    allowed = {"customer", "site", "severity", "cause", "outcome", "channel", "result"}
    allowed |= {"window", "target", "le"}
    allowed |= {"node", "location"}  # bounded by the nodes that run (uptimeguard_node_info)
    for name, labels in samples:
        if not name.startswith("uptimeguard_"):
            continue
        for label, text in labels:
            assert label in allowed, (name, label)
            assert "://" not in text and "127.0.0.1" not in text, (name, label, text)
            assert not text.isdigit() or label == "le", (name, label, text)  # no incident ids

    # The process and Python collectors are on the same registry.
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"):
        assert series(samples, name), f"{name} is not at /metrics"
    assert series(samples, "python_gc_objects_collected_total")

    # The registry is the app's own, never the global one.
    assert world.daemon.metrics.registry is not REGISTRY
    assert b"uptimeguard_" not in generate_latest(REGISTRY)
