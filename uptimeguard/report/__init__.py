"""The monthly SLA report: `uptimeguard report --customer C --month YYYY-MM`."""

from __future__ import annotations

from datetime import datetime, timedelta

from uptimeguard.clock import SystemClock
from uptimeguard.config.models import ChecksConfig
from uptimeguard.report.model import Report, ReportError, build_report, parse_month
from uptimeguard.report.render import FORMATS, render
from uptimeguard.settings import Settings
from uptimeguard.storage.database import open_database
from uptimeguard.storage.repository import Store

__all__ = [
    "FORMATS",
    "Report",
    "ReportError",
    "build_report",
    "parse_month",
    "render",
    "report_text",
]


async def report_text(
    settings: Settings,
    config: ChecksConfig,
    customer: str,
    month: str,
    fmt: str,
    now: datetime | None = None,
) -> str:
    """The report from the configured database, rendered. Raises `ReportError` on bad input.

    Reads the daily rollups the daemon keeps (it rolls up every few minutes) and folds in the
    results stored since, up to a minute ago, without writing them.
    """
    parse_month(month)  # refuse a bad month before touching the database
    if customer not in {c.id for c in config.customers}:
        known = ", ".join(c.id for c in config.customers) or "none"
        raise ReportError(f"--customer: unknown customer {customer!r}; known: {known}")
    engine = await open_database(settings.database_url, create=False)
    try:
        report = await build_report(
            Store(engine),
            config,
            customer,
            month,
            now or SystemClock().now(),
            timedelta(seconds=settings.rollup_grace_seconds),
        )
    finally:
        await engine.dispose()
    return render(report, fmt)
