"""`uptimeguard probe URL`: one probe now, printed for a person or as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from uptimeguard.config.models import Site
from uptimeguard.config.parsers import parse_check_url
from uptimeguard.probe.prober import Prober
from uptimeguard.probe.result import LocalProbeError, ProbeResult, iso_utc

GOOD = frozenset({"up", "slow"})


async def run_probe_command(
    url: str,
    timeout: float,
    as_json: bool,
    *,
    prober: Prober | None = None,
    options: Mapping[str, Any] | None = None,
) -> tuple[int, str]:
    """Probe `url` once with the default expectations (status 200-399; for `tcp://` a
    connection, for `dns://` an A record).

    Returns (exit code, text to print): 0 for `up` or `slow`, 1 for any other outcome or a
    probe this machine could not make, 2 for a URL or timeout that cannot be used (the text
    then names what to fix). `prober` lets tests pass one trusting a local CA; by default a
    new one is opened (with `options`, the settings' `Prober` arguments) and closed.
    """
    problem = _check(url, timeout)
    if problem is not None:
        return 2, f"uptimeguard probe: {problem}"
    site = Site(id="probe", url=url)
    try:
        if prober is not None:
            result = await prober.check(site, timeout=timeout)
        else:
            async with Prober(**(options or {})) as own:
                result = await own.check(site, timeout=timeout)
    except LocalProbeError as error:
        return 1, f"uptimeguard probe: could not probe {url}: {error}"
    code = 0 if result.outcome in GOOD else 1
    if as_json:
        return code, json.dumps(result.to_dict())
    return code, format_result(result)


def format_result(result: ProbeResult) -> str:
    """One line of outcome, status and timings; more lines for an error or redirects.

    `up 200 total=0.123s dns=0.001s connect=0.002s tls=0.010s first_byte=0.050s
    tls_expires=2027-01-01T00:00:00Z`; a phase that did not happen prints as `-`.
    """
    status = "-" if result.status_code is None else str(result.status_code)
    parts = [
        result.outcome,
        status,
        f"total={_s(result.total)}",
        f"dns={_s(result.dns)}",
        f"connect={_s(result.connect)}",
        f"tls={_s(result.tls)}",
        f"first_byte={_s(result.first_byte)}",
        f"tls_expires={iso_utc(result.tls_expires_at) or '-'}",
    ]
    lines = [" ".join(parts)]
    if result.error:
        lines.append(f"error: {result.error}")
    if result.redirects:
        lines.append(f"final_url: {result.final_url} ({result.redirects} redirects)")
    return "\n".join(lines)


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f}s"


def _check(url: str, timeout: float) -> str | None:
    try:
        parse_check_url(url)
    except ValueError as error:
        return str(error)
    if not timeout > 0:
        return f"--timeout must be more than 0s, not {timeout:g}s"
    return None
