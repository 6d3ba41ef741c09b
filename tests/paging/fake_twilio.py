"""A local fake of Twilio's REST API (Messages and Calls) that the real `twilio` client talks
to through TWILIO_API_BASE. It records each request's form fields and can fail on demand."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SID = "AC" + "0" * 32
TOKEN = "fake-auth-token-1234"
FROM = "+15005550006"


@dataclass
class Sent:
    kind: str  # "sms" or "call"
    form: dict[str, str]

    @property
    def to(self) -> str:
        return self.form["To"]


@dataclass
class Failure:
    status: int
    code: int
    message: str
    to: str | None = None  # only requests to this number; None: any
    times: int = 1


@dataclass
class FakeTwilio:
    sid: str = SID
    token: str = TOKEN
    sent: list[Sent] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail(self, status: int, code: int, message: str, to: str | None = None, times: int = 1):
        """Answer the next matching request(s) with a Twilio error."""
        self.failures.append(Failure(status, code, message, to, times))

    def sms(self) -> list[Sent]:
        return [s for s in self.sent if s.kind == "sms"]

    def calls(self) -> list[Sent]:
        return [s for s in self.sent if s.kind == "call"]

    def summary(self) -> list[tuple[str, str]]:
        """(kind, To) of each accepted request, in order."""
        return [(s.kind, s.to) for s in self.sent]

    async def start(self, port: int = 0) -> FakeTwilio:
        app = web.Application()
        base = "/2010-04-01/Accounts/{sid}"
        app.router.add_post(base + "/Messages.json", self._messages)
        app.router.add_post(base + "/Calls.json", self._calls)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{bound}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        return (
            request.match_info["sid"] == self.sid
            and request.headers.get("Authorization") == f"Basic {expected}"
        )

    async def _handle(self, request: web.Request, kind: str, prefix: str) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        if not self._authorized(request):
            self.refused.append({"kind": kind, "form": form, "why": "auth"})
            return _error(401, 20003, "Authenticate")
        for failure in self.failures:
            if failure.times > 0 and (failure.to is None or failure.to == form.get("To")):
                failure.times -= 1
                self.refused.append({"kind": kind, "form": form, "why": failure.code})
                return _error(failure.status, failure.code, failure.message)
        self.sent.append(Sent(kind, form))
        sid = f"{prefix}{next(self._ids):032d}"
        body = {
            "sid": sid,
            "account_sid": self.sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "status": "queued",
            "body": form.get("Body"),
            "uri": f"/2010-04-01/Accounts/{self.sid}/{prefix}/{sid}.json",
        }
        return web.json_response(body, status=201)

    async def _messages(self, request: web.Request) -> web.Response:
        return await self._handle(request, "sms", "SM")

    async def _calls(self, request: web.Request) -> web.Response:
        return await self._handle(request, "call", "CA")


def _error(status: int, code: int, message: str) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")
