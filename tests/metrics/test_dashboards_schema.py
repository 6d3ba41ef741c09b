"""The dashboards in `dashboards/` hold to Grafana's dashboard JSON model (schemaVersion 39),
read only metrics uptimeguard exports, and pick their data source through a variable; the
provisioning files and the Prometheus example are valid. No Grafana binary is needed."""

from __future__ import annotations

import importlib.util
import itertools
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from dashboard_support import (
    BUILTINS,
    DASHBOARDS,
    all_panels,
    dashboard_files,
    interpolate,
    load,
    query_panels,
    variable_query,
    variables_in,
)
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from uptimeguard.metrics import Metrics

# Grafana's built-in panel plugins (the `type` of a panel).
GRAFANA_PANEL_TYPES = frozenset(
    {"row", "timeseries", "stat", "table", "bargauge", "gauge", "text", "state-timeline",
     "status-history", "piechart", "barchart", "heatmap", "histogram", "logs", "nodeGraph",
     "geomap", "canvas", "trend", "xychart", "dashlist", "alertlist", "annolist", "news",
     "traces", "flamegraph", "candlestick", "datagrid"}
)  # fmt: skip
VARIABLE_TYPES = frozenset(
    {"query", "datasource", "custom", "constant", "interval", "textbox", "adhoc"}
)
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
METRIC_NAME = re.compile(r"\b((?:uptimeguard|process|python)_[a-z_]+)\b")

FILES = dashboard_files()
IDS = [path.name for path in FILES]


class OneNode:
    """The cluster as one node sees it, for the metrics' sample names."""

    name, location = "n1", "default"

    def is_leader(self) -> bool:
        return True

    def sites_owned(self) -> int:
        return 1

    def live_by_location(self) -> dict[str, int]:
        return {"default": 1}

    def degraded_locations(self) -> frozenset[str]:
        return frozenset()

    def short_sites(self) -> int:
        return 0

    def handovers(self) -> int:
        return 0


def exported_names() -> set[str]:
    """Every sample name uptimeguard exposes once each labelled metric has a series."""
    m = Metrics(CollectorRegistry())
    m.sites.series("acme", "www").record("up", 0.1, 200, 2e9)
    m.sites.set_uptime("acme", "www", "1d", 1.0)
    m.incidents_open.labels("acme", "bug_fix")
    m.incidents_opened.labels("acme", "bug_fix", "http_5xx")
    m.sla_breaches.labels("acme", "bug_fix", "response")
    m.cluster.view = OneNode()
    return {
        sample.name
        for family in text_string_to_metric_families(generate_latest(m.registry).decode())
        for sample in family.samples
    }


def test_there_are_an_overview_and_a_customer_dashboard() -> None:
    assert IDS == ["uptimeguard-customer.json", "uptimeguard-overview.json"]


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_dashboard_model(path: Path) -> None:
    d = load(path)
    for key, kind in {
        "title": str, "uid": str, "schemaVersion": int, "panels": list, "templating": dict,
        "time": dict, "editable": bool, "tags": list, "refresh": str, "timezone": str,
        "version": int, "annotations": dict,
    }.items():  # fmt: skip
        assert isinstance(d.get(key), kind), f"{key} missing or not {kind.__name__}"
    assert 36 <= d["schemaVersion"] <= 41
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", d["uid"])
    assert d["id"] is None, "an id would make importing it overwrite another dashboard"
    assert "__inputs" not in d, "the datasource variable replaces import-time inputs"
    assert set(d["time"]) >= {"from", "to"}

    ids = [panel["id"] for panel in all_panels(d)]
    assert all(isinstance(i, int) and i > 0 for i in ids)
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    boxes = []
    for panel in all_panels(d):
        where = f"panel {panel.get('id')} {panel.get('title')!r}"
        assert panel["type"] in GRAFANA_PANEL_TYPES, where
        assert isinstance(panel.get("title"), str) and panel["title"], where
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("h", "w", "x", "y")), where
        assert grid["h"] >= 1 and 1 <= grid["w"] <= 24 and grid["x"] >= 0, where
        assert grid["x"] + grid["w"] <= 24, where
        boxes.append((grid["x"], grid["y"], grid["w"], grid["h"], where))
        if panel["type"] == "row":
            assert isinstance(panel["collapsed"], bool) and isinstance(panel["panels"], list)
            continue
        assert panel["datasource"] == DATASOURCE, where
        assert isinstance(panel["fieldConfig"]["defaults"], dict), where
        assert isinstance(panel["fieldConfig"]["overrides"], list), where
        assert isinstance(panel["options"], dict), where
        assert panel.get("description"), f"{where}: say what it shows"
        targets = panel["targets"]
        assert targets, where
        refs = [t["refId"] for t in targets]
        assert len(refs) == len(set(refs)) and all(refs), where
        for t in targets:
            assert isinstance(t["expr"], str) and t["expr"].strip(), where
            assert t.get("datasource", DATASOURCE) == DATASOURCE, where
    for a, b in itertools.combinations(boxes, 2):
        overlap = (
            a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]
        )
        assert not overlap, f"{a[4]} overlaps {b[4]}"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_variables_and_data_source(path: Path) -> None:
    d = load(path)
    variables = d["templating"]["list"]
    names = [v["name"] for v in variables]
    assert len(names) == len(set(names))
    sources = [v for v in variables if v["type"] == "datasource"]
    assert [(v["name"], v["query"]) for v in sources] == [("datasource", "prometheus")]
    assert "${datasource}" not in repr(sources), "the data source variable must be concrete"
    defined: set[str] = set()
    for v in variables:
        assert v["type"] in VARIABLE_TYPES, v["name"]
        if v["type"] == "query":
            assert v["datasource"] == DATASOURCE, v["name"]
            assert v["refresh"] in (1, 2), f"{v['name']}: refresh on load or time change"
            query = variable_query(v)
            assert query == v["definition"], v["name"]
            # A variable may only use the ones before it.
            assert variables_in(query) <= defined | BUILTINS, v["name"]
        defined.add(v["name"])
    # Nothing names a data source by uid: only the variable.
    uids = re.findall(r'"uid":\s*"([^"]*)"', path.read_text())
    assert set(uids) <= {"${datasource}", "-- Grafana --", d["uid"]}
    for panel in query_panels(d):
        for t in panel["targets"]:
            unknown = variables_in(t["expr"]) - defined - BUILTINS
            assert not unknown, f"{panel['title']}: undefined {unknown}"


