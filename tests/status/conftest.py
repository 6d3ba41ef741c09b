"""A status page app on a checks file full of things that must never be public."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from status_support import LEAKY_CHECKS, live_site, seed

from uptimeguard.config import load_config_text
from uptimeguard.config.models import ChecksConfig
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.settings import Settings
from uptimeguard.storage.repository import Store
from uptimeguard.web.context import WebContext
from uptimeguard.web.server import build_app


@pytest.fixture
def leaky_config() -> ChecksConfig:
    return load_config_text(LEAKY_CHECKS, path="checks.yaml")


@pytest.fixture
async def status_client(
    store: Store, clock: Any, leaky_config: ChecksConfig, tmp_path: Any
) -> AsyncIterator[tuple[TestClient, dict[str, int]]]:
    ids = await seed(store, leaky_config, clock)
    now = clock.now()
    monitor = SimpleNamespace(
        sites={
            ("acme", "www"): live_site("down", now - timedelta(seconds=20)),
            ("acme", "backoffice"): live_site("up", now - timedelta(minutes=2)),
            ("acme", "api"): live_site("up", now - timedelta(minutes=1)),
            ("other", "hidden"): live_site("down", now),
        }
    )

    async def ready() -> bool:
        return True

    context = WebContext(
        settings=Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"),
        store=store,
        incidents=IncidentService(store, leaky_config),
        monitor=monitor,  # type: ignore[arg-type]
        metrics=Metrics(),
        clock=clock,
        ready=ready,
    )
    async with TestClient(TestServer(build_app(context))) as client:
        yield client, ids
