"""What one probe found: `ProbeResult`, and the error for probes that could not be made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class LocalProbeError(Exception):
    """The probe could not be made because of this machine, not the site.

    Raised (never returned as an outcome) when the process runs out of file descriptors or
    buffers, or when no connection slot of the prober's `limit` came free within the probe's
    timeout. Nothing was learnt about the site: record no outcome and try again later.
    """


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe of one URL.

    `outcome` is one of `uptimeguard.config.models.OUTCOMES`. `error` is a short human-readable
    cause for any outcome but `up` (e.g. "connection refused", "HTTP 503 Service Unavailable
    (expected 200-399)"). `started_at` is aware UTC.

    Timings are seconds, summed over every hop when redirects were followed:

    - `dns`: from starting a connection to having an address to connect to. A name answered
      from the resolver cache, or an IP literal, counts as (almost) 0.0; None if no connection
      was started.
    - `connect`: the TCP handshake.
    - `tls`: the TLS handshake; None when no hop used TLS. If the installed aiohttp no longer
      lets the prober see the moment TCP connects, `connect` includes the TLS handshake and
      `tls` is None.
    - `first_byte`: from the start of the probe until the final response's headers were read
      (time to first byte, including DNS, connections and redirects); None if none arrived.
    - `total`: from the start of the probe until the body was read (up to `body_bytes`) or the
      probe failed; always set.

    A phase that did not complete (a refused connect, a timeout in the handshake) is None; a
    local wait for a free connection slot is not counted in any of them.

    `tls_expires_at` is the `notAfter` of the certificate presented on the final connection
    (aware UTC), None for plain HTTP or when no TLS connection was completed.
    """

    url: str
    outcome: str
    status_code: int | None
    error: str | None
    started_at: datetime
    dns: float | None = None
    connect: float | None = None
    tls: float | None = None
    first_byte: float | None = None
    total: float = 0.0
    tls_expires_at: datetime | None = None
    final_url: str | None = None
    body_bytes: int = 0
    redirects: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values; times as ISO 8601 UTC with a `Z`."""
        return {
            "url": self.url,
            "outcome": self.outcome,
            "status_code": self.status_code,
            "error": self.error,
            "started_at": iso_utc(self.started_at),
            "timings": {
                "dns": _seconds(self.dns),
                "connect": _seconds(self.connect),
                "tls": _seconds(self.tls),
                "first_byte": _seconds(self.first_byte),
                "total": _seconds(self.total),
            },
            "tls_expires_at": iso_utc(self.tls_expires_at),
            "final_url": self.final_url,
            "body_bytes": self.body_bytes,
            "redirects": self.redirects,
        }


def iso_utc(value: datetime | None) -> str | None:
    """`value` as ISO 8601 in UTC with a `Z` suffix (None stays None)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
