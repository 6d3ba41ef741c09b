"""Writes the Grafana dashboards in this folder: `python dashboards/generate.py`.

The JSON files are what Grafana imports; this script is how they are kept consistent (one
data-source variable, unique panel ids, a grid without overlaps). Edit here, run it, commit
both. `tests/metrics/test_dashboards_schema.py` fails when the JSON and this script disagree.

Every query reads only the metrics the README lists (and the process collector's), with
bounded labels: customer, site, severity, cause, outcome, channel, result, window, target.
Per-site latency comes from `uptimeguard_site_probe_duration_seconds` (each site's last probe
time), since the probe-time histogram is per customer unless PER_SITE_HISTOGRAM is set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
GRID_WIDTH = 24

# Queries that pick uptimeguard's own process out of everything the Prometheus scrapes.
OURS = "on (job, instance) uptimeguard_scheduler_lag_seconds_count"


def with_node(metric: str) -> str:
    """`metric` with its node's `node` and `location` labels (from uptimeguard_node_info)."""
    return f"{metric} * on (job, instance) group_left (node, location) uptimeguard_node_info"


Panel = dict[str, Any]


def target(expr: str, legend: str = "", *, ref: str = "A", instant: bool = False) -> dict:
    t: dict[str, Any] = {
        "datasource": DATASOURCE,
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
        "refId": ref,
    }
    if instant:
        t["format"] = "table"
    return t


def quantiles(
    metric: str, *, by: str = "", qs: tuple[float, ...] = (0.5, 0.9, 0.99), selector: str = ""
) -> list[dict]:
    """histogram_quantile() targets over `$__rate_interval`, one per quantile."""
    group = f"{by}, le" if by else "le"
    prefix = f"{{{{{by}}}}} " if by else ""
    series = f"{metric}_bucket{{{selector}}}" if selector else f"{metric}_bucket"
    return [
        target(
            f"histogram_quantile({q}, sum by ({group}) (rate({series}[$__rate_interval])))",
            f"{prefix}p{round(q * 100)}",
            ref=chr(ord("A") + i),
        )
        for i, q in enumerate(qs)
    ]


def thresholds(*steps: tuple[float | None, str]) -> dict:
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": value} for value, color in steps],
    }


GOOD_IS_ZERO = thresholds((None, "green"), (1, "red"))
UPTIME = thresholds((None, "red"), (0.99, "orange"), (0.999, "green"))
TLS_DAYS = thresholds((None, "red"), (14, "orange"), (30, "green"))
UP_MAPPING = [
    {
        "type": "value",
        "options": {
            "0": {"text": "DOWN", "color": "red", "index": 0},
            "1": {"text": "UP", "color": "green", "index": 1},
        },
    }
]
REDUCE_LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}


def _defaults(unit: str, extra: dict | None) -> dict:
    defaults: dict[str, Any] = {"unit": unit, "color": {"mode": "palette-classic"}}
    defaults.update(extra or {})
    return defaults


def timeseries(
    title: str, targets: list[dict], description: str, *, unit: str = "short", w: int = 12,
    h: int = 8, stack: bool = False, defaults: dict | None = None,
) -> Panel:  # fmt: skip
    custom = {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 25 if stack else 10,
        "showPoints": "never",
        "spanNulls": False,
        "lineInterpolation": "linear",
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
    }
    field = _defaults(unit, defaults)
    field["custom"] = custom
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {"defaults": field, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "_size": (w, h),
    }


def stat(
    title: str, targets: list[dict], description: str, *, unit: str = "none", w: int = 4,
    h: int = 4, steps: dict | None = None, decimals: int | None = 0,
) -> Panel:  # fmt: skip
    field: dict[str, Any] = {
        "unit": unit,
        "color": {"mode": "thresholds"},
        "thresholds": steps or thresholds((None, "green")),
    }
    if decimals is not None:
        field["decimals"] = decimals
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {"defaults": field, "overrides": []},
        "options": {
            "reduceOptions": REDUCE_LAST,
            "colorMode": "background",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
        },
        "_size": (w, h),
    }


