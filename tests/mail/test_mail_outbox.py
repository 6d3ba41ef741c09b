"""The mail outbox against a real SMTP server on loopback: sent once, retried while the
server is away, refused for good on a 5xx, never resent after a crash mid-send."""

from __future__ import annotations

from datetime import timedelta

from mail_support import mail_settings
from smtp_sink import SmtpSink
from sqlalchemy import update
from support import eventually

from uptimeguard.clock import SystemClock
from uptimeguard.mail import MailService, mail_service
from uptimeguard.mail.models import MailRow
from uptimeguard.metrics import Metrics
from uptimeguard.settings import Settings
from uptimeguard.storage.repository import Store


def no_webhooks(customer: str, url: str) -> None:
    return None


def service(store: Store, settings: Settings, metrics: Metrics | None = None) -> MailService:
    return mail_service(settings, store, SystemClock(), no_webhooks, metrics)


async def statuses(mail: MailService) -> list[str]:
    return [row.status for row in await mail.outbox.messages()]


async def test_a_message_is_sent_once_as_text_and_html(store: Store, sink: SmtpSink) -> None:
    mail = service(store, mail_settings(sink.port))
    async with mail.worker.running():
        planned = await mail.outbox.enqueue(
            to="desk@acme.example",
            subject="Voicemail\r\nBcc: evil@example.com",
            text="Listen: https://status.example/v/1 <b>",
            html="<p>Listen: &lt;b&gt;</p>",
            headers={"Reply-To": "support@acme.example"},
            dedupe_key="voicemail:1",
        )
        again = await mail.outbox.enqueue(
            to="desk@acme.example", subject="x", text="x", dedupe_key="voicemail:1"
        )
        await sink.wait(1)
        await eventually(lambda: statuses(mail), lambda s: s == ["sent"])
    assert (planned, again) == (True, False)
    (received,) = sink.messages()
    message = received.message
    assert received.recipients == ["desk@acme.example"]
    assert received.sender == "status@uptimeguard.example"
    # A line break in a subject cannot add a header.
    assert message["Subject"] == "Voicemail Bcc: evil@example.com"
    assert message["Bcc"] is None
    assert message["Reply-To"] == "support@acme.example"
    assert message["Message-ID"].endswith("@uptimeguard.example>")
    assert message.get_content_type() == "multipart/alternative"
    assert received.part("plain").strip() == "Listen: https://status.example/v/1 <b>"
    assert received.part("html").strip() == "<p>Listen: &lt;b&gt;</p>"


async def test_smtp_away_then_back_loses_nothing_and_sends_nothing_twice(store: Store) -> None:
    sink = SmtpSink()  # not started: connections are refused
    metrics = Metrics()
    mail = service(store, mail_settings(sink.port), metrics)
    async with mail.worker.running():
        for n in range(3):
            await mail.outbox.enqueue(
                to=f"user{n}@acme.example", subject=f"n{n}", text="t", dedupe_key=f"k{n}"
            )

        async def attempts() -> list[int]:
            return [row.attempts for row in await mail.outbox.messages()]

        # Each message is tried, refused, and tried again with backoff.
        await eventually(attempts, lambda a: min(a) >= 3)
        rows = await mail.outbox.messages()
        assert {row.status for row in rows} <= {"pending", "sending"}
        assert all("connecting" in (row.cause or "") for row in rows if row.status == "pending")
        sink.start()
        try:
            await sink.wait(3)
            await eventually(lambda: statuses(mail), lambda s: s == ["sent"] * 3)
        finally:
            sink.stop()
    assert sorted(r.to for r in sink.messages()) == [f"user{n}@acme.example" for n in range(3)]
    assert metrics.mail.labels("email", "sent")._value.get() == 3
    assert metrics.mail.labels("email", "retried")._value.get() >= 6
    assert metrics.mail.labels("email", "failed")._value.get() == 0


async def test_a_refused_address_fails_at_once_and_the_rest_go(
    store: Store, sink: SmtpSink
) -> None:
    sink.refuse.add("gone@acme.example")
    mail = service(store, mail_settings(sink.port))
    async with mail.worker.running():
        await mail.outbox.enqueue(to="gone@acme.example", subject="a", text="a", dedupe_key="a")
        await mail.outbox.enqueue(to="here@acme.example", subject="b", text="b", dedupe_key="b")
        await eventually(lambda: statuses(mail), lambda s: s == ["failed", "sent"])
    failed = (await mail.outbox.messages())[0]
    assert failed.attempts == 1
    assert "550" in (failed.cause or "")
    assert [r.to for r in sink.messages()] == ["here@acme.example"]


async def test_a_message_left_sending_by_a_dead_process_is_never_resent(
    store: Store, sink: SmtpSink
) -> None:
    mail = service(store, mail_settings(sink.port))
    await mail.outbox.enqueue(to="a@acme.example", subject="a", text="a", dedupe_key="a")
    before = SystemClock().now() - timedelta(seconds=5)
    async with store.sessions.begin() as session:  # what a SIGKILL mid-send leaves
        await session.execute(update(MailRow).values(status="sending", claimed_at=before))
    await mail.outbox.enqueue(to="b@acme.example", subject="b", text="b", dedupe_key="b")
    mail = service(store, mail_settings(sink.port))  # the next process
    async with mail.worker.running():
        await eventually(lambda: statuses(mail), lambda s: s == ["interrupted", "sent"])
    assert [r.to for r in sink.messages()] == ["b@acme.example"]


async def test_without_smtp_messages_are_recorded_as_skipped(store: Store) -> None:
    mail = service(store, Settings())
    assert not mail.smtp_configured
    async with mail.worker.running():
        await mail.outbox.enqueue(to="a@acme.example", subject="a", text="a", dedupe_key="a")
        await eventually(lambda: statuses(mail), lambda s: s == ["skipped"])