def test_the_customer_dashboard_is_about_one_customer() -> None:
    d = load(DASHBOARDS / "uptimeguard-customer.json")
    customer = next(v for v in d["templating"]["list"] if v["name"] == "customer")
    assert customer["type"] == "query"
    assert variable_query(customer) == "label_values(uptimeguard_site_up, customer)"
    assert not customer["multi"] and not customer["includeAll"]
    for panel in query_panels(d):
        for t in panel["targets"]:
            assert 'customer="$customer"' in t["expr"], panel["title"]


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_queries_read_only_exported_metrics(path: Path) -> None:
    names = exported_names()
    for panel in query_panels(load(path)):
        for t in panel["targets"]:
            used = set(METRIC_NAME.findall(t["expr"]))
            assert used, f"{panel['title']}: reads no metric"
            assert used <= names, f"{panel['title']}: not exported: {used - names}"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_queries_parse(path: Path, tmp_path: Path) -> None:
    """Each query, variables filled in, is valid PromQL (promtool parses it as a rule)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    values = {name: "1m" for name in BUILTINS} | {"customer": "acme", "site": "(www|shop)"}
    rules = [
        {"record": f"panel_{panel['id']}_{t['refId']}", "expr": interpolate(t["expr"], values)}
        for panel in query_panels(load(path))
        for t in panel["targets"]
    ]
    file = tmp_path / "rules.yml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    done = subprocess.run(
        [promtool, "check", "rules", str(file)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_files_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("generate", DASHBOARDS / "generate.py")
    assert spec is not None and spec.loader is not None
    generate: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    for name in generate.DASHBOARDS:
        assert (DASHBOARDS / name).read_text() == generate.render(name), (
            f"{name} is out of date: run `python dashboards/generate.py`"
        )


def test_grafana_provisioning_files() -> None:
    source = yaml.safe_load((DASHBOARDS / "provisioning/datasources/prometheus.yaml").read_text())
    assert source["apiVersion"] == 1
    (ds,) = source["datasources"]
    assert ds["type"] == "prometheus" and ds["access"] == "proxy"
    assert ds["url"].startswith("http") and ds["name"] and ds["uid"]
    assert ds["isDefault"] is False, "must not clash with an existing default data source"
    assert ds["jsonData"]["timeInterval"] == "15s"

    provider = yaml.safe_load((DASHBOARDS / "provisioning/dashboards/uptimeguard.yaml").read_text())
    assert provider["apiVersion"] == 1
    (p,) = provider["providers"]
    assert p["type"] == "file" and p["options"]["path"].startswith("/") and p["folder"]


def test_prometheus_scrape_example() -> None:
    path = DASHBOARDS / "prometheus.yml"
    config = yaml.safe_load(path.read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:8080"]  # `make run`'s address
    assert config["global"]["scrape_interval"] == "15s"
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    done = subprocess.run(
        [promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
