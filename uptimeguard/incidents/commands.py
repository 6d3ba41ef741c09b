"""`uptimeguard incidents list|ack|resolve|pause|resume`: the incident queue from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from uptimeguard.clock import SystemClock
from uptimeguard.config.models import ChecksConfig
from uptimeguard.incidents.errors import IncidentError, NotFound
from uptimeguard.incidents.service import IncidentService
from uptimeguard.incidents.views import incident_dict
from uptimeguard.settings import Settings
from uptimeguard.storage.database import open_database
from uptimeguard.storage.repository import Store


def _line(incident: dict[str, Any]) -> str:
    sla = incident["sla"]
    breached = [t for t in ("response", "resolution") if sla[f"{t}_breached"]]
    return (
        f"#{incident['id']:<5} {incident['status']:<12} {incident['severity']:<16} "
        f"{incident['customer']}/{incident['site'] or '-'}  {incident['cause']}  "
        f"opened {incident['opened_at']}  response due {sla['response_due'] or '-'}"
        + (f"  BREACHED: {', '.join(breached)}" if breached else "")
        + ("  (held over)" if incident["held_over"] else "")
        + (f"  (paused since {sla['paused_since']})" if sla["paused_since"] else "")
    )


async def run_incident_command(
    settings: Settings, config: ChecksConfig, args: argparse.Namespace
) -> int:
    engine = await open_database(settings.database_url, create=False)
    try:
        store = Store(engine)
        service = IncidentService(store, config)
        now = SystemClock().now()
        command = args.incidents_command
        if command == "list":
            rows = await store.incidents(unresolved=args.open)
            items = [incident_dict(row) for row in rows]
            if args.json:
                print(json.dumps(items, indent=2))
            else:
                print("\n".join(_line(item) for item in items) or "no incidents")
            return 0
        try:
            if command == "ack":
                row = await service.acknowledge(args.id, args.by, now)
            elif command == "pause":
                row = await service.pause(args.id, args.by, args.reason, now)
            elif command == "resume":
                row = await service.resume(args.id, args.by, now)
            else:
                row = await service.resolve(args.id, args.by, now, args.note)
        except (IncidentError, NotFound) as error:
            print(f"uptimeguard: error: {error}", file=sys.stderr)
            return 2
        print(_line(incident_dict(row)))
        return 0
    finally:
        await engine.dispose()
