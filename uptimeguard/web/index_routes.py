"""`GET /`: a small page linking the public status pages and the OpenAPI document.

It shows what the status pages themselves show (each page's title at its slug), and nothing
else: no sites, no counts, no version.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from uptimeguard.status.templates import environment, stylesheet
from uptimeguard.web.context import CONTEXT
from uptimeguard.web.status_routes import HEADERS


@dataclass(frozen=True, slots=True)
class Listed:
    slug: str
    title: str


def listed_pages(request: web.Request) -> list[Listed]:
    """Every published status page, by title, as its page names itself."""
    config = request.app[CONTEXT].incidents.config
    pages = [
        Listed(c.status_page.slug, c.status_page.title or f"{c.name} status")
        for c in config.customers
        if c.status_page is not None
    ]
    return sorted(pages, key=lambda page: (page.title.lower(), page.slug))


async def index(request: web.Request) -> web.Response:
    html = (
        environment()
        .get_template("index.html")
        .render(pages=listed_pages(request), css=stylesheet())
    )
    security: dict[str, str] = request.app[HEADERS]
    return web.Response(
        text=html,
        content_type="text/html",
        headers={**security, "Cache-Control": "public, max-age=60"},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