def bargauge(
    title: str, targets: list[dict], description: str, *, unit: str = "none", w: int = 6,
    h: int = 8, steps: dict | None = None, minimum: float | None = 0,
    maximum: float | None = None, decimals: int | None = None,
) -> Panel:  # fmt: skip
    field: dict[str, Any] = {
        "unit": unit,
        "color": {"mode": "thresholds"},
        "thresholds": steps or thresholds((None, "green")),
        "min": minimum,
    }
    if maximum is not None:
        field["max"] = maximum
    if decimals is not None:
        field["decimals"] = decimals
    return {
        "type": "bargauge",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {"defaults": field, "overrides": []},
        "options": {
            "reduceOptions": REDUCE_LAST,
            "orientation": "horizontal",
            "displayMode": "gradient",
            "showUnfilled": True,
            "valueMode": "color",
            "namePlacement": "auto",
            "sizing": "auto",
            "minVizHeight": 16,
            "minVizWidth": 8,
        },
        "_size": (w, h),
    }


def gauge(
    title: str, targets: list[dict], description: str, *, unit: str, w: int, h: int = 6,
    steps: dict, minimum: float, maximum: float, decimals: int | None = None,
) -> Panel:  # fmt: skip
    field: dict[str, Any] = {
        "unit": unit,
        "color": {"mode": "thresholds"},
        "thresholds": steps,
        "min": minimum,
        "max": maximum,
    }
    if decimals is not None:
        field["decimals"] = decimals
    return {
        "type": "gauge",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {"defaults": field, "overrides": []},
        "options": {
            "reduceOptions": REDUCE_LAST,
            "showThresholdLabels": False,
            "showThresholdMarkers": True,
            "orientation": "auto",
        },
        "_size": (w, h),
    }


def table(
    title: str, targets: list[dict], description: str, *, rename: dict[str, str],
    w: int = 12, h: int = 8, overrides: list[dict] | None = None,
) -> Panel:  # fmt: skip
    """Instant queries merged on their labels into one row per label set."""
    hidden = {"Time": True, "__name__": True, "job": True, "instance": True}
    return {
        "type": "table",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {
            "defaults": {"custom": {"align": "auto", "filterable": True}},
            "overrides": overrides or [],
        },
        "options": {
            "showHeader": True,
            "cellHeight": "sm",
            "footer": {"show": False, "reducer": ["sum"], "fields": ""},
        },
        "transformations": [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": hidden, "renameByName": rename}},
        ],
        "_size": (w, h),
    }


def by_name(column: str, *properties: tuple[str, Any]) -> dict:
    return {
        "matcher": {"id": "byName", "options": column},
        "properties": [{"id": key, "value": value} for key, value in properties],
    }


def colored(column: str, unit: str, steps: dict, mappings: list | None = None) -> dict:
    props: list[tuple[str, Any]] = [
        ("unit", unit),
        ("thresholds", steps),
        ("custom.cellOptions", {"type": "color-background"}),
    ]
    if mappings:
        props.append(("mappings", mappings))
    return by_name(column, *props)


def row(title: str) -> Panel:
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "_size": (24, 1)}


