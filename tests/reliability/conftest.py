"""Reliability fixtures: the paging test doubles (tests/paging) importable from here too."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

PAGING_TESTS = str(Path(__file__).resolve().parent.parent / "paging")
if PAGING_TESTS not in sys.path:
    sys.path.insert(0, PAGING_TESTS)

from fake_twilio import FakeTwilio  # noqa: E402


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.stop()
