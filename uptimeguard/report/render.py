"""The SLA report as text, JSON, CSV or HTML. Pure: a `Report` in, a string out.

CSV is one table a spreadsheet can filter: the `record` column says what a row is (`site`,
`incident` or `target`), and only that record's columns are filled.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from uptimeguard.incidents.views import iso
from uptimeguard.report.model import Report, Share, TargetLine
from uptimeguard.status.templates import duration, environment, pct, when

FORMATS = ("text", "json", "csv", "html")


def _target_dict(line: TargetLine) -> dict[str, Any]:
    return {
        "target": line.target,
        "clock": line.clock,
        "due": iso(line.due),
        "done_at": iso(line.done_at),
        "took_seconds": _seconds(line.took_seconds),
        "result": line.result,
    }


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def _share_dict(share: Share) -> dict[str, Any]:
    return {**asdict(share), "percent": share.percent}


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "customer": {"id": report.customer, "name": report.customer_name, "plan": report.plan},
        "month": report.month,
        "period": {
            "start": iso(report.start),
            "end": iso(report.end),
            "time_zone": report.time_zone,
        },
        "generated_at": iso(report.generated_at),
        "sites": [
            {
                "site": s.site,
                "name": s.name,
                "uptime_percent": s.uptime_percent,
                "up_seconds": _seconds(s.up_seconds),
                "down_seconds": _seconds(s.down_seconds),
                "maintenance_seconds": _seconds(s.maintenance_seconds),
                "longest_outage": {
                    "seconds": _seconds(s.longest_outage_seconds),
                    "started_at": iso(s.longest_outage_started_at),
                },
                "probes": s.probes,
            }
            for s in report.sites
        ],
        "incidents": [
            {
                "id": i.id,
                "site": i.site,
                "severity": i.severity,
                "cause": i.cause,
                "opened_at": iso(i.opened_at),
                "resolved_at": iso(i.resolved_at),
                "held_over": i.held_over,
                "plan": i.plan,
                "cover": i.cover,
                "response": _target_dict(i.response),
                "resolution": _target_dict(i.resolution),
                "paused_seconds": _seconds(i.paused_seconds),
                "pauses": [
                    {
                        "started_at": iso(p.started_at),
                        "ended_at": iso(p.ended_at),
                        "seconds": _seconds(p.seconds),
                        "reason": p.reason,
                    }
                    for p in i.pauses
                ],
            }
            for i in report.incidents
        ],
        "targets_met": {
            "response": _share_dict(report.response),
            "resolution": _share_dict(report.resolution),
        },
        "nps": _nps_dict(report),
    }


def _nps_dict(report: Report) -> dict[str, Any]:
    """The month's NPS: promoters (9-10) minus detractors (0-6), per cent of answers."""
    n = report.nps
    return {
        "score": n.score,
        "responses": n.responses,
        "promoters": n.promoters,
        "passives": n.passives,
        "detractors": n.detractors,
    }


def _nps_text(report: Report) -> str:
    n = report.nps
    if not n.responses:
        return "no survey answered in the month"
    answers = "answer" if n.responses == 1 else "answers"
    return (
        f"{n.score:+g} from {n.responses} {answers}: {n.promoters} promoters (9-10), "
        f"{n.passives} passives (7-8), {n.detractors} detractors (0-6)"
    )


def to_json(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2)


