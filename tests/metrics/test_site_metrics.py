"""The compact per-site series: what `Metrics.exposition` writes is what prometheus_client's
own encoders write for the same samples, in both text formats, and parses back."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics import parser as openmetrics_parser
from prometheus_client.parser import text_string_to_metric_families

from uptimeguard.metrics import SITES_PER_CHUNK, Metrics

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
Sample = tuple[str, tuple[tuple[str, str], ...], float]


def filled(sites: int = 3, per_site_histogram: bool = False) -> Metrics:
    metrics = Metrics(CollectorRegistry(), process=False, per_site_histogram=per_site_histogram)
    for i in range(sites):
        series = metrics.sites.series("acme", f"s{i}")
        series.record("up", 0.004 * (i + 1), 200, None)
        series.record("http_5xx", 0.3, 503, 1.8e9 + i)
        series.record("timeout", None, None, None)  # no duration: counted, not observed
        metrics.sites.set_uptime("acme", f"s{i}", "1d", 2 / 3)
    metrics.sites.series('odd "cust"\\', "new\nline")  # looked up, never probed: no series
    metrics.sites.series('odd "cust"\\', "x").record("refused", 10.0, None, None)
    metrics.pages.labels("sms", "sent").inc()
    return metrics


def text_of(metrics: Metrics, accept: str = "", names: tuple[str, ...] = ()) -> tuple[str, str]:
    content_type, chunks = metrics.exposition(accept, names)
    return content_type, b"".join(chunks).decode()


def samples(text: str, openmetrics: bool = False) -> set[Sample]:
    parse = (
        openmetrics_parser.text_string_to_metric_families
        if openmetrics
        else text_string_to_metric_families
    )
    return {
        (s.name, tuple(sorted(s.labels.items())), s.value)
        for family in parse(text)
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_the_fast_text_holds_the_same_samples_as_prometheus_clients() -> None:
    metrics = filled(per_site_histogram=True)
    content_type, text = text_of(metrics)
    assert content_type.startswith("text/plain; version=0.0.4")
    expected = samples(generate_latest(metrics.registry).decode())
    assert samples(text) == expected
    bucket = "uptimeguard_probe_duration_seconds_bucket"
    labels = (("customer", "acme"), ("le", "0.005"), ("site", "s0"))
    assert (bucket, labels, 0.0) not in expected  # 0.005 is not a bound; 0.01 is
    assert (bucket, (("customer", "acme"), ("le", "0.01"), ("site", "s0")), 1.0) in expected
    assert ("uptimeguard_probes_total", (("customer", "acme"), ("outcome", "timeout"),
            ("site", "s1")), 1.0) in expected  # fmt: skip
    assert not any(s[1] and dict(s[1]).get("site") == "new\nline" for s in expected)
    assert any(dict(s[1]).get("customer") == 'odd "cust"\\' for s in expected)


def test_by_default_the_probe_histogram_is_per_customer_beside_each_sites_last_time() -> None:
    metrics = filled()
    _, text = text_of(metrics)
    found = samples(text)
    assert found == samples(generate_latest(metrics.registry).decode())
    histogram = {
        (name, labels): value
        for name, labels, value in found
        if name.startswith("uptimeguard_probe_duration_seconds")
    }
    # Three acme sites, each with two timed probes (0.004 * (i + 1) and 0.3), one untimed.
    acme = (("customer", "acme"),)
    assert histogram[("uptimeguard_probe_duration_seconds_count", acme)] == 6
    assert histogram[("uptimeguard_probe_duration_seconds_bucket", (*acme, ("le", "0.01")))] == 2
    assert histogram[("uptimeguard_probe_duration_seconds_bucket", (*acme, ("le", "+Inf")))] == 6
    assert all(dict(labels).keys() <= {"customer", "le"} for _, labels in histogram)
    last = "uptimeguard_site_probe_duration_seconds"
    assert (last, (("customer", "acme"), ("site", "s2")), 0.3) in found  # the untimed last
    # probe leaves the time of the one before; a site with no timed probe has none:
    assert not any(n == last and dict(labels)["site"] == "new\nline" for n, labels, _ in found)
    assert len(text) < len(text_of(filled(per_site_histogram=True))[1])


def test_kept_text_follows_every_change_of_its_sites() -> None:
    metrics = filled(sites=SITES_PER_CHUNK + 5)
    before = samples(text_of(metrics)[1])
    series = metrics.sites.series("acme", "s7")
    series.record("http_5xx", 0.2, 500, 1.9e9)  # down, another status, a new certificate
    metrics.sites.set_uptime("acme", "s7", "30d", 0.5)
    metrics.sites.series("acme", "s1").record("http_5xx", 0.3, 503, 1.8e9 + 1)  # the same
    metrics.sites.series("acme", "new").record("up", 0.01, 200, None)
    after = samples(text_of(metrics)[1])
    assert after == samples(generate_latest(metrics.registry).decode())
    s7 = (("customer", "acme"), ("site", "s7"))
    assert ("uptimeguard_site_up", s7, 0.0) in after
    assert ("uptimeguard_site_http_status", s7, 500.0) in after
    assert ("uptimeguard_tls_cert_expiry_timestamp_seconds", s7, 1.9e9) in after
    assert ("uptimeguard_uptime_ratio", (*s7, ("window", "30d")), 0.5) in after
    assert ("uptimeguard_site_up", (("customer", "acme"), ("site", "new")), 1.0) in after
    changed = {(name, labels) for name, labels, _ in before ^ after}
    assert {dict(labels).get("site") for _, labels in changed} <= {"s7", "s1", "new", None}
    metrics.sites.retain({("acme", "s7")})
    left = samples(text_of(metrics)[1])
    assert {dict(labels).get("site") for _, labels, _ in left} == {None, "s7"}


def test_openmetrics_is_written_when_asked_with_one_eof_at_the_end() -> None:
    metrics = filled()
    content_type, text = text_of(metrics, OPENMETRICS)
    assert content_type.startswith("application/openmetrics-text")
    assert text.endswith("\n# EOF\n") and text.count("# EOF") == 1
    assert "# TYPE uptimeguard_probes counter\n" in text
    assert samples(text, openmetrics=True) == samples(generate_latest(metrics.registry).decode())


def test_names_keep_only_the_families_asked_for() -> None:
    metrics = filled()
    _, text = text_of(metrics, names=("uptimeguard_site_up", "uptimeguard_pages_total"))
    assert {name for name, _, _ in samples(text)} == {
        "uptimeguard_site_up",
        "uptimeguard_pages_total",
    }
    _, text = text_of(metrics, names=("uptimeguard_probe_duration_seconds_count",))
    assert {name for name, _, _ in samples(text)} == {
        "uptimeguard_probe_duration_seconds_bucket",
        "uptimeguard_probe_duration_seconds_count",
        "uptimeguard_probe_duration_seconds_sum",
    }


def test_many_sites_are_written_in_chunks_and_parse_back_whole() -> None:
    metrics = filled(sites=2 * SITES_PER_CHUNK + 7)
    _, chunks = metrics.exposition("")
    parts = list(chunks)
    assert len(parts) > 6 * 3  # each family over three batches of sites
    found = samples(b"".join(parts).decode())
    up = [s for s in found if s[0] == "uptimeguard_site_up" and dict(s[1])["customer"] == "acme"]
    assert len(up) == 2 * SITES_PER_CHUNK + 7


def test_a_removed_site_loses_its_series() -> None:
    metrics = filled()
    metrics.sites.retain({("acme", "s0")})
    assert len(metrics.sites) == 1
    sites = {dict(labels).get("site") for _, labels, _ in samples(text_of(metrics)[1])}
    assert sites == {None, "s0"}  # None: the series without a site label (pages)
