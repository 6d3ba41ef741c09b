"""`uptimeguard run` as the bench starts it when it must change one thing about the process:

- `--max-entries N`: the checks-file loader refuses files with more than its `MAX_ENTRIES`
  mapping entries (a guard against anchor bombs that counts 2 entries per site, so 100,000
  sites are over its 200,000). The bench raises the limit for its generated files and says so
  in its output.
- `--uvloop`: run on uvloop's event loop instead of asyncio's, to measure what it buys.

    python -m bench.run_uptimeguard [--max-entries N] [--uvloop]
"""

from __future__ import annotations

import argparse
import sys

from uptimeguard.cli import main
from uptimeguard.config import _yamlnodes

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.run_uptimeguard")
    parser.add_argument("--max-entries", type=int, default=0)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    _yamlnodes.MAX_ENTRIES = max(_yamlnodes.MAX_ENTRIES, args.max_entries)
    if args.uvloop:
        import uvloop

        uvloop.install()  # asyncio.run in `uptimeguard run` then makes a uvloop loop
    sys.exit(main(["run"]))
