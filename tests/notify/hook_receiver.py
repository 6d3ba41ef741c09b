"""A webhook receiver on loopback that checks signatures with its own HMAC code."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from aiohttp import web
from support import free_port

HOOK_SECRET = "whsec-0123456789abcdef"


class HookReceiver:
    """A webhook receiver that checks each request as a customer's would: its own HMAC of
    timestamp and body, a timestamp within five minutes, each delivery id once."""

    def __init__(self, secret: str = HOOK_SECRET) -> None:
        self.secret = secret.encode()
        self.port = free_port()
        self.accepted: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self.deliveries: list[str] = []
        self.answers: list[int] = []  # statuses to answer first, then 200
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/status"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get("X-Uptimeguard-Timestamp", "")
        given = request.headers.get("X-Uptimeguard-Signature", "")
        expected = (
            "sha256="
            + hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(given, expected):
            self.rejected.append("bad signature")
            return web.Response(status=401)
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            self.rejected.append("stale timestamp")
            return web.Response(status=401)
        delivery = request.headers["X-Uptimeguard-Delivery"]
        self.deliveries.append(delivery)
        if self.answers:
            return web.Response(status=self.answers.pop(0))
        if delivery in {d["delivery"] for d in self.accepted}:
            self.rejected.append("replayed delivery")
            return web.Response(status=200)
        self.accepted.append({"delivery": delivery, **json.loads(body)})
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/status", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
