"""The words of every message to a subscriber or a webhook, from public updates only.

Text and HTML say the same; every value put into the HTML is escaped. Every e-mail carries
the unsubscribe link in its body and as RFC 8058 headers (`List-Unsubscribe` with the
one-click `List-Unsubscribe-Post`), so a mail program can offer a one-click unsubscribe.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from uptimeguard.incidents.views import iso
from uptimeguard.mail.outbox import Mail, WebhookCall
from uptimeguard.notify.pages import PageInfo
from uptimeguard.status.updates import STATUS_WORDS, PublicUpdate

WEBHOOK_EVENTS = {
    "opened": "incident.opened",
    "note": "incident.updated",
    "resolved": "incident.resolved",
    "scheduled": "maintenance.scheduled",
    "started": "maintenance.started",
    "completed": "maintenance.completed",
}


@dataclass(frozen=True, slots=True)
class About:
    """What an update is about: an incident or a maintenance window (public fields only)."""

    key: str  # `incident:12` or `maintenance:<window>`, for dedupe keys
    title: str
    status: str  # the incident's status now: investigating, resolved; or the phase
    started_at: datetime
    ended_at: datetime | None
    incident_id: int | None = None
    sites: tuple[str, ...] = ()  # display names


def _headers(page: PageInfo, token: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{page.unsubscribe_url(token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"{page.title} <{page.slug}.status.uptimeguard>",
        "Auto-Submitted": "auto-generated",
    }


def _html(paragraphs: list[str], link: tuple[str, str], footer: str, unsubscribe: str) -> str:
    body = "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)
    href, words = link
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"></head><body>\n'
        f'{body}<p><a href="{escape(href)}">{escape(words)}</a></p>\n'
        f'<p style="color:#555;font-size:small">{escape(footer)} '
        f'<a href="{escape(unsubscribe)}">Unsubscribe</a>.</p>\n</body></html>\n'
    )


def confirmation(page: PageInfo, to: str, token: str, sites: list[str] | None, n: int) -> Mail:
    """The one message an unconfirmed address is sent: the link that confirms it."""
    what = "all of its services" if not sites else ", ".join(page.site_names[s] for s in sites)
    link = page.confirm_url(token)
    intro = f"Someone, probably you, asked to be told of updates on {page.title} ({what})."
    ignore = "If it was not you, ignore this message: nothing more will be sent."
    footer = "You received this because this address was entered on the status page."
    text = (
        f"{intro}\n\nTo confirm, follow this link:\n{link}\n\n{ignore}\n\n"
        f"{footer}\nUnsubscribe: {page.unsubscribe_url(token)}\n"
    )
    return Mail(
        to=to,
        subject=f"Confirm your subscription to {page.title}",
        text=text,
        html=_html(
            [intro], (link, "Confirm my subscription"), f"{ignore} {footer}",
            page.unsubscribe_url(token),
        ),
        headers=_headers(page, token),
        dedupe_key=f"confirm:{page.customer}:{token}:{n}",
    )  # fmt: skip


def update_mail(
    page: PageInfo, about: About, update: PublicUpdate, to: str, token: str, sub_id: int
) -> Mail:
    status = STATUS_WORDS.get(update.status, update.status.capitalize())
    lines = [update.message, f"{about.title}: {status.lower()}, {page.when(update.at)}."]
    if about.incident_id is not None:
        lines.append(f"Incident #{about.incident_id}, since {page.when(about.started_at)}.")
    footer = f"You are subscribed to updates on {page.title}."
    unsubscribe = page.unsubscribe_url(token)
    text = "\n\n".join(lines) + (
        f"\n\nThe status page: {page.url}\n\n{footer}\nUnsubscribe: {unsubscribe}\n"
    )
    return Mail(
        to=to,
        subject=f"[{page.title}] {status}: {about.title}",
        text=text,
        html=_html(lines, (page.url, "See the status page"), footer, unsubscribe),
        headers=_headers(page, token),
        dedupe_key=f"{about.key}:{update.kind}:{update.event_id or update.status}:to:{sub_id}",
    )


def webhook_body(page: PageInfo, about: About, update: PublicUpdate) -> str:
    event = WEBHOOK_EVENTS.get(update.kind) or WEBHOOK_EVENTS.get(update.status, update.status)
    body: dict[str, Any] = {"event": event, "customer": page.customer}
    if about.incident_id is not None:
        body["incident"] = {
            "id": about.incident_id,
            "title": about.title,
            "status": about.status,
            "started_at": iso(about.started_at),
            "resolved_at": iso(about.ended_at),
        }
    else:
        body["maintenance"] = {
            "title": about.title,
            "starts_at": iso(about.started_at),
            "ends_at": iso(about.ended_at),
            "sites": list(about.sites),
        }
    body["update"] = {"at": iso(update.at), "status": update.status, "text": update.message}
    body["page"] = page.url
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def webhook_calls(
    page: PageInfo, urls: list[str], about: About, update: PublicUpdate
) -> list[WebhookCall]:
    body = webhook_body(page, about, update)
    key = f"{about.key}:{update.kind}:{update.event_id or update.status}"
    return [
        WebhookCall(
            url, page.customer, body, f"hook:{key}:{hashlib.sha256(url.encode()).hexdigest()[:16]}"
        )
        for url in urls
    ]