CSV_COLUMNS = (
    "record", "site", "name", "uptime_percent", "down_seconds", "maintenance_seconds",
    "longest_outage_seconds", "longest_outage_started_at", "incident", "severity", "cause",
    "opened_at", "resolved_at", "response_target", "response_due", "response_took_seconds",
    "response_result", "resolution_target", "resolution_due", "resolution_took_seconds",
    "resolution_result", "target", "met", "breached", "pending", "met_percent", "plan",
    "cover", "nps", "responses", "promoters", "passives", "detractors", "paused_seconds",
    "pause_reasons",
)  # fmt: skip


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    data = report_dict(report)
    for site in data["sites"]:
        writer.writerow(
            {
                "record": "site",
                "site": site["site"],
                "name": site["name"],
                "uptime_percent": site["uptime_percent"],
                "down_seconds": site["down_seconds"],
                "maintenance_seconds": site["maintenance_seconds"],
                "longest_outage_seconds": site["longest_outage"]["seconds"],
                "longest_outage_started_at": site["longest_outage"]["started_at"],
            }
        )
    for incident in data["incidents"]:
        row = {
            "record": "incident",
            "site": incident["site"],
            "incident": incident["id"],
            "severity": incident["severity"],
            "cause": incident["cause"],
            "opened_at": incident["opened_at"],
            "resolved_at": incident["resolved_at"],
            "plan": incident["plan"],
            "cover": incident["cover"],
            "paused_seconds": incident["paused_seconds"],
            "pause_reasons": "; ".join(p["reason"] for p in incident["pauses"]),
        }
        for which in ("response", "resolution"):
            target = incident[which]
            row[f"{which}_target"] = f"{target['target']} {target['clock']}"
            row[f"{which}_due"] = target["due"]
            row[f"{which}_took_seconds"] = target["took_seconds"]
            row[f"{which}_result"] = target["result"]
        writer.writerow(row)
    for which, share in data["targets_met"].items():
        writer.writerow(
            {
                "record": "target",
                "target": which,
                "met": share["met"],
                "breached": share["breached"],
                "pending": share["pending"],
                "met_percent": share["percent"],
            }
        )
    nps = data["nps"]
    writer.writerow(
        {"record": "nps", **{k: nps[k] for k in nps if k != "score"}, "nps": nps["score"]}
    )
    return out.getvalue()


def _when(value: datetime | None) -> str:
    return when(value) if value else "-"


def _took(line: TargetLine) -> str:
    return duration(line.took_seconds) if line.took_seconds is not None else "not yet"


def _share_text(share: Share) -> str:
    decided = share.met + share.breached
    if decided == 0:
        text = "no incident decided"
    else:
        text = f"{share.met} of {decided} met ({pct(share.percent)})"
    return text + (f", {share.pending} pending" if share.pending else "")


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def to_text(report: Report) -> str:
    lines = [
        f"SLA report: {report.customer_name} ({report.customer}), {report.month_name}",
        f"Plan {report.plan}. Period {_when(report.start)} to {_when(report.end)}"
        f" ({report.time_zone} days). Generated {_when(report.generated_at)}.",
        "",
        "Uptime (maintenance excluded)",
    ]
    rows = [["site", "uptime", "down", "maintenance", "longest outage"]]
    for s in report.sites:
        longest = "none"
        if s.longest_outage_seconds:
            longest = (
                f"{duration(s.longest_outage_seconds)} from {_when(s.longest_outage_started_at)}"
            )
        rows.append(
            [
                s.site,
                pct(s.uptime_percent, 3),
                duration(s.down_seconds),
                duration(s.maintenance_seconds),
                longest,
            ]
        )
    lines += _table(rows)
    lines += ["", f"Incidents opened in the month: {len(report.incidents)}"]
    if report.incidents:
        rows = [["id", "site", "severity", "opened", "response", "resolution"]]
        for i in report.incidents:
            rows.append(
                [
                    f"#{i.id}",
                    i.site or "-",
                    f"{i.severity} (cover: plan {i.plan})" if i.cover else i.severity,
                    _when(i.opened_at),
                    _target_text(i.response),
                    _target_text(i.resolution),
                ]
            )
        lines += _table(rows)
        lines += [
            f"  #{i.id} opened in ad-hoc cover {i.cover}" for i in report.incidents if i.cover
        ]
        lines += [
            f"  #{i.id} SLA clock paused {duration(p.seconds)} from {_when(p.started_at)}"
            f"{'' if p.ended_at else ' (still paused)'}: {p.reason}"
            for i in report.incidents
            for p in i.pauses
        ]
    lines += [
        "",
        "Targets met",
        f"  response:   {_share_text(report.response)}",
        f"  resolution: {_share_text(report.resolution)}",
        "",
        f"NPS: {_nps_text(report)}",
    ]
    return "\n".join(lines) + "\n"


def _target_text(line: TargetLine) -> str:
    target = f"{line.target or '?'} ({line.clock})"
    if line.took_seconds is None:
        return f"{line.result}: {target} due {_when(line.due)}"
    return f"{line.result}: {_took(line)} of {target}"


def to_html(report: Report) -> str:
    template = environment().get_template("report.html")
    return template.render(
        report=report, data=report_dict(report), took=_took, nps_text=_nps_text(report)
    )


def render(report: Report, fmt: str) -> str:
    renderers = {"text": to_text, "json": to_json, "csv": to_csv, "html": to_html}
    return renderers[fmt](report)
