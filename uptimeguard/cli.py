"""The `uptimeguard` command: uptime monitoring with SLA clocks and paging. Thin: parse, call
the app, print.

Exit codes: 0 success, 2 bad input (config, flags), 1 failure at run time. Bad input is one
line on stderr per problem, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from pydantic import ValidationError

from uptimeguard.config import ConfigError, load_config
from uptimeguard.config.compact import load_config_compact
from uptimeguard.config.durations import parse_duration
from uptimeguard.config.models import ChecksConfig
from uptimeguard.logs import setup_logging
from uptimeguard.settings import Settings
from uptimeguard.settings_errors import describe_settings_error, dotenv_names, unknown_variables
from uptimeguard.storage.errors import DatabaseUnusable


class UsageError(Exception):
    """Bad input on the command line: exit 2 with this message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _settings(args: argparse.Namespace, warn: bool = True) -> Settings:
    """The settings, with the flags given over the environment; `warn`: say on stderr which
    `UPTIMEGUARD_` variables are no setting (`run` logs them instead, once logging is set)."""
    overrides: dict[str, Any] = {}
    for name in ("config", "database_url", "listen", "node", "location"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        raise UsageError(describe_settings_error(error, overrides)) from None
    if warn:
        for warning in _unknown_variables():
            print(f"uptimeguard: warning: {warning}", file=sys.stderr)
    return settings


def _unknown_variables() -> list[str]:
    return unknown_variables([*os.environ, *dotenv_names()], Settings.model_fields)


def _config(settings: Settings) -> ChecksConfig:
    return load_config(settings.config, max_bytes=settings.checks_max_bytes)


def cmd_run(args: argparse.Namespace) -> int:
    from uptimeguard.app import StartupError, serve
    from uptimeguard.shrink import start_refusal

    settings = _settings(args, warn=False)
    # In a child process: the daemon keeps the configuration, not the memory that loading
    # it took (`uptimeguard.config.compact`).
    config = load_config_compact(settings.config, settings.checks_max_bytes)
    refusal = start_refusal(config, args.allow_empty)
    if refusal is not None:
        raise UsageError(refusal)
    setup_logging(settings)
    for warning in _unknown_variables():
        logging.getLogger("uptimeguard.settings").warning(warning)
    try:
        asyncio.run(serve(settings, config, allow_empty=args.allow_empty))
    except StartupError as error:
        print(f"uptimeguard: error: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    config = _config(settings)
    sites = sum(len(c.sites) for c in config.customers)
    print(
        f"{settings.config}: ok: {len(config.customers)} customers, {sites} sites, "
        f"{len(config.plans)} plans, {len(config.calendars)} calendars, "
        f"{len(config.people)} people"
    )
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from uptimeguard.probe import run_probe_command

    try:
        timeout = parse_duration(args.timeout).total_seconds()
    except ValueError as error:
        raise UsageError(f"--timeout: {error}") from None
    options = _settings(args).prober_options()
    code, text = asyncio.run(run_probe_command(args.url, timeout, args.json, options=options))
    # A probe that could not be made is an error (stderr); a probe that found a problem is
    # the answer asked for (stdout).
    print(text, file=sys.stderr if text.startswith("uptimeguard probe:") else sys.stdout)
    return code


def cmd_sla_due(args: argparse.Namespace) -> int:
    from uptimeguard.sla.cli import sla_due

    settings = _settings(args)
    config = _config(settings)
    try:
        result = sla_due(config, args.plan, args.severity, args.opened, args.pause or [])
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(json.dumps(result))
    return 0


def _incident_command(args: argparse.Namespace) -> int:
    from uptimeguard.incidents.commands import run_incident_command

    settings = _settings(args)
    config = _config(settings)
    setup_logging(settings, quiet=True)
    return asyncio.run(run_incident_command(settings, config, args))


def cmd_report(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from uptimeguard.report import ReportError, report_text

    settings = _settings(args)
    config = _config(settings)
    setup_logging(settings, quiet=True)
    try:
        text = asyncio.run(report_text(settings, config, args.customer, args.month, args.format))
    except ReportError as error:
        raise UsageError(str(error)) from None
    except (OSError, SQLAlchemyError) as error:
        first = (str(error).splitlines() or [type(error).__name__])[0]
        print(f"uptimeguard: error: cannot read the database: {first}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


def cmd_nodes(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from uptimeguard.cluster.views import nodes_report, nodes_table
    from uptimeguard.storage.database import open_database

    settings = _settings(args)
    setup_logging(settings, quiet=True)

    async def report() -> dict[str, Any]:
        engine = await open_database(settings.database_url, create=False)
        try:
            return await nodes_report(engine)
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(report())
    except (OSError, SQLAlchemyError) as error:
        first = (str(error).splitlines() or [type(error).__name__])[0]
        print(f"uptimeguard: error: cannot read the database: {first}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if args.json else nodes_table(result))
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from uptimeguard.storage.database import open_database
    from uptimeguard.storage.urls import describe_database

    settings = _settings(args)

    async def upgrade() -> None:
        engine = await open_database(settings.database_url, create=True)
        await engine.dispose()

    asyncio.run(upgrade())
    print(f"database schema is up to date: {describe_database(settings.database_url)}")
    return 0


def cmd_example_config(args: argparse.Namespace) -> int:
    from importlib.resources import files

    sys.stdout.write(files("uptimeguard").joinpath("examples/checks.yaml").read_text("utf-8"))
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("uptimeguard")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="uptimeguard",
        description="Uptime monitoring with SLA clocks and paging. See the README for each "
        "command, the checks file and the settings.",
    )
    parser.add_argument("--version", action="version", version=f"uptimeguard {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str, sub: Any = commands
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    def with_config(command: argparse.ArgumentParser) -> None:
        command.add_argument("--config", help="checks file (default: $UPTIMEGUARD_CONFIG)")

    def with_database(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--database",
            dest="database_url",
            metavar="URL",
            help="sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME (default: "
            "$UPTIMEGUARD_DATABASE_URL, else uptimeguard.db in the current directory)",
        )

    run = add("run", cmd_run, "run the daemon: probes, incidents, SLA clocks, web server")
    with_config(run)
    with_database(run)
    run.add_argument("--listen", help="HOST:PORT to serve on (default 127.0.0.1:8080)")
    run.add_argument("--node", help="this node's name (default: $UPTIMEGUARD_NODE, the host name)")
    run.add_argument(
        "--location", help="where this node probes from (default: $UPTIMEGUARD_LOCATION, default)"
    )
    run.add_argument(
        "--allow-empty",
        action="store_true",
        help="start with a checks file of no sites, and let a reload remove most or all of them",
    )

    with_config(add("validate", cmd_validate, "check the checks file"))
    add(
        "example-config",
        cmd_example_config,
        "print the example checks file (start one with: uptimeguard example-config > checks.yaml)",
    )

    probe = add("probe", cmd_probe, "probe one URL now and print what was found")
    probe.add_argument("url")
    probe.add_argument("--timeout", default="10s", help="e.g. 10s (default)")
    probe.add_argument("--json", action="store_true", help="print JSON")

    sla = commands.add_parser("sla", help="SLA deadlines").add_subparsers(
        dest="sla_command", required=True, parser_class=_Parser
    )
    due = add("due", cmd_sla_due, "print the deadlines for an incident opened at an instant", sla)
    due.add_argument("--plan", required=True)
    due.add_argument("--severity", required=True)
    due.add_argument("--opened", required=True, help="ISO 8601 instant with offset")
    due.add_argument("--pause", action="append", help="START/END pause, ISO 8601 (repeatable)")
    with_config(due)

    incidents = commands.add_parser("incidents", help="work the incident queue").add_subparsers(
        dest="incidents_command", required=True, parser_class=_Parser
    )
    listing = add("list", _incident_command, "list incidents", incidents)
    listing.add_argument("--open", action="store_true", help="only unresolved incidents")
    listing.add_argument("--json", action="store_true", help="print JSON")
    ack = add("ack", _incident_command, "acknowledge an incident", incidents)
    resolve = add("resolve", _incident_command, "resolve an incident", incidents)
    resolve.add_argument("--note")
    pause = add(
        "pause", _incident_command, "stop an incident's SLA clock (waiting on the customer)",
        incidents,
    )  # fmt: skip
    pause.add_argument(
        "--reason", required=True, help="why the clock stops, e.g. 'waiting on the customer'"
    )
    resume = add(
        "resume", _incident_command, "restart the SLA clock: deadlines move on by the paused time",
        incidents,
    )  # fmt: skip
    for command in (listing, ack, resolve, pause, resume):
        with_config(command)
        with_database(command)
    for command in (ack, resolve, pause, resume):
        command.add_argument("id", type=int)
        command.add_argument("--by", default="cli", help="who is doing it (default: cli)")

    report = add("report", cmd_report, "the month's SLA report for one customer")
    report.add_argument("--customer", required=True, help="customer id")
    report.add_argument("--month", required=True, help="YYYY-MM (UTC)")
    report.add_argument(
        "--format", choices=("text", "json", "csv", "html"), default="text", help="default: text"
    )
    with_config(report)
    with_database(report)

    nodes = add("nodes", cmd_nodes, "the nodes sharing the work: alive, leader, sites, degraded")
    nodes.add_argument("--json", action="store_true", help="print JSON")
    with_database(nodes)

    db = commands.add_parser("db", help="database").add_subparsers(
        dest="db_command", required=True, parser_class=_Parser
    )
    with_database(add("upgrade", cmd_db_upgrade, "apply schema migrations", db))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    except (UsageError, DatabaseUnusable) as error:
        print(f"uptimeguard: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
