"""What `GET /api/v1/nodes` and `uptimeguard nodes` show: every node and location, read fresh
from the database (whichever node answers, the answer is the same)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from uptimeguard.cluster import nodes_sql as sql
from uptimeguard.cluster.membership import Member
from uptimeguard.incidents.views import iso


def node_state(member: Member, now: datetime) -> str:
    if member.stopped_at is not None and member.stopped_at <= now:
        return "stopped"
    return "alive" if member.alive(now) else "dead"


def node_dict(member: Member, now: datetime, degraded: dict[str, datetime]) -> dict[str, Any]:
    state = node_state(member, now)
    return {
        "node": member.name,
        "location": member.location,
        "state": state,
        "alive": state == "alive",
        "leader": member.leader and state == "alive",
        "started_at": iso(member.started_at),
        "last_heartbeat": iso(member.heartbeat_at),
        "seconds_since_heartbeat": round((now - member.heartbeat_at).total_seconds(), 3),
        "timeout_seconds": member.timeout.total_seconds(),
        "stopped_at": iso(member.stopped_at),
        "sites_owned": member.sites_owned if state == "alive" else 0,
        "sites_owned_last": member.sites_owned,
        "degraded": member.location in degraded,
        "host": member.host,
        "pid": member.pid,
        "version": member.version,
    }


async def nodes_report(engine: AsyncEngine) -> dict[str, Any]:
    """Every node (the dead and stopped too, until the leader forgets them after a day) and
    every location that has a live node or is degraded."""
    async with engine.connect() as connection:
        now, members = await sql.members(connection)
        degraded = await sql.degraded_locations(connection)
    nodes = [node_dict(m, now, degraded) for m in members]
    locations = sorted({n["location"] for n in nodes if n["alive"]} | set(degraded))
    return {
        "now": iso(now),
        "nodes": nodes,
        "locations": [
            {
                "location": location,
                "live_nodes": sum(1 for n in nodes if n["alive"] and n["location"] == location),
                "degraded": location in degraded,
                "degraded_since": iso(degraded.get(location)),
            }
            for location in locations
        ],
    }


def nodes_table(report: dict[str, Any]) -> str:
    """The report as a table for a terminal."""
    header = ("NODE", "LOCATION", "STATE", "LEADER", "SITES", "DEGRADED", "STARTED", "HEARTBEAT")
    rows = [header]
    for n in report["nodes"]:
        rows.append(
            (
                n["node"],
                n["location"],
                n["state"],
                "yes" if n["leader"] else "",
                str(n["sites_owned"]),
                "yes" if n["degraded"] else "",
                n["started_at"] or "",
                f"{n['seconds_since_heartbeat']:.1f}s ago",
            )
        )
    if len(rows) == 1:
        return "no nodes have run on this database"
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
