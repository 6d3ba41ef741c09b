"""NPS surveys: sent after incidents a customer could see, answered by one click.

When an incident is resolved, and its customer has a status page (it was on that page, or the
customer raised it themselves by phone or callback request), each of the customer's contacts
with an email is asked "How likely are you to recommend us?" with eleven links,
`{PUBLIC_URL}/status/{slug}/nps/{token}/{score}`, at most once per `nps.every` (30 days).
The claim on the contact, the survey row and the email are written in one transaction, so
two nodes resolving two incidents at once still send one survey, and a crash sends none or
one, never two. A survey takes one answer; a second click changes nothing and says so. A
comment may be added once.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from uptimeguard.config.models import ChecksConfig, Contact, Customer
from uptimeguard.incidents.service import IncidentChange
from uptimeguard.mail.outbox import Mail, MailOutbox
from uptimeguard.metrics import Metrics
from uptimeguard.reach import nps
from uptimeguard.reach.models import NpsContactRow, NpsSurveyRow
from uptimeguard.status.public import incident_title
from uptimeguard.storage.models import IncidentRow
from uptimeguard.storage.repository import Store

log = logging.getLogger(__name__)

TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}", re.ASCII)
ANSWERED, ALREADY, UNKNOWN, NOT_YET = "answered", "already", "unknown", "not_yet"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a click or a comment did: `answered` (recorded now), `already` (changed nothing),
    `unknown` (no such survey), `not_yet` (a comment before any answer)."""

    kind: str
    survey: NpsSurveyRow | None = None


def could_see(customer: Customer, incident: IncidentRow) -> bool:
    """An incident the customer could see: on their status page, or raised by them (a phone
    message or a callback request, which stay off the page). Both need a status page, under
    which the survey's links live."""
    return customer.status_page is not None


