"""A status page's public updates as an Atom feed (RFC 4287). Pure.

One entry per public update (`uptimeguard.status.updates`), newest first: each incident's
opening, acknowledgement, public notes and resolution, and each maintenance announcement.
Entry ids are stable (`<page URL>#update-<n>` for incidents, `#maintenance-<n>`), so a
reader never shows an update twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from uptimeguard.status.updates import STATUS_WORDS, PublicUpdate

ATOM = "application/atom+xml; charset=utf-8"
MAX_ENTRIES = 100


@dataclass(frozen=True, slots=True)
class Entry:
    id: str  # the fragment after the page URL: `update-12`, `maintenance-3`
    title: str  # what the update is about: the incident's or the window's title
    update: PublicUpdate


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def atom(page_url: str, title: str, entries: Sequence[Entry], updated: datetime) -> bytes:
    """The feed for `page_url` (absolute); `updated` is used when there are no entries."""
    ordered = sorted(entries, key=lambda e: (e.update.at, e.id), reverse=True)[:MAX_ENTRIES]
    newest = ordered[0].update.at if ordered else updated
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<id>{escape(page_url)}</id>",
        f"<title>{escape(title)}</title>",
        f"<subtitle>{escape(f'Incidents and maintenance on {title}')}</subtitle>",
        f"<updated>{_time(newest)}</updated>",
        f'<link rel="alternate" type="text/html" href={quoteattr(page_url)}/>',
        f'<link rel="self" type="application/atom+xml" href={quoteattr(page_url + "/feed.atom")}/>',
        f"<author><name>{escape(title)}</name></author>",
    ]
    for entry in ordered:
        update = entry.update
        status = STATUS_WORDS.get(update.status, update.status.capitalize())
        lines += [
            "<entry>",
            f"<id>{escape(f'{page_url}#{entry.id}')}</id>",
            f"<title>{escape(f'{status}: {entry.title}')}</title>",
            f"<updated>{_time(update.at)}</updated>",
            f"<published>{_time(update.at)}</published>",
            f'<link rel="alternate" type="text/html" href={quoteattr(page_url)}/>',
            f'<content type="text">{escape(update.message)}</content>',
            "</entry>",
        ]
    lines.append("</feed>")
    return ("\n".join(lines) + "\n").encode()
