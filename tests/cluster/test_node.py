"""Node rows, heartbeats, death on the database clock and the leader lock, on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from support import eventually

from uptimeguard.cluster.node import ClusterNode, Identity, NodeStartError
from uptimeguard.storage.database import make_engine, upgrade_schema


async def _node(url: str, name: str, location: str = "eu", timeout: float = 2.0) -> ClusterNode:
    engine = make_engine(url)
    await upgrade_schema(engine)
    node = ClusterNode(Identity(name, location, timedelta(seconds=timeout)), engine)
    await node.start()
    return node


async def _close(*nodes: ClusterNode) -> None:
    for node in nodes:
        await node.stop()
        await node._engine.dispose()


async def test_one_leader_and_everyone_sees_everyone(cluster_url: str) -> None:
    a = await _node(cluster_url, "a")
    b = await _node(cluster_url, "b", "us")
    try:
        assert a.leader and not b.leader
        await eventually(lambda: asyncio.sleep(0, a.live_names("us")), lambda n: n == {"b"})
        assert b.live_names("eu") == {"a"}
        assert a.live_locations() == {"eu", "us"}
    finally:
        await _close(a, b)


async def test_a_second_daemon_under_the_same_name_is_refused(cluster_url: str) -> None:
    a = await _node(cluster_url, "a")
    try:
        with pytest.raises(NodeStartError, match="node a is already running"):
            await _node(cluster_url, "a")
    finally:
        await _close(a)


async def test_a_killed_leader_is_replaced_within_the_timeout(cluster_url: str) -> None:
    a = await _node(cluster_url, "a")
    b = await _node(cluster_url, "b")
    loop = asyncio.get_running_loop()
    try:
        assert a.leader
        # As a SIGKILL would: the session ends, no heartbeat comes again, no clean stop.
        assert a._task is not None
        a._task.cancel()
        killed = loop.time()
        await a._disconnect()
        await eventually(lambda: asyncio.sleep(0, b.leader), bool, timeout=10)
        # The advisory lock goes with the session: leadership moves at once.
        assert loop.time() - killed < 2.0
        await eventually(lambda: asyncio.sleep(0, b.live_names()), lambda n: n == {"b"})
        # Death is judged on the heartbeat: no sooner than the timeout after the last one.
        assert loop.time() - killed >= 2.0 - a.identity.heartbeat_every - 0.1
    finally:
        await _close(b)
        await a._engine.dispose()
