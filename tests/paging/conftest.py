"""Paging fixtures: a fake Twilio REST API on 127.0.0.1, and the harness around it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_twilio import FakeTwilio
from paging_support import SATURDAY_NIGHT, Harness, checks, make_harness, settings_for

from uptimeguard.storage.repository import Store


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def h(store: Store, clock: Any, twilio: FakeTwilio) -> AsyncIterator[Harness]:
    clock.current = SATURDAY_NIGHT
    async for h in make_harness(store, clock, twilio, checks(), settings_for(twilio)):
        yield h
