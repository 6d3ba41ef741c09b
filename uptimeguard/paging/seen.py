"""SMS replies taken once: each inbound SMS is claimed by its Twilio `MessageSid` before it
acts, in a table whose primary key is the sid. A request posted again with a sid already
claimed (a captured request replayed, or Twilio retrying) finds it taken and does nothing,
on SQLite and PostgreSQL alike, even when both copies arrive at the same moment."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from uptimeguard.paging.models import InboundSmsRow
from uptimeguard.storage.repository import Store

# Twilio's message sids are SM (or MM) and 32 hex digits; taken loosely, so a change of case
# or length on Twilio's side never refuses a real reply.
SID = re.compile(r"[A-Za-z0-9]{2,64}")


class SeenMessages:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def claim(self, sid: str, phone: str, now: datetime) -> bool:
        """True the first time `sid` is claimed, False ever after."""
        row = InboundSmsRow(sid=sid, phone=phone[:32], received_at=now)
        try:
            async with self._store.sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    async def release(self, sid: str) -> None:
        """Give a claim back (the reply could not be acted on), so Twilio's retry is taken."""
        async with self._store.sessions.begin() as session:
            await session.execute(delete(InboundSmsRow).where(InboundSmsRow.sid == sid))
