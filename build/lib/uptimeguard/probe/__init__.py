"""Probes: aiohttp requests to one URL -> `ProbeResult` (network I/O only; no decisions beyond
naming one probe's outcome, no storage)."""

from uptimeguard.probe.cli import format_result, run_probe_command
from uptimeguard.probe.prober import MAX_BODY, MAX_REDIRECTS, USER_AGENT, Prober
from uptimeguard.probe.result import LocalProbeError, ProbeResult

__all__ = [
    "MAX_BODY",
    "MAX_REDIRECTS",
    "USER_AGENT",
    "LocalProbeError",
    "ProbeResult",
    "Prober",
    "format_result",
    "run_probe_command",
]
