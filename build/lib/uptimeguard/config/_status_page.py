"""`status_page` keys for telling customers: `webhooks` and `timezone`; maintenance `announce`."""

from __future__ import annotations

from yaml.nodes import Node

from uptimeguard.config import parsers as p
from uptimeguard.config._yamlnodes import Context, Section
from uptimeguard.config.durations import parse_duration
from uptimeguard.config.models import Announcement, Webhook

WEBHOOK_KEYS = ("url", "secret")
ANNOUNCE_KEYS = ("title", "before")
MIN_SECRET = 16
MAX_WEBHOOKS = 10


def parse_secret(text: str) -> str:
    if len(text) < MIN_SECRET or any(c.isspace() for c in text):
        raise ValueError(
            f"a webhook secret needs at least {MIN_SECRET} characters and no spaces; "
            "put it in the environment: secret: ${HOOK_SECRET}"
        )
    return text


def read_webhooks(ctx: Context, node: Node | None, where: str) -> tuple[Webhook, ...] | None:
    """The page's webhooks, () when there are none, None when any is invalid."""
    if node is None:
        return ()
    items = ctx.seq(node, f"webhooks of {where}")
    if items is None:
        return None
    if len(items) > MAX_WEBHOOKS:
        ctx.add(node, f"at most {MAX_WEBHOOKS} webhooks per status page")
        return None
    hooks: list[Webhook] = []
    failed = False
    for index, item in enumerate(items):
        s = Section(
            ctx, item, f"webhook {index + 1} of {where}", WEBHOOK_KEYS, required=WEBHOOK_KEYS
        )
        url = s.value("url", p.parse_url)
        secret = s.value("secret", parse_secret)
        if url is not None and any(h.url == url for h in hooks):
            ctx.add(s.get("url") or item, f"webhook {url} is listed twice in {where}")
            url = None
        if url is None or secret is None or not s.ok:
            failed = True
            continue
        hooks.append(Webhook(url, secret))
    return None if failed else tuple(hooks)


def read_announcement(ctx: Context, node: Node, where: str) -> Announcement | None:
    s = Section(ctx, node, f"announce of {where}", ANNOUNCE_KEYS, required=ANNOUNCE_KEYS)
    title = s.value("title", p.parse_name)
    before = s.value("before", parse_duration)
    if title is None or before is None or not s.ok:
        return None
    return Announcement(title, before)
