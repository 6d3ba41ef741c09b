"""Logging in text or JSON, with secrets scrubbed from every record."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from uptimeguard.settings import Settings


class SecretFilter(logging.Filter):
    """Replaces any configured secret that appears in a log line with `***`: in the message,
    and in the traceback and stack of the record, which an exception's text can carry."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 4]

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        scrubbed = self._scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            # Formatters use `exc_text` when it is set, so the traceback is written scrubbed.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self._scrub(record.stack_info)
        return True


def malformed_reason(error: BaseException) -> str:
    """What aiohttp says is wrong with a request, on one line: its exceptions' text is
    "400, message:" and then the reason, with the offending bytes and a caret below."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    lines = [line for line in lines if not line.endswith(", message:")]
    return lines[0][:200] if lines else type(error).__name__


class MalformedRequestFilter(logging.Filter):
    """aiohttp logs a request it cannot parse (a NUL in a header, a body not in its
    Content-Encoding) at ERROR with a traceback, though it answers the client 400 itself: so
    any client could fill the log with tracebacks. Such a record becomes one WARNING line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.name == "aiohttp.server" and isinstance(
            error, HttpProcessingError | RequestPayloadError
        ):
            record.msg, record.args = "refused a malformed request: %s", (malformed_reason(error),)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text or record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(
                record.exc_info or (None, None, None)
            )
        return json.dumps(entry)


def secrets_of(settings: Settings) -> list[str]:
    values = [settings.admin_token, settings.twilio_auth_token, settings.smtp_password]
    found = [v.get_secret_value() for v in values if v is not None]
    # Not a secret on its own, but half of the Twilio credentials: kept out of logs too.
    if settings.twilio_account_sid:
        found.append(settings.twilio_account_sid)
    return found


def setup_logging(settings: Settings, quiet: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MalformedRequestFilter())
    handler.addFilter(SecretFilter(secrets_of(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    for noisy in ("apscheduler", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
