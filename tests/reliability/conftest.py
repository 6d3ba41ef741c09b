"""Reliability fixtures: the paging test doubles (tests/paging) importable from here too."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

PAGING_TESTS = str(Path(__file__).resolve().parent.parent / "paging")
if PAGING_TESTS not in sys.path:
    sys.path.insert(0, PAGING_TESTS)

from fake_twilio import FakeTwilio  # noqa: E402
from paging_support import SATURDAY_NIGHT, Harness, checks, make_harness, settings_for  # noqa: E402

from uptimeguard.storage.repository import Store  # noqa: E402


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def h(store: Store, clock: Any, twilio: FakeTwilio) -> AsyncIterator[Harness]:
    """The paging harness of tests/paging, at 03:00 on a Saturday (alice on call)."""
    clock.current = SATURDAY_NIGHT
    async for harness in make_harness(store, clock, twilio, checks(), settings_for(twilio)):
        yield harness
