"""A webhook receiver on loopback for the notify tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hook_receiver import HookReceiver


@pytest.fixture
async def receiver() -> AsyncIterator[HookReceiver]:
    hook = HookReceiver()
    await hook.start()
    yield hook
    await hook.stop()
