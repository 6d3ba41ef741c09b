"""Webhook calls through the mail outbox, against a receiver on loopback that checks each
signature with its own HMAC code."""

from __future__ import annotations

from aiohttp import web
from hook_receiver import HOOK_SECRET, HookReceiver
from support import eventually, free_port

from uptimeguard.clock import SystemClock
from uptimeguard.mail import MailService, WebhookCall, mail_service
from uptimeguard.mail.webhook import SecretOf
from uptimeguard.settings import Settings
from uptimeguard.storage.repository import Store

FAST = Settings(mail_retry_first_seconds=0.1, mail_retry_max_seconds=0.3)


def service(store: Store, secret_of: SecretOf) -> MailService:
    return mail_service(FAST, store, SystemClock(), secret_of)


async def call(mail: MailService, store: Store, url: str, key: str = "k1") -> None:
    async with store.sessions.begin() as session:
        body = '{"event":"incident.opened","n":1}'
        await mail.outbox.plan(session, [WebhookCall(url, "acme", body, key)], SystemClock().now())
    mail.outbox.wake()


async def statuses(mail: MailService) -> list[str]:
    return [row.status for row in await mail.outbox.messages()]


async def test_a_call_refused_for_now_is_retried_with_the_same_delivery_id(
    store: Store, receiver: HookReceiver
) -> None:
    receiver.answers = [500, 429]
    mail = service(store, lambda customer, url: HOOK_SECRET if url == receiver.url else None)
    async with mail.worker.running():
        await call(mail, store, receiver.url)
        await eventually(lambda: statuses(mail), lambda s: s == ["sent"])
    assert receiver.rejected == []
    assert len(receiver.deliveries) == 3 and len(set(receiver.deliveries)) == 1
    assert [(a["event"], a["n"]) for a in receiver.accepted] == [("incident.opened", 1)]
    assert (await mail.outbox.messages())[0].attempts == 3


async def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried(
    store: Store, receiver: HookReceiver
) -> None:
    mail = service(store, lambda customer, url: "not-the-receivers-secret")
    async with mail.worker.running():
        await call(mail, store, receiver.url)
        await eventually(lambda: statuses(mail), lambda s: s == ["failed"])
    assert receiver.rejected == ["bad signature"] and receiver.accepted == []
    assert "401" in ((await mail.outbox.messages())[0].cause or "")


async def test_only_the_configured_url_is_called(store: Store) -> None:
    grabbed: list[str] = []

    async def elsewhere(request: web.Request) -> web.Response:
        grabbed.append(request.path)
        return web.Response(status=200)

    other_port, hook_port = free_port(), free_port()

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{other_port}/grab")

    app = web.Application()
    app.router.add_post("/hook", redirect)
    app.router.add_post("/grab", elsewhere)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", hook_port).start()
    await web.TCPSite(runner, "127.0.0.1", other_port).start()
    hook = f"http://127.0.0.1:{hook_port}/hook"
    removed = f"http://127.0.0.1:{other_port}/grab"
    try:
        mail = service(store, lambda customer, url: HOOK_SECRET if url == hook else None)
        async with mail.worker.running():
            await call(mail, store, hook, "redirected")
            await call(mail, store, removed, "no-longer-configured")
            await eventually(lambda: statuses(mail), lambda s: sorted(s) == ["failed", "skipped"])
    finally:
        await runner.cleanup()
    assert grabbed == []  # the redirect was not followed; the removed webhook never called
    rows = {row.dedupe_key: row for row in await mail.outbox.messages()}
    assert rows["redirected"].cause == "webhook answered 307 (refused)"
    assert rows["no-longer-configured"].status == "skipped"
