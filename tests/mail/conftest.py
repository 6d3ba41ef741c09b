"""An SMTP server on loopback, and settings that point the mail layer at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from smtp_sink import SmtpSink

from uptimeguard.settings import Settings


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    server.start()
    yield server
    server.stop()


def mail_settings(port: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_tls": "none",
        "mail_from": "Acme status <status@uptimeguard.example>",
        "mail_retry_first_seconds": 0.1,
        "mail_retry_max_seconds": 0.4,
        "smtp_timeout_seconds": 5,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
