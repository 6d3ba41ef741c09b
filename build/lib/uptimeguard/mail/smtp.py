"""Sending e-mail rows over SMTP (aiosmtplib), one connection per burst of messages.

The SMTP dialogue is driven step by step so a failure is known by its phase: anything before
the message data was written (connecting, TLS, login, MAIL FROM, RCPT TO) is retried, but
a 5xx answer to the envelope or the data is permanent (a refused address); a connection
that dies after the data was written, before the server answered, may have delivered it
(`maybe_taken`: not resent).
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from uptimeguard.mail.errors import DeliveryError
from uptimeguard.mail.models import MailRow
from uptimeguard.settings import Settings

log = logging.getLogger(__name__)
# CRLF line ends, as SMTP wants; headers fold only past the 998-character limit (folding at
# 78 put a line break before a subject starting with "[", which some readers keep as a space).
POLICY = email.policy.SMTP.clone(max_line_length=998)


def build_message(row: MailRow, sender: str) -> EmailMessage:
    """The row as a MIME message: text, plus HTML as multipart/alternative when present."""
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = " ".join(row.subject.split())  # no line breaks in a header
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "uptimeguard.invalid"
    digest = hashlib.sha256(row.dedupe_key.encode()).hexdigest()[:20]
    message["Message-ID"] = f"<{row.id}.{digest}@{domain}>"
    for name, value in (row.headers or {}).items():
        message[name] = " ".join(value.split())
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


class SmtpSender:
    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host and settings.mail_from
        self._settings = settings
        self.sender = settings.mail_from
        self._client: aiosmtplib.SMTP | None = None

    def _new_client(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",
            timeout=s.smtp_timeout_seconds,
            tls_context=ssl.create_default_context(),
        )

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        client = self._new_client()
        await client.connect()
        s = self._settings
        if s.smtp_username:
            password = s.smtp_password.get_secret_value() if s.smtp_password else ""
            await client.login(s.smtp_username, password)
        self._client = client
        return client

    async def send(self, row: MailRow) -> None:
        """Hand one message to the server; DeliveryError says why not."""
        message = build_message(row, self.sender)
        phase = "connecting"
        try:
            client = await self._connected()
            phase = "sending the envelope"
            await client.mail(parseaddr(self.sender)[1])
            await client.rcpt(row.recipient)
            phase = "sending the message"
            await client.data(message.as_bytes())
        except aiosmtplib.SMTPResponseException as error:  # the server answered: no
            await self.close()
            # A 5xx about this message is final; one while connecting or logging in (a
            # refused login, a server turning everyone away) is about the server: retried.
            permanent = 500 <= error.code < 600 and phase != "connecting"
            raise DeliveryError(
                f"SMTP server refused while {phase}: {error.code} {error.message}",
                permanent=permanent,
            ) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            await self.close()
            taken = phase == "sending the message"
            raise DeliveryError(
                f"SMTP failed while {phase}: {error.__class__.__name__}: {error}",
                maybe_taken=taken,
            ) from None

    async def close(self) -> None:
        """End the connection (after a burst, after an error, at shutdown)."""
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
