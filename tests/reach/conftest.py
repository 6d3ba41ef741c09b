"""Customer-channel fixtures: a fake Twilio REST API on 127.0.0.1 and the harness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from paging.fake_twilio import FakeTwilio
from reach_support import Harness, bundled, make_harness, settings_for

from uptimeguard.storage.repository import Store


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def h(store: Store, clock: Any, twilio: FakeTwilio) -> AsyncIterator[Harness]:
    async for harness in make_harness(store, clock, twilio, bundled(), settings_for(twilio)):
        yield harness
