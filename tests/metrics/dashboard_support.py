"""Reading the Grafana dashboards in `dashboards/` the way Grafana does: panels (rows'
nested ones too), targets, template variables and their interpolation into queries."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
# Variables Grafana itself provides.
BUILTINS = frozenset(
    {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s", "__range_ms",
     "__from", "__to", "__dashboard", "__org", "__user"}
)  # fmt: skip
# $name, ${name}, ${name:format}, [[name]]: the forms Grafana interpolates.
VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def all_panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def query_panels(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [p for p in all_panels(dashboard) if p["type"] != "row"]


def variable_query(variable: Mapping[str, Any]) -> str:
    query = variable.get("query", "")
    return query["query"] if isinstance(query, dict) else str(query)


def variables_in(text: str) -> set[str]:
    return {next(g for g in match.groups() if g) for match in VARIABLE.finditer(text)}


def interpolate(text: str, values: Mapping[str, str]) -> str:
    """Replace each variable by its value; KeyError names one that has none."""
    return VARIABLE.sub(lambda m: values[next(g for g in m.groups() if g)], text)


def regex_value(values: list[str]) -> str:
    """A multi-value variable as Grafana's Prometheus data source formats it for `=~`."""
    escaped = [re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
