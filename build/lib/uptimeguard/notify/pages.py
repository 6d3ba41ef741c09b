"""What a message about a status page needs to know of it: its public names, zone and links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from uptimeguard.config.models import ChecksConfig, Customer
from uptimeguard.status.public import display_name
from uptimeguard.status.zones import local_when, page_timezone


@dataclass(frozen=True, slots=True)
class PageInfo:
    """One customer's page as messages show it (public fields only)."""

    customer: str  # the customer id
    slug: str
    title: str
    timezone: str
    site_names: dict[str, str]
    base_url: str  # PUBLIC_URL without a trailing slash

    @classmethod
    def of(cls, config: ChecksConfig, customer: Customer, public_url: str) -> PageInfo:
        page = customer.status_page
        assert page is not None
        return cls(
            customer=customer.id,
            slug=page.slug,
            title=page.title or f"{customer.name} status",
            timezone=page_timezone(config, customer),
            site_names={site.id: display_name(site) for site in customer.sites},
            base_url=public_url.rstrip("/"),
        )

    @property
    def url(self) -> str:
        return f"{self.base_url}/status/{self.slug}"

    def confirm_url(self, token: str) -> str:
        return f"{self.url}/confirm/{token}"

    def unsubscribe_url(self, token: str) -> str:
        return f"{self.url}/unsubscribe/{token}"

    def when(self, at: datetime) -> str:
        return local_when(at, self.timezone)
