"""Settings that point the mail layer at the SMTP server on loopback (the `sink` fixture)."""

from __future__ import annotations

from uptimeguard.settings import Settings


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
