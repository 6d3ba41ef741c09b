"""`load_config` in a child process, for the daemon: the same result, in a third of the memory.

Composing and validating the checks file makes about five times the memory of what it keeps
(the YAML nodes, their marks, the intermediate values). Freed, that memory stays in the
process: the arenas it used also hold the objects that live on, so they cannot be given back.
At 50,000 sites that was 119 MiB of RSS for 42 MiB of configuration (`bench/memory.py`). Here
a child process (the same interpreter and environment, so `${VAR}` values are the same) loads
the file and sends the result back pickled; this process only unpickles it, which allocates
what is kept and little else. Problems in the file come back as the same `ConfigError`. If the
child cannot be run at all, the file is loaded here instead.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

from uptimeguard.config._yamlnodes import ConfigError
from uptimeguard.config.loader import load_config
from uptimeguard.config.models import ChecksConfig

log = logging.getLogger(__name__)


def load_config_compact(path: str | Path, max_bytes: int) -> ChecksConfig:
    """As `load_config(path, max_bytes=max_bytes)`; raises ConfigError as it does."""
    argv = [sys.executable, "-m", "uptimeguard.config.compact", str(path), str(max_bytes)]
    try:
        done = subprocess.run(argv, capture_output=True, env=dict(os.environ), check=False)
    except OSError as error:
        log.warning("cannot load the checks file in a child process (%s); loading it here", error)
        return load_config(path, max_bytes=max_bytes)
    if done.returncode != 0 or not done.stdout:
        reason = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        log.warning(
            "the child process loading the checks file failed (%s); loading it here", reason
        )
        return load_config(path, max_bytes=max_bytes)
    kind, value = pickle.loads(done.stdout)  # our own child's output, never anyone else's
    if kind == "problems":
        raise ConfigError(value)
    assert isinstance(value, ChecksConfig)
    return value


def main(argv: list[str]) -> int:
    path, max_bytes = argv[0], int(argv[1])
    try:
        config = load_config(path, max_bytes=max_bytes)
        config.site_refs()  # built once here, sent with it
        answer: tuple[str, object] = ("config", config)
    except ConfigError as error:
        answer = ("problems", error.problems)
    sys.stdout.buffer.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
