"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from support import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return self.recipients[0]

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


class Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.sink.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        parsed = email.message_from_bytes(envelope.content or b"", policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.sink.lock:
            self.sink.received.append(
                Received(envelope.mail_from or "", list(envelope.rcpt_tos), parsed)
            )
        if self.sink.hold_seconds:  # answer late, as a slow server would
            await asyncio.sleep(self.sink.hold_seconds)
        return "250 Message accepted for delivery"


class SmtpSink:
    """Start, stop and start again on the same port; `received` lists every message taken."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.hold_seconds = 0.0
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    async def wait(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages()) >= count:
                return self.messages()
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} messages, got {len(self.messages())}")
