"""The checks file's size limit: refused before it is read, with what to do about it."""

from __future__ import annotations

import os
from pathlib import Path

# 16 MiB: about 250,000 one-line sites (the 100,000-site benchmark file is 6.4 MB). Composing
# YAML costs about 40 times the file's size in memory and seconds per megabyte, so a 50 MB file
# took 2.35 GB and over a minute to refuse.
DEFAULT_MAX_BYTES = 16 << 20
SETTING = "UPTIMEGUARD_CHECKS_MAX_BYTES"


class TooLarge(Exception):
    """The file is over the limit; the message says by how much and how to raise it."""

    def __init__(self, size: int | None, limit: int) -> None:
        what = f"{size:,} bytes" if size is not None else f"over {limit:,} bytes"
        super().__init__(
            f"the file is {what}, over the {limit:,}-byte limit for a checks file; "
            f"raise {SETTING} to load it"
        )


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes; TooLarge, before reading, when it is bigger than `limit`.

    The size is taken from the file's status first, and the read stops one byte past the
    limit, so a file that grows meanwhile (or a device that never ends) is refused too.
    """
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > limit:
            raise TooLarge(size, limit)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(None, limit)
    return data
