"""The incident queue as an aligned text table (`uptimeguard incidents list|ack|resolve`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SUMMARY_WIDTH = 60
HEADERS = ("ID", "STATUS", "SEVERITY", "OPENED", "CUSTOMER/SITE", "CAUSE", "NEXT")


def whole_seconds(stamp: str | None) -> str:
    """`2026-12-03T05:40:12.123456Z` -> `2026-12-03 05:40:12Z`; `-` for none."""
    if not stamp:
        return "-"
    head, _, _ = stamp.removesuffix("Z").partition(".")
    return head.replace("T", " ") + "Z"


def next_step(incident: dict[str, Any]) -> str:
    """What is due next: the response until acknowledged, then the resolution (neither while
    the clock is paused)."""
    sla = incident["sla"]
    if incident["status"] == "resolved":
        return f"resolved {whole_seconds(incident['resolved_at'])}"
    if sla.get("paused_since"):
        return f"paused since {whole_seconds(sla['paused_since'])}"
    if incident["acknowledged_at"] is None:
        return f"response due {whole_seconds(sla['response_due'])}"
    return f"resolution due {whole_seconds(sla['resolution_due'])}"


def flags(incident: dict[str, Any]) -> str:
    sla = incident["sla"]
    breached = [t for t in ("response", "resolution") if sla[f"{t}_breached"]]
    words = [f"BREACHED: {', '.join(breached)}"] if breached else []
    if incident["held_over"]:
        words.append("held over")
    return "; ".join(words)


def shorten(text: str, width: int = SUMMARY_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "\u2026"


def incident_table(incidents: Sequence[dict[str, Any]]) -> str:
    """A header and one line per incident, columns aligned, the summary last."""
    if not incidents:
        return "no incidents"
    rows = [
        [
            f"#{item['id']}",
            item["status"],
            item["severity"],
            whole_seconds(item["opened_at"]),
            f"{item['customer']}/{item['site'] or '-'}",
            item["cause"],
            next_step(item),
        ]
        for item in incidents
    ]
    notes = [flags(item) for item in incidents]
    summaries = [shorten(item["summary"] or "") for item in incidents]
    headers = list(HEADERS)
    if any(notes):
        headers.append("FLAGS")
        for row, note in zip(rows, notes, strict=True):
            row.append(note or "-")
    headers.append("SUMMARY")
    for row, summary in zip(rows, summaries, strict=True):
        row.append(summary)
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers) - 1)]
    lines = []
    for row in [headers, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)
