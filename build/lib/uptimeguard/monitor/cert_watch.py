"""Certificate expiry: tells the incident service when a site's certificate passes one of its
`cert_expiry.warn` thresholds, and when it has been renewed.

Each probe that completed a TLS handshake reports the certificate's expiry; the level (how
many thresholds have passed) is compared with the last level told for the site, so the
incident service hears once per change, not on every probe. A failed call is retried on the
next probe.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from uptimeguard.incidents.cert_expiry import cert_level, describe

log = logging.getLogger(__name__)

# The level of a site whose certificate incident was open at start: unknown, so the next
# probe tells whatever it finds.
UNKNOWN = -1


class CertIncidents(Protocol):
    async def site_cert_expiring(
        self, customer: str, site: str, level: int, now: datetime, detail: str
    ) -> object: ...

    async def site_cert_renewed(self, customer: str, site: str, now: datetime) -> object: ...


async def watch_cert(
    incidents: CertIncidents,
    key: tuple[str, str],
    told: int,
    warn: tuple[timedelta, ...],
    expires_at: datetime,
    now: datetime,
) -> int:
    """Tell `incidents` of a change of level; returns the level now told."""
    level = cert_level(expires_at, now, warn)
    if level == told:
        return told
    customer, site = key
    try:
        if level > 0:
            detail = describe(expires_at, now, warn)
            await incidents.site_cert_expiring(customer, site, level, now, detail)
        else:
            await incidents.site_cert_renewed(customer, site, now)
    except Exception as error:
        log.warning(
            "cannot record the certificate of %s/%s (%s); will retry", customer, site, error
        )
        return told
    return level
