"""`python -m uptimeguard.healthcheck`: exit 0 when this machine's daemon answers `/readyz` 200.

The container's HEALTHCHECK runs it. It reads the same `UPTIMEGUARD_LISTEN` setting as the
daemon, so the check follows the configured port; a wildcard listen address is reached on
loopback.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from uptimeguard.settings import parse_listen

WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def readyz_url(listen: str) -> str:
    """The `/readyz` URL of a daemon listening on `listen` (`HOST:PORT`)."""
    host, port = parse_listen(listen)
    host = WILDCARDS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/readyz"


def main() -> int:
    try:
        url = readyz_url(os.environ.get("UPTIMEGUARD_LISTEN", "127.0.0.1:8080"))
    except ValueError as error:
        print(f"healthcheck: {error}", file=sys.stderr)
        return 2
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (OSError, urllib.error.URLError) as error:
        print(f"healthcheck: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
