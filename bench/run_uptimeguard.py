"""`uptimeguard run` on uvloop's event loop instead of asyncio's, to measure what it buys.

python -m bench.run_uptimeguard --uvloop
"""

from __future__ import annotations

import argparse
import sys

from uptimeguard.cli import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.run_uptimeguard")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.install()  # asyncio.run in `uptimeguard run` then makes a uvloop loop
    sys.exit(main(["run"]))
