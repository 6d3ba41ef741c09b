"""Reads and writes of the customer-channel tables (`reach.models`). One short transaction
per call, like `storage.repository.Store`, whose engine and sessions it shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from uptimeguard.reach.models import NpsSurveyRow, PhoneMessageRow
from uptimeguard.storage.repository import Store


class ReachStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.sessions = store.sessions

    # -- phone messages ---------------------------------------------------------------------

    async def claim_message(self, fields: dict[str, Any]) -> PhoneMessageRow | None:
        """Record a new message; None when its `recording_sid` is already recorded."""
        try:
            async with self.sessions.begin() as session:
                row = PhoneMessageRow(**fields)
                session.add(row)
        except IntegrityError:
            return None
        return row

    async def message(self, recording_sid: str) -> PhoneMessageRow | None:
        query = select(PhoneMessageRow).where(PhoneMessageRow.recording_sid == recording_sid)
        async with self.sessions() as session:
            return (await session.scalars(query)).first()

    async def retake_message(self, row: PhoneMessageRow, now: datetime) -> bool:
        """Claim again a message whose handling stopped half-way (the claim
        `row.received_at` is stale): True for the one caller that wins."""
        statement = (
            update(PhoneMessageRow)
            .where(
                PhoneMessageRow.id == row.id,
                PhoneMessageRow.handled_at.is_(None),
                PhoneMessageRow.received_at == row.received_at,
            )
            .values(received_at=now)
        )
        async with self.sessions.begin() as session:
            result = await session.execute(statement)
        return result.rowcount == 1

    async def message_update(self, message_id: int, **values: Any) -> None:
        statement = update(PhoneMessageRow).where(PhoneMessageRow.id == message_id).values(**values)
        async with self.sessions.begin() as session:
            await session.execute(statement)

    async def messages(self) -> list[PhoneMessageRow]:
        async with self.sessions() as session:
            query = select(PhoneMessageRow).order_by(PhoneMessageRow.id)
            return list((await session.scalars(query)).all())

    # -- NPS ----------------------------------------------------------------------------------

    async def scores_answered(self, customer: str, since: datetime, until: datetime) -> list[int]:
        """The scores of a customer's surveys answered in [since, until)."""
        query = select(NpsSurveyRow.score).where(
            NpsSurveyRow.customer == customer,
            NpsSurveyRow.answered_at >= since,
            NpsSurveyRow.answered_at < until,
            NpsSurveyRow.score.is_not(None),
        )
        async with self.sessions() as session:
            return [int(s) for s in (await session.scalars(query)).all() if s is not None]

    async def surveys(self, customer: str | None = None) -> list[NpsSurveyRow]:
        query = select(NpsSurveyRow).order_by(NpsSurveyRow.id)
        if customer is not None:
            query = query.where(NpsSurveyRow.customer == customer)
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())
