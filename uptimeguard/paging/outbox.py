"""The outbox: pages are rows written before they are sent, claimed with a conditional update.

Every decision that creates pages (a ladder rung, a desk notice, a resolution message) is one
transaction that moves the incident's paging state on *only if it still stands where the
decider saw it* and inserts the pages, under a unique key per (incident, purpose, round,
step, person, channel). So a step is planned exactly once, however many workers race or
restart. Sending claims a row with `UPDATE ... WHERE status = 'pending'`: only one worker
wins it. A row left `sending` by a crash is marked `interrupted`, never resent: Twilio may
already have it, and a duplicate page at 3 a.m. is the failure we promise not to have.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from uptimeguard.paging.models import (
    ATTEMPTED,
    CANCELLED,
    INTERRUPTED,
    LADDER,
    PENDING,
    SENDING,
    SENT,
    SLA,
    PageRow,
    PagingStateRow,
)
from uptimeguard.paging.sms import DEFAULT_MAX_SEGMENTS, fit
from uptimeguard.storage.models import IncidentEventRow, IncidentRow, UTCDateTime
from uptimeguard.storage.repository import Store


@dataclass(frozen=True, slots=True)
class NewPage:
    purpose: str
    person: str
    name: str
    phone: str
    channel: str
    body: str
    due_at: datetime
    round: int = 0
    step: int = 0
    status: str = PENDING
    cause: str | None = None
    data: dict[str, Any] | None = None


# How every SMS page ends ("Reply ACK 12 to acknowledge." or "... No action needed."): kept
# when a long body is cut.
ACK_HINT = re.compile(r"(Reply ACK \S+ to acknowledge\.|No action needed\.)$")


class Conflict(Exception):
    """Another worker moved the state first; nothing was written."""


class Outbox:
    def __init__(
        self, store: Store, node: str | None = None, sms_segments: int = DEFAULT_MAX_SEGMENTS
    ) -> None:
        self._sessions = store.sessions
        # The most SMS segments a page may take; a longer body is cut (`sms.fit`).
        self.sms_segments = sms_segments
        # The node claiming pages here (several nodes may send; each claim names its node).
        self.node = node

    # -- incidents as paging sees them -------------------------------------------------------

    async def unhandled(self) -> list[IncidentRow]:
        """Unresolved incidents paging has not decided about yet."""
        query = (
            select(IncidentRow)
            .outerjoin(PagingStateRow, PagingStateRow.incident_id == IncidentRow.id)
            .where(PagingStateRow.incident_id.is_(None), IncidentRow.resolved_at.is_(None))
            .order_by(IncidentRow.id)
        )
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())

    async def last_event_id(self) -> int | None:
        """The newest timeline line of any incident: it moves whenever any incident changes."""
        async with self._sessions() as session:
            return await session.scalar(select(func.max(IncidentEventRow.id)))

    async def active(self) -> list[tuple[IncidentRow, PagingStateRow]]:
        """Incidents whose paging is not finished (resolution not yet handled)."""
        query = (
            select(IncidentRow, PagingStateRow)
            .join(PagingStateRow, PagingStateRow.incident_id == IncidentRow.id)
            .where(PagingStateRow.closed.is_(False))
            .order_by(IncidentRow.id)
        )
        async with self._sessions() as session:
            return [(i, s) for i, s in (await session.execute(query)).all()]

    async def state(self, incident_id: int) -> PagingStateRow | None:
        async with self._sessions() as session:
            return await session.get(PagingStateRow, incident_id)

    # -- planning: state moves and the pages it creates, together ----------------------------

    async def begin(
        self, incident_id: int, fields: dict[str, Any], pages: Sequence[NewPage], now: datetime
    ) -> list[PageRow]:
        """Record the first decision about an incident with its pages; Conflict if another
        worker decided first."""
        try:
            async with self._sessions.begin() as session:
                session.add(PagingStateRow(incident_id=incident_id, created_at=now, **fields))
                await session.flush()
                return await _insert(session, incident_id, pages, now, self.sms_segments)
        except IntegrityError:
            raise Conflict(f"incident {incident_id} already handled") from None

    async def move(
        self,
        incident_id: int,
        expect: dict[str, Any],
        changes: dict[str, Any],
        pages: Sequence[NewPage],
        now: datetime,
    ) -> list[PageRow]:
        """Apply `changes` to the incident's state only where it still matches `expect`, and
        insert `pages`, in one transaction; Conflict (nothing written) otherwise."""
        try:
            async with self._sessions.begin() as session:
                statement = update(PagingStateRow).where(PagingStateRow.incident_id == incident_id)
                for column, value in expect.items():
                    attr = getattr(PagingStateRow, column)
                    statement = statement.where(attr.is_(None) if value is None else attr == value)
                result = await session.execute(statement.values(updated_at=now, **changes))
                if result.rowcount != 1:
                    raise Conflict(f"paging state of incident {incident_id} moved")
                return await _insert(session, incident_id, pages, now, self.sms_segments)
        except IntegrityError:
            raise Conflict(f"pages of incident {incident_id} already planned") from None

    async def add(self, incident_id: int, pages: Sequence[NewPage], now: datetime) -> list[PageRow]:
        """Insert pages on their own; Conflict when any of them was planned before."""
        try:
            async with self._sessions.begin() as session:
                return await _insert(session, incident_id, pages, now, self.sms_segments)
        except IntegrityError:
            raise Conflict(f"pages of incident {incident_id} already planned") from None

    async def tell_held_over(
        self, incident_ids: Sequence[int], page: NewPage, now: datetime
    ) -> list[PageRow]:
        """Mark held-over incidents told and write the one desk message about them."""
        try:
            async with self._sessions.begin() as session:
                result = await session.execute(
                    update(PagingStateRow)
                    .where(
                        PagingStateRow.incident_id.in_(incident_ids),
                        PagingStateRow.decision == "hold",
                        PagingStateRow.held_told_at.is_(None),
                    )
                    .values(held_told_at=now, updated_at=now)
                )
                if result.rowcount != len(incident_ids):
                    raise Conflict("held-over incidents already told")
                return await _insert(session, incident_ids[0], [page], now, self.sms_segments)
        except IntegrityError:
            raise Conflict("held-over message already planned") from None

    async def cancel_pending(
        self, incident_id: int, purposes: Iterable[str], cause: str, now: datetime
    ) -> list[PageRow]:
        """Cancel the incident's unsent pages of `purposes`; returns those cancelled."""
        statement = (
            update(PageRow)
            .where(
                PageRow.incident_id == incident_id,
                PageRow.purpose.in_(list(purposes)),
                PageRow.status == PENDING,
            )
            .values(status=CANCELLED, cause=cause, updated_at=now)
            .returning(PageRow.id)
        )
        async with self._sessions.begin() as session:
            ids = list((await session.scalars(statement)).all())
            if not ids:
                return []
            return list((await session.scalars(select(PageRow).where(PageRow.id.in_(ids)))).all())

    # -- sending -----------------------------------------------------------------------------

    async def claim_due(self, now: datetime, limit: int = 20) -> list[PageRow]:
        """Claim up to `limit` pending pages due by `now`; each row goes to exactly one claimer.

        The sender claims one page at a time (`claim_next`), so a crash strands at most the
        page it was sending; this is for callers that claim a batch on purpose.
        """
        claimed: list[PageRow] = []
        while len(claimed) < limit:
            row = await self.claim_next(now)
            if row is None:
                break
            claimed.append(row)
        return claimed

    async def claim_next(self, now: datetime, candidates: int = 20) -> PageRow | None:
        """Claim the earliest pending page due by `now`, or None when none is due.

        Several claimers may race: each tries the earliest few candidates in order with a
        conditional update, so a row goes to exactly one of them and none waits on another.
        """
        due = (
            select(PageRow.id)
            .where(PageRow.status == PENDING, PageRow.due_at <= now)
            .order_by(PageRow.due_at, PageRow.id)
            .limit(candidates)
        )
        async with self._sessions() as session:
            ids = list((await session.scalars(due)).all())
        for page_id in ids:
            async with self._sessions.begin() as session:
                result = await session.execute(
                    update(PageRow)
                    .where(PageRow.id == page_id, PageRow.status == PENDING)
                    .values(
                        status=SENDING,
                        claimed_at=now,
                        claimed_by=self.node,
                        updated_at=now,
                        attempts=PageRow.attempts + 1,
                    )
                )
                if result.rowcount == 1:
                    row = await session.get(PageRow, page_id, populate_existing=True)
                    assert row is not None
                    return row
        return None

    async def mark_sent(self, page_id: int, sid: str, now: datetime) -> None:
        # A status callback may already have moved the row on; keep what it said.
        await self._update(
            page_id,
            {
                "sid": sid,
                "sent_at": now,
                "cause": None,
                "status": case((PageRow.status == SENDING, SENT), else_=PageRow.status),
            },
            now,
        )

    async def retry_later(self, page_id: int, due_at: datetime, cause: str, now: datetime) -> None:
        await self._update(
            page_id, {"status": PENDING, "due_at": due_at, "cause": cause}, now, (SENDING,)
        )

    async def finish(
        self,
        page_id: int,
        status: str,
        cause: str | None,
        now: datetime,
        only_from: Sequence[str] = (SENDING, SENT),
    ) -> PageRow | None:
        """Set a final status if the page is still in `only_from`; the row, or None."""
        return await self._update(page_id, {"status": status, "cause": cause}, now, only_from)

    async def note_keypress(self, page_id: int, digits: str, now: datetime) -> None:
        """Keep on a call's page that a key was pressed on it (the call was answered by
        someone, see `Dispatcher.delivery`)."""
        async with self._sessions.begin() as session:
            page = await session.get(PageRow, page_id)
            if page is not None:
                page.data = {**(page.data or {}), "keypress": digits[:8]}
                page.updated_at = now

    async def interrupted(
        self,
        claimed_before: datetime,
        now: datetime,
        dead: Collection[str] | None = None,
    ) -> list[PageRow]:
        """Pages a dead worker left `sending`: marked `interrupted`, never sent again.

        Those this node's previous run claimed before `claimed_before` (and any claimed by no
        named node); with `dead`, those claimed by these nodes, which died (the leader's
        sweep). A live node's page being sent is never touched.
        """
        claimer: ColumnElement[bool]
        if dead is not None:
            claimer = PageRow.claimed_by.in_(list(dead))
        else:
            mine: ColumnElement[bool] = PageRow.claimed_by.is_(None)
            if self.node is not None:
                mine = or_(mine, PageRow.claimed_by == self.node)
            claimer = and_(PageRow.claimed_at < claimed_before, mine)
        statement = (
            update(PageRow)
            .where(PageRow.status == SENDING, claimer)
            .values(
                status=INTERRUPTED,
                updated_at=now,
                cause="the daemon stopped while sending; not resent, it may have gone",
            )
            .returning(PageRow.id)
        )
        async with self._sessions.begin() as session:
            ids = list((await session.scalars(statement)).all())
            if not ids:
                return []
            return list((await session.scalars(select(PageRow).where(PageRow.id.in_(ids)))).all())

    async def _update(
        self,
        page_id: int,
        values: dict[str, Any],
        now: datetime,
        only_from: Sequence[str] | None = None,
    ) -> PageRow | None:
        statement = update(PageRow).where(PageRow.id == page_id)
        if only_from is not None:
            statement = statement.where(PageRow.status.in_(list(only_from)))
        async with self._sessions.begin() as session:
            result = await session.execute(statement.values(updated_at=now, **values))
            if result.rowcount != 1:
                return None
            return await session.get(PageRow, page_id, populate_existing=True)

    # -- reading -----------------------------------------------------------------------------

    async def page(self, page_id: int) -> PageRow | None:
        async with self._sessions() as session:
            return await session.get(PageRow, page_id)

    async def pages(self, incident_id: int | None = None) -> list[PageRow]:
        query = select(PageRow).order_by(PageRow.id)
        if incident_id is not None:
            query = query.where(PageRow.incident_id == incident_id)
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())

    async def step_pages(self, incident_id: int, round_: int, step: int) -> list[PageRow]:
        query = select(PageRow).where(
            PageRow.incident_id == incident_id,
            PageRow.purpose == LADDER,
            PageRow.round == round_,
            PageRow.step == step,
        )
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())

    async def recent(self, people: Iterable[str], since: datetime) -> dict[str, list[datetime]]:
        """When each of `people` was sent (or is about to be sent) a message since `since`."""
        when = func.coalesce(
            PageRow.sent_at, PageRow.claimed_at, PageRow.due_at, type_=UTCDateTime()
        )
        query = select(PageRow.person, when).where(
            PageRow.person.in_(list(people)),
            PageRow.status.in_((*ATTEMPTED, PENDING)),
            when > since,
        )
        result: dict[str, list[datetime]] = {}
        async with self._sessions() as session:
            for person, at in (await session.execute(query)).all():
                result.setdefault(person, []).append(at)
        return result

    async def paged(self, incident_id: int) -> list[PageRow]:
        """One page per phone that was sent something about the incident (its first)."""
        rows = [p for p in await self.pages(incident_id) if p.status in ATTEMPTED]
        firsts: dict[str, PageRow] = {}
        for row in rows:
            firsts.setdefault(row.phone, row)
        return list(firsts.values())

    async def sla_fired(self, incident_id: int) -> set[int]:
        query = select(PageRow.step).where(
            PageRow.incident_id == incident_id, PageRow.purpose == SLA
        )
        async with self._sessions() as session:
            return set((await session.scalars(query)).all())


async def _insert(
    session: AsyncSession,
    incident_id: int,
    pages: Sequence[NewPage],
    now: datetime,
    sms_segments: int,
) -> list[PageRow]:
    rows = [
        PageRow(incident_id=incident_id, created_at=now, **asdict(_fitted(p, sms_segments)))
        for p in pages
    ]
    session.add_all(rows)
    await session.flush()
    return rows


def _fitted(page: NewPage, sms_segments: int) -> NewPage:
    """The page with an SMS body cut to `sms_segments`, keeping how to acknowledge."""
    if page.channel != "sms":
        return page
    hint = ACK_HINT.search(page.body)
    body = fit(page.body, sms_segments, keep=page.body[hint.start() :] if hint else "")
    return page if body == page.body else replace(page, body=body)