def layout(panels: list[Panel]) -> list[Panel]:
    """Give each panel an id and a place: left to right, a new line when the width is full."""
    x = y = line_height = 0
    placed = []
    for number, panel in enumerate(panels, start=1):
        w, h = panel.pop("_size")
        if panel["type"] == "row" or x + w > GRID_WIDTH:
            x, y, line_height = 0, y + line_height, 0
        panel["id"] = number
        panel["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        x += w
        line_height = max(line_height, h)
        placed.append(panel)
    return placed


DATASOURCE_VARIABLE = {
    "name": "datasource",
    "label": "Data source",
    "type": "datasource",
    "query": "prometheus",
    "current": {},
    "hide": 0,
    "includeAll": False,
    "multi": False,
    "options": [],
    "refresh": 1,
    "regex": "",
    "skipUrlSync": False,
}


def query_variable(name: str, label: str, query: str, *, multi: bool = False) -> dict:
    variable: dict[str, Any] = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {
            "qryType": 1,
            "query": query,
            "refId": "PrometheusVariableQueryEditor-VariableQuery",
        },
        "current": {},
        "hide": 0,
        "includeAll": multi,
        "multi": multi,
        "options": [],
        "refresh": 2,  # on time range change: new customers and sites appear
        "regex": "",
        "skipUrlSync": False,
        "sort": 1,
    }
    if multi:
        variable["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return variable


def dashboard(uid: str, title: str, description: str, variables: list, panels: list) -> dict:
    return {
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.4.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
        ],
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "panels": layout(panels),
        "refresh": "30s",
        "schemaVersion": 39,
        "tags": ["uptimeguard"],
        "templating": {"list": [DATASOURCE_VARIABLE, *variables]},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


def overview() -> dict:
    ack = "uptimeguard_page_ack_seconds"
    panels = [
        row("Now"),
        stat("Sites up", [target(
            "sum(min by (customer, site) (uptimeguard_site_up))", instant=True)],
             "Sites whose last probe was good (up or slow), from every location."),
        stat("Sites down", [target(
            "count(min by (customer, site) (uptimeguard_site_up) == 0) or vector(0)",
            instant=True)],
             "Sites whose last probe failed, from at least one location.", steps=GOOD_IS_ZERO),
        stat("Open incidents", [target("sum(uptimeguard_incidents_open)", instant=True)],
             "Incidents not yet resolved, every customer.", steps=GOOD_IS_ZERO),
        stat("SLA breaches", [target(
            "sum(increase(uptimeguard_sla_breaches_total[$__range]))", instant=True)],
             "Response and resolution targets missed in the time range.", steps=GOOD_IS_ZERO),
        stat("Pages sent", [target(
            'sum(increase(uptimeguard_pages_total{result="sent"}[$__range]))', instant=True)],
             "SMS and voice pages handed to Twilio in the time range."),
        stat("Probes per minute", [target(
            "sum(rate(uptimeguard_probes_total[$__rate_interval])) * 60", instant=True)],
             "Probes run per minute, every outcome.", decimals=1),
        table("Sites", [
            target("max by (customer, site) (uptimeguard_site_up)", ref="A", instant=True),
            target("max by (customer, site) (uptimeguard_site_http_status)", ref="B",
                   instant=True),
            target('max by (customer, site) (uptimeguard_uptime_ratio{window="1d"})', ref="C",
                   instant=True),
            target('max by (customer, site) (uptimeguard_uptime_ratio{window="30d"})', ref="D",
                   instant=True),
        ], "Every site: state of the last probe, its HTTP status (0: no response), uptime.",
            rename={"Value #A": "State", "Value #B": "HTTP status", "Value #C": "Uptime 1d",
                    "Value #D": "Uptime 30d"},
            overrides=[colored("State", "none", GOOD_IS_ZERO, UP_MAPPING),
                       colored("Uptime 1d", "percentunit", UPTIME),
                       colored("Uptime 30d", "percentunit", UPTIME)], h=9),
        bargauge("Open incidents by severity", [target(
            "sum by (severity) (uptimeguard_incidents_open)", "{{severity}}", instant=True)],
            "Incidents not yet resolved, by severity.", steps=GOOD_IS_ZERO, h=9),
        bargauge("Lowest uptime, 30 days", [target(
            'bottomk(10, max by (customer, site) (uptimeguard_uptime_ratio{window="30d"}))',
            "{{customer}}/{{site}}", instant=True)],
            "The ten sites with the lowest uptime over 30 days (time up, maintenance "
            "excluded, as on the status page).", unit="percentunit", steps=UPTIME,
            minimum=None, maximum=1, decimals=3, h=9),
        row("Probes"),
        timeseries("Probe latency percentiles", quantiles(
            "uptimeguard_probe_duration_seconds"),
            "Total probe time (DNS to last byte), all sites.", unit="s"),
        timeseries("Probe outcomes per minute", [target(
            "sum by (outcome) (rate(uptimeguard_probes_total[$__rate_interval])) * 60",
            "{{outcome}}")], "Probes by outcome: up, slow, http_4xx, http_5xx, content, "
            "timeout, refused, reset, dns, tls.", stack=True),
        timeseries("Slowest sites (p95 over an hour)", [target(
            "topk(5, max by (customer, site) (quantile_over_time(0.95, "
            "uptimeguard_site_probe_duration_seconds[1h])))",
            "{{customer}}/{{site}}")], "The five sites with the highest 95th percentile "
            "of their last probe time over the hour before (sampled at each scrape).",
            unit="s"),
        bargauge("TLS certificates expiring soonest", [target(
            "bottomk(10, (max by (customer, site) "
            "(uptimeguard_tls_cert_expiry_timestamp_seconds) - time()) / 86400)",
            "{{customer}}/{{site}}", instant=True)],
            "Days until each HTTPS site's certificate expires, soonest first.", unit="d",
            steps=TLS_DAYS, minimum=None, decimals=0, w=12),
        row("Incidents and SLA"),
        timeseries("Open incidents by severity", [target(
            "sum by (severity) (uptimeguard_incidents_open)", "{{severity}}")],
            "Incidents not yet resolved, over time.", w=8, stack=True),
        timeseries("Incidents opened by cause", [target(
            "sum by (cause) (increase(uptimeguard_incidents_opened_total[$__rate_interval]))",
            "{{cause}}")], "down, http_5xx, http_4xx, content, slow (as the plan maps "
            "them), manual.", w=8, defaults={"decimals": 0}),
        timeseries("SLA breaches", [target(
            "sum by (target) (increase(uptimeguard_sla_breaches_total[$__rate_interval]))",
            "{{target}}")], "Response and resolution targets missed.", w=8,
            defaults={"decimals": 0}),
        table("SLA breaches in the time range", [target(
            "sum by (customer, severity, target) "
            "(increase(uptimeguard_sla_breaches_total[$__range])) > 0", instant=True)],
            "Targets missed per customer and severity; empty when none were.",
            rename={"Value": "Breaches"}, h=7),
        table("Incidents opened in the time range", [target(
            "sum by (customer, severity, cause) "
            "(increase(uptimeguard_incidents_opened_total[$__range])) > 0", instant=True)],
            "Incidents opened per customer, severity and cause; empty when none were.",
            rename={"Value": "Opened"}, h=7),
        row("Paging"),
        timeseries("Pages per hour by channel and result", [target(
            "sum by (channel, result) (rate(uptimeguard_pages_total[$__rate_interval])) * 3600",
            "{{channel}} {{result}}")], "sent: handed to Twilio; delivered, failed, "
            "no_answer: what Twilio reported back.", w=12),
        stat("Pages failed or unanswered", [target(
            'sum(increase(uptimeguard_pages_total{result=~"failed|no_answer"}[$__range]))',
            instant=True)], "Pages that did not reach anyone in the time range; the ladder "
            "went on to the next step.", steps=GOOD_IS_ZERO, h=8),
        stat("Acknowledged", [target(f"sum(increase({ack}_count[$__range]))", instant=True)],
             "Incidents acknowledged after a page, in the time range.", h=8),
        stat("Time to acknowledge", [
            target(f"histogram_quantile(0.5, sum by (le) (increase({ack}_bucket[$__range])))",
                   "median", ref="A", instant=True),
            target(f"histogram_quantile(0.9, sum by (le) (increase({ack}_bucket[$__range])))",
                   "p90", ref="B", instant=True),
        ], "From an incident's first page to its acknowledgement, over the time range. "
            "No value until someone has acknowledged a page.", unit="s", decimals=None, w=4,
            h=8, steps=thresholds((None, "green"), (900, "orange"), (1800, "red"))),
        row("Nodes"),
        stat("Nodes alive", [target("count(uptimeguard_node_info)", instant=True)],
             "Nodes answering scrapes (each reports itself in uptimeguard_node_info).", w=4,
             h=6),
        stat("Leaders", [target("sum(uptimeguard_leader)", instant=True)],
             "Nodes running what must run once (SLA timers, rollups, page planning): "
             "exactly 1 when all is well.", w=4, h=6,
             steps=thresholds((None, "red"), (1, "green"), (2, "red"))),
        stat("Locations degraded", [target(
            "count(max by (location) (uptimeguard_location_degraded) == 1) or vector(0)",
            instant=True)], "Locations whose own network fails (most of their sites failing "
            "while other locations see them up): their probes open no incident.", w=4, h=6,
            steps=GOOD_IS_ZERO),
        table("Nodes", [
            target(f"max by (node, location) ({with_node('uptimeguard_sites_owned')})", ref="A",
                   instant=True),
            target(f"max by (node, location) ({with_node('uptimeguard_leader')})", ref="B",
                   instant=True),
        ], "Every node answering scrapes: where it is, the sites it probes, whether it leads.",
            rename={"Value #A": "Sites owned", "Value #B": "Leader"}, h=6),
        timeseries("Sites owned per node", [target(
            f"max by (node, location) ({with_node('uptimeguard_sites_owned')})",
            "{{node}} ({{location}})")], "How the sites are shared within each location; "
            "a dead node's share moves to the others within the node timeout.", w=8),
        timeseries("Live nodes per location", [target(
            "max by (location) (uptimeguard_nodes_live)", "{{location}}")],
            "Live nodes of each location, as the nodes see them.", w=8,
            defaults={"decimals": 0}),
        timeseries("Hand-overs", [target(
            "sum by (node) (increase(uptimeguard_site_handovers_total[$__rate_interval])"
            " * on (job, instance) group_left (node) uptimeguard_node_info)",
            "{{node}}")], "Sites each node took over from another (a node died, stopped or "
            "left).", w=8, defaults={"decimals": 0}),
        row("Scheduler and process"),
        timeseries("Scheduler lag", quantiles(
            "uptimeguard_scheduler_lag_seconds", qs=(0.5, 0.99)),
            "How late probes start after they are due; rising lag means the process cannot "
            "keep up.", unit="s", w=12),
        timeseries("CPU", [target(
            f"rate(process_cpu_seconds_total[$__rate_interval]) and {OURS}",
            "{{instance}}")], "CPU seconds per second of the uptimeguard process.",
            unit="percentunit", w=6),
        timeseries("Memory", [target(f"process_resident_memory_bytes and {OURS}",
                                     "{{instance}}")],
                   "Resident memory of the uptimeguard process.", unit="bytes", w=6),
    ]  # fmt: skip
    return dashboard(
        "uptimeguard-overview",
        "uptimeguard: overview",
        "Every customer: sites up and down, probe latency and outcomes, incidents, SLA "
        "breaches, paging and the scheduler.",
        [],
        panels,
    )


def customer() -> dict:
    c = 'customer="$customer"'
    cs = 'customer="$customer", site=~"$site"'
    panels = [
        row("Now"),
        stat("Sites up", [target(f"sum(uptimeguard_site_up{{{cs}}})", instant=True)],
             "Sites whose last probe was good."),
        stat("Sites down", [target(
            f"count(uptimeguard_site_up{{{cs}}} == 0) or vector(0)", instant=True)],
             "Sites whose last probe failed.", steps=GOOD_IS_ZERO),
        stat("Open incidents", [target(f"sum(uptimeguard_incidents_open{{{c}}})", instant=True)],
             "The customer's incidents not yet resolved.", steps=GOOD_IS_ZERO),
        stat("SLA breaches", [target(
            f"sum(increase(uptimeguard_sla_breaches_total{{{c}}}[$__range]))", instant=True)],
             "Targets missed in the time range.", steps=GOOD_IS_ZERO),
        stat("Worst uptime, 1 day", [target(
            f'min(uptimeguard_uptime_ratio{{{cs}, window="1d"}})', instant=True)],
             "The lowest uptime (time up, maintenance excluded) of any selected site over a day.",
             unit="percentunit", steps=UPTIME, decimals=3),
        stat("Worst uptime, 30 days", [target(
            f'min(uptimeguard_uptime_ratio{{{cs}, window="30d"}})', instant=True)],
             "The lowest uptime (time up, maintenance excluded) of any selected site over 30 "
             "days.", unit="percentunit", steps=UPTIME, decimals=3),
        table("Sites", [
            target(f"max by (site) (uptimeguard_site_up{{{cs}}})", ref="A", instant=True),
            target(f"max by (site) (uptimeguard_site_http_status{{{cs}}})", ref="B",
                   instant=True),
            target(f'max by (site) (uptimeguard_uptime_ratio{{{cs}, window="1d"}})', ref="C",
                   instant=True),
            target(f'max by (site) (uptimeguard_uptime_ratio{{{cs}, window="30d"}})',
                   ref="D", instant=True),
            target(f"(max by (site) (uptimeguard_tls_cert_expiry_timestamp_seconds{{{cs}}})"
                   " - time()) / 86400", ref="E", instant=True),
        ], "Each site now: state, HTTP status (0: no response), uptime, days of TLS "
            "certificate left (HTTPS sites).",
            rename={"Value #A": "State", "Value #B": "HTTP status", "Value #C": "Uptime 1d",
                    "Value #D": "Uptime 30d", "Value #E": "TLS days left"},
            overrides=[colored("State", "none", GOOD_IS_ZERO, UP_MAPPING),
                       colored("Uptime 1d", "percentunit", UPTIME),
                       colored("Uptime 30d", "percentunit", UPTIME),
                       colored("TLS days left", "d", TLS_DAYS)], w=24),
        row("Probes"),
        timeseries("Up (1) or down (0)", [target(
            f"max by (site) (uptimeguard_site_up{{{cs}}})", "{{site}}")],
            "The last probe of each site, good or not.",
            defaults={"min": 0, "max": 1, "mappings": UP_MAPPING}),
        timeseries("Probe latency p95 by site (over an hour)", [target(
            "max by (site) (quantile_over_time(0.95, "
            f"uptimeguard_site_probe_duration_seconds{{{cs}}}[1h]))", "{{site}}")],
            "95th percentile of each site's last probe time (DNS to last byte) over the "
            "hour before, sampled at each scrape.", unit="s"),
        timeseries("Probe latency percentiles, all the customer's sites", quantiles(
            "uptimeguard_probe_duration_seconds", selector=c),
            "Total probe time of every probe of the customer's sites (the histogram is "
            "per customer).", unit="s"),
        timeseries("Probe outcomes per minute", [target(
            f"sum by (site, outcome) (rate(uptimeguard_probes_total{{{cs}}}[$__rate_interval]))"
            " * 60", "{{site}} {{outcome}}")], "Probes by site and outcome.", stack=True),
        timeseries("HTTP status", [target(
            f"max by (site) (uptimeguard_site_http_status{{{cs}}})", "{{site}}")],
            "Status code of the last probe; 0 when there was no response.",
            defaults={"decimals": 0}),
        gauge("Uptime, 30 days", [target(
            f'max by (site) (uptimeguard_uptime_ratio{{{cs}, window="30d"}})', "{{site}}",
            instant=True)],
            "Up time over 30 days, maintenance excluded (as the status page computes it).",
            unit="percentunit", w=12, steps=UPTIME, minimum=0.9, maximum=1, decimals=3),
        bargauge("TLS certificate: days left", [target(
            f"(max by (site) (uptimeguard_tls_cert_expiry_timestamp_seconds{{{cs}}})"
            " - time()) / 86400", "{{site}}", instant=True)],
            "Days until each HTTPS site's certificate expires.", unit="d", steps=TLS_DAYS,
            minimum=None, decimals=0, w=12, h=6),
        row("Incidents and SLA"),
        bargauge("Open incidents by severity", [target(
            f"sum by (severity) (uptimeguard_incidents_open{{{c}}})", "{{severity}}",
            instant=True)], "The customer's incidents not yet resolved.",
            steps=GOOD_IS_ZERO, w=8),
        timeseries("Incidents opened by cause", [target(
            f"sum by (cause) (increase(uptimeguard_incidents_opened_total{{{c}}}"
            "[$__rate_interval]))", "{{cause}}")], "Incidents opened, by what opened them.",
            w=8, defaults={"decimals": 0}),
        table("SLA breaches in the time range", [target(
            f"sum by (severity, target) (increase(uptimeguard_sla_breaches_total{{{c}}}"
            "[$__range])) > 0", instant=True)],
            "Targets missed by severity; empty when none were.",
            rename={"Value": "Breaches"}, w=8),
    ]  # fmt: skip
    variables = [
        query_variable("customer", "Customer", "label_values(uptimeguard_site_up, customer)"),
        query_variable(
            "site",
            "Site",
            'label_values(uptimeguard_site_up{customer="$customer"}, site)',
            multi=True,
        ),
    ]
    return dashboard(
        "uptimeguard-customer",
        "uptimeguard: customer",
        "One customer's sites, uptime, incidents and SLA breaches.",
        variables,
        panels,
    )


DASHBOARDS = {"uptimeguard-overview.json": overview, "uptimeguard-customer.json": customer}


def render(name: str) -> str:
    return json.dumps(DASHBOARDS[name](), indent=2) + "\n"


def main() -> None:
    for name in DASHBOARDS:
        (HERE / name).write_text(render(name))
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
