"""What a phone number was told: the pages an SMS reply can answer.

A page was told to its number once Twilio took it (`sent_at`), or possibly so (`interrupted`:
caught on the wire by a crash or a timeout). A page still being sent, or never taken, was
not. Resolution notices ask nothing, so they are never what an `ACK` answers. A held-over
notice to the desk tells of several incidents at once (`data.incidents`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select

from uptimeguard.paging.models import HELD_OVER, INTERRUPTED, RESOLVED, PageRow
from uptimeguard.storage.models import IncidentRow, UTCDateTime
from uptimeguard.storage.repository import Store

TOLD_AT = func.coalesce(PageRow.sent_at, PageRow.claimed_at, type_=UTCDateTime())


def mentions(page: PageRow) -> list[int]:
    """The incidents a page tells of."""
    listed = (page.data or {}).get("incidents")
    return [int(i) for i in listed] if listed else [page.incident_id]


def same_message(page: PageRow, sid: str | None) -> bool:
    """Whether a webhook naming Twilio's `sid` (a CallSid) is about `page`: yes unless both
    are known and differ (Twilio may call back before its answer to the request that made
    the page is stored)."""
    return not page.sid or not sid or page.sid == sid


def _told(phone: str, before: datetime) -> ColumnElement[bool]:
    return and_(
        PageRow.phone == phone,
        PageRow.purpose != RESOLVED,
        or_(PageRow.sent_at.is_not(None), PageRow.status == INTERRUPTED),
        before >= TOLD_AT,
    )


class Told:
    def __init__(self, store: Store) -> None:
        self._sessions = store.sessions

    async def latest(self, phone: str, before: datetime) -> PageRow | None:
        """The last page told to `phone` at or before `before` (what a bare `ACK` answers)."""
        query = (
            select(PageRow)
            .where(_told(phone, before))
            .order_by(TOLD_AT.desc(), PageRow.id.desc())
            .limit(1)
        )
        async with self._sessions() as session:
            return (await session.scalars(query)).first()

    async def waiting(self, phone: str, before: datetime) -> list[int]:
        """Incidents told to `phone` by `before` and still neither acknowledged nor resolved."""
        waiting = and_(IncidentRow.acknowledged_at.is_(None), IncidentRow.resolved_at.is_(None))
        direct = (
            select(PageRow.incident_id)
            .join(IncidentRow, IncidentRow.id == PageRow.incident_id)
            .where(_told(phone, before), waiting)
            .distinct()
        )
        oldest = select(func.min(IncidentRow.opened_at)).where(waiting).scalar_subquery()
        held = select(PageRow).where(
            _told(phone, before), PageRow.purpose == HELD_OVER, PageRow.created_at >= oldest
        )
        async with self._sessions() as session:
            found = set((await session.scalars(direct)).all())
            listed = {i for page in await session.scalars(held) for i in mentions(page)} - found
            if listed:
                more = select(IncidentRow.id).where(IncidentRow.id.in_(listed), waiting)
                found |= set((await session.scalars(more)).all())
        return sorted(found)

    async def was_told(self, phone: str, incident_id: int, before: datetime) -> bool:
        """Whether `phone` was told of the incident by `before`."""
        async with self._sessions() as session:
            incident = await session.get(IncidentRow, incident_id)
            if incident is None:
                return False
            pages = await session.scalars(
                select(PageRow).where(
                    _told(phone, before),
                    or_(
                        PageRow.incident_id == incident_id,
                        and_(
                            PageRow.purpose == HELD_OVER, PageRow.created_at >= incident.opened_at
                        ),
                    ),
                )
            )
            return bool(_within(pages, {incident_id}))


def _within(pages: Iterable[PageRow], ids: set[int]) -> set[int]:
    return {i for page in pages for i in mentions(page) if i in ids}
