"""`uptimeguard incidents list|ack|resolve|pause|resume`: the incident queue from a terminal."""

from __future__ import annotations

import argparse
import json
import sys

from uptimeguard.clock import SystemClock
from uptimeguard.config.models import ChecksConfig
from uptimeguard.incidents.errors import IncidentError, NotFound
from uptimeguard.incidents.service import IncidentService
from uptimeguard.incidents.table import incident_table
from uptimeguard.incidents.views import incident_dict
from uptimeguard.settings import Settings
from uptimeguard.storage.database import open_database
from uptimeguard.storage.repository import Store


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
                print(incident_table(items))
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
        print(incident_table([incident_dict(row)]))
        return 0
    finally:
        await engine.dispose()