class Surveys:
    def __init__(
        self,
        store: Store,
        config: Callable[[], ChecksConfig],
        outbox: MailOutbox | None,
        public_url: str | None,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._config = config
        self._outbox = outbox
        self._base = (public_url or "").rstrip("/")
        self._metrics = metrics
        self._warned = False

    async def on_incident(self, change: IncidentChange) -> None:
        """Listener for incident changes: survey the contacts after a resolution."""
        if change.kind == "resolved":
            await self.after_resolution(change.incident, change.at)

    async def after_resolution(self, incident: IncidentRow, now: datetime) -> int:
        """Send the surveys due for a resolved incident; returns how many were sent."""
        config = self._config()
        try:
            customer = config.customer(incident.customer)
        except KeyError:
            return 0
        if not config.nps.enabled or not could_see(customer, incident):
            return 0
        if self._outbox is None or not self._base:
            if not self._warned:
                log.warning("NPS surveys need PUBLIC_URL and the mail outbox: none sent")
                self._warned = True
            return 0
        sent = 0
        for contact in customer.contacts:
            if contact.email and await self._send(customer, contact, incident, now):
                sent += 1
        if sent:
            self._outbox.wake()
            log.info("incident %s: %d NPS surveys planned", incident.id, sent)
        return sent

    async def _send(
        self, customer: Customer, contact: Contact, incident: IncidentRow, now: datetime
    ) -> bool:
        assert contact.email is not None and customer.status_page is not None
        assert self._outbox is not None
        email = contact.email.lower()
        every = self._config().nps.every
        token = secrets.token_urlsafe(24)
        dialect = self._store.engine.dialect.name
        dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        contact_row = (
            dialect_insert(NpsContactRow)
            .values(customer=customer.id, email=email, last_sent_at=None)
            .on_conflict_do_nothing(index_elements=["customer", "email"])
        )
        claim = (
            update(NpsContactRow)
            .where(
                NpsContactRow.customer == customer.id,
                NpsContactRow.email == email,
                or_(
                    NpsContactRow.last_sent_at.is_(None), NpsContactRow.last_sent_at <= now - every
                ),
            )
            .values(last_sent_at=now)
        )
        async with self._store.sessions.begin() as session:
            await session.execute(contact_row)
            if (await session.execute(claim)).rowcount != 1:
                return False  # asked within `every` already
            session.add(
                NpsSurveyRow(
                    token=token,
                    customer=customer.id,
                    incident_id=incident.id,
                    contact=contact.name[:200],
                    email=contact.email,
                    sent_at=now,
                )
            )
            mail = self.survey_mail(customer, contact, incident, token)
            await self._outbox.plan(session, [mail], now)
        return True

    def links(self, slug: str, token: str) -> list[str]:
        return [f"{self._base}/status/{slug}/nps/{token}/{score}" for score in nps.SCORES]

    def survey_mail(
        self, customer: Customer, contact: Contact, incident: IncidentRow, token: str
    ) -> Mail:
        assert customer.status_page is not None and contact.email is not None
        links = self.links(customer.status_page.slug, token)
        names = {site.id: site.name or site.id for site in customer.sites}
        title = incident_title(incident, names)
        what = f"incident #{incident.id} ({title})"
        text = nps.survey_text(contact.name, customer.name, what, links)
        cells = "".join(
            f'<td><a href="{html.escape(link)}">{score}</a></td>'
            for score, link in zip(nps.SCORES, links, strict=True)
        )
        page = (
            f"<p>Hello {html.escape(contact.name)},</p>"
            f"<p>We have just resolved {html.escape(what)} for {html.escape(customer.name)}.</p>"
            f"<p>{nps.QUESTION}</p>"
            f'<table role="presentation"><tr>{cells}</tr></table>'
            "<p>0: not at all likely, 10: extremely likely. One click answers; you may add a "
            "comment on the page it opens. Thank you.</p>"
        )
        return Mail(
            to=contact.email,
            subject=f"How likely are you to recommend us? ({customer.name})",
            text=text,
            html=page,
            dedupe_key=f"nps:{token}",
        )

    # -- answers -----------------------------------------------------------------------------

    async def _survey(self, customer: str, token: str) -> NpsSurveyRow | None:
        if not TOKEN.fullmatch(token):
            return None
        query = select(NpsSurveyRow).where(
            NpsSurveyRow.token == token, NpsSurveyRow.customer == customer
        )
        async with self._store.sessions() as session:
            return (await session.scalars(query)).first()

    async def known(self, customer: str, token: str) -> bool:
        return await self._survey(customer, token) is not None

    async def answer(self, customer: str, token: str, score: int, now: datetime) -> Outcome:
        """Record `score` unless the survey has its answer already."""
        survey = await self._survey(customer, token)
        if survey is None or score not in nps.SCORES:
            return Outcome(UNKNOWN)
        statement = (
            update(NpsSurveyRow)
            .where(NpsSurveyRow.id == survey.id, NpsSurveyRow.answered_at.is_(None))
            .values(score=score, answered_at=now)
        )
        async with self._store.sessions.begin() as session:
            won = (await session.execute(statement)).rowcount == 1
        survey = await self._survey(customer, token)
        if not won:
            return Outcome(ALREADY, survey)
        if self._metrics is not None:
            self._metrics.nps_responses.labels(customer, nps.category(score)).inc()
        return Outcome(ANSWERED, survey)

    async def comment(self, customer: str, token: str, text: str) -> Outcome:
        """Keep the survey's comment, once, after its answer."""
        survey = await self._survey(customer, token)
        if survey is None:
            return Outcome(UNKNOWN)
        if survey.answered_at is None:
            return Outcome(NOT_YET, survey)
        statement = (
            update(NpsSurveyRow)
            .where(NpsSurveyRow.id == survey.id, NpsSurveyRow.comment.is_(None))
            .values(comment=text)
        )
        async with self._store.sessions.begin() as session:
            won = (await session.execute(statement)).rowcount == 1
        return Outcome(ANSWERED if won else ALREADY, await self._survey(customer, token))
