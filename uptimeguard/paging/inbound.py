"""What people answer: an SMS `ACK <id>` or `ACK`, and a keypress on a call.

Who may acknowledge: by SMS, a number in the checks file (a person or the desk) that was sent
a page about the incident (a ladder step, an SLA escalation, a desk notice); by keypress, the
person the call went to. `ACK 7` for an incident never paged to the number is refused and
says so: ids start again at 1 on a new database, so an old `ACK 7` must not reach whatever is
incident 7 now. Anyone else works incidents through the admin API or the CLI. A text from a
number not in the checks file gets no reply. The routes in `web/twilio_routes.py` check
Twilio's signature before anything here runs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from uptimeguard.incidents.errors import IncidentError, NotFound
from uptimeguard.paging import messages
from uptimeguard.paging.models import PageRow
from uptimeguard.paging.seen import SID, SeenMessages
from uptimeguard.paging.told import Told, mentions, same_message
from uptimeguard.paging.twilio import twiml
from uptimeguard.paging.twilio.webhooks import answered_by_machine, parse_ack

if TYPE_CHECKING:
    from uptimeguard.paging.service import PagingService
    from uptimeguard.storage.models import IncidentRow

log = logging.getLogger(__name__)

HELP = "Reply ACK <incident number> to acknowledge, e.g. ACK 12."


class Malformed(ValueError):
    """A signed SMS webhook that is not one Twilio sends (HTTP 400)."""


def _not_told(incident_id: int) -> str:
    return (
        f"Not acknowledged: incident {incident_id} was never paged to this number. Only people "
        "paged about an incident may acknowledge it by SMS."
    )


def _which(waiting: list[int]) -> str:
    listed = ", ".join(str(i) for i in waiting[: messages.MAX_LISTED])
    if len(waiting) > messages.MAX_LISTED:
        listed += f" and {len(waiting) - messages.MAX_LISTED} more"
    return (
        f"Not acknowledged: incidents {listed} were paged to you and are unacknowledged. "
        f"Reply ACK <incident number>, e.g. ACK {waiting[-1]}."
    )


class Inbound:
    def __init__(self, service: PagingService, public_url: str | None) -> None:
        self._service = service
        self._seen = SeenMessages(service.store)
        self._told = Told(service.store)
        self._public_url = public_url.rstrip("/") if public_url else ""

    def who(self, phone: str) -> str | None:
        """The name behind a phone number in the checks file, or None."""
        config = self._service.config
        for person in config.people.values():
            if person.phone == phone:
                return person.name
        if config.oncall is not None and config.oncall.desk_phone == phone:
            return "the desk"
        return None

    async def sms(self, params: Mapping[str, str]) -> str:
        """An inbound SMS; returns the TwiML reply. Raises `Malformed` for a signed request
        with no `MessageSid` (Twilio sends one with every SMS)."""
        phone = params.get("From", "").strip()
        name = self.who(phone)
        if name is None:
            log.warning("SMS from a number not in the checks file ignored")
            return twiml.sms_reply(None)
        sid = params.get("MessageSid", "").strip()
        if not SID.fullmatch(sid):
            raise Malformed("MessageSid: missing or malformed; Twilio sends one with every SMS")
        now = self._service.clock.now()
        if not await self._seen.claim(sid, phone, now):
            log.warning("SMS %s from %s was already taken: answered, nothing done", sid, name)
            return twiml.sms_reply(None)
        try:
            reply = await self._answer(phone, name, params.get("Body", ""), now)
        except BaseException:
            with contextlib.suppress(Exception):
                await self._seen.release(sid)  # so Twilio's retry is taken, not refused
            raise
        return twiml.sms_reply(reply)

    async def _answer(self, phone: str, name: str, body: str, now: datetime) -> str:
        is_ack, number = parse_ack(body)
        if not is_ack:
            return HELP
        if number is not None:
            if await self._service.store.incident(number) is None:
                return f"No incident {number}."
            if not await self._told.was_told(phone, number, now):
                return _not_told(number)
            return await self.acknowledge(number, name, "SMS")
        # A bare ACK answers the last page told to this number before the reply came; when
        # another incident told to it also waits for an acknowledgement, it is not clear which
        # was meant, and acknowledging the wrong one would stop its ladder: ask.
        page = await self._told.latest(phone, now)
        if page is None:
            return "Nothing to acknowledge: no page was sent to this number."
        ids = mentions(page)
        waiting = await self._told.waiting(phone, now)
        if [i for i in waiting if i not in ids]:
            return _which(waiting)
        return " ".join([await self.acknowledge(i, name, "SMS") for i in ids])

    async def acknowledge(self, incident_id: int, name: str, via: str) -> str:
        """Acknowledge for `name`; returns what to tell them. Of two people acknowledging at
        once only the one whose acknowledgement took is told so; the other is told who did."""
        service = self._service
        before = await service.store.incident(incident_id)
        if before is None:
            return f"No incident {incident_id}."
        renewing = before.acknowledged_at is not None
        if before.resolved_at is not None or (
            renewing and service.incidents.ack_expires_at(before) is None
        ):
            return self._already(before)
        now = service.clock.now()
        try:
            row, took = await service.incidents.try_acknowledge(
                incident_id, name, now, note=f"acknowledged by {via} from {name}"
            )
        except NotFound:
            return f"No incident {incident_id}."
        except IncidentError as error:
            return f"Incident {incident_id}: {error}."
        if not took:
            return self._already(row)
        service.wake()
        if renewing:  # the acknowledgement timeout (oncall.ack_timeout) starts over
            return f"Incident {incident_id} acknowledged again by {name}."
        return f"Incident {incident_id} acknowledged by {name}. Escalation stopped."

    def _already(self, incident: IncidentRow) -> str:
        """What somebody acknowledging an incident already done with is told."""
        if incident.resolved_at is not None:
            return f"Incident {incident.id} is already resolved."
        at = incident.acknowledged_at
        when = ""
        if at is not None:
            when = " at " + messages.clock_time(
                at, self._service.timezone(incident.plan), self._service.clock.now()
            )
        by = incident.acknowledged_by
        return f"Incident {incident.id} was already acknowledged by {by}{when}."

    # -- calls -------------------------------------------------------------------------------

    def _page_call(self, page: PageRow, play: int) -> str:
        base = f"{self._public_url}/twilio/voice/{page.id}"
        replay = f"{base}?play={play + 1}" if play < twiml.MAX_PLAYS else None
        return twiml.page_call(page.body, f"{base}/gather", replay)

    async def _known_call(self, page_id: int, call_sid: str) -> PageRow | None:
        """The call page `page_id`, if the keypress is on that call: page ids start again at
        1 on a new database, so a keypress on a call from before (its `CallSid` not the
        page's) does not acknowledge whatever page has that id now."""
        page = await self._service.outbox.page(page_id)
        if page is None or page.channel != "voice" or not same_message(page, call_sid):
            return None
        return page

    async def call(self, page_id: int, play: int = 1, answered_by: str = "") -> str:
        """The TwiML Twilio fetches when the call is answered (and for each replay). A machine
        answering (voicemail, a fax) is hung up on and counts as no answer at once."""
        page = await self._service.outbox.page(page_id)
        if page is None or page.channel != "voice":
            return twiml.say_and_hang_up("This call is not known to uptimeguard. Goodbye.")
        if answered_by_machine({"AnsweredBy": answered_by}):
            await self._service.dispatcher.machine_answered(page, answered_by)
            self._service.wake()
            return twiml.hang_up()
        return self._page_call(page, play)

    async def keypress(self, page_id: int, digits: str, call_sid: str = "") -> str:
        """1 acknowledges; any other key reads the incident again."""
        page = await self._known_call(page_id, call_sid)
        if page is None:
            return twiml.say_and_hang_up("This call is not known to uptimeguard. Goodbye.")
        # Someone is on the line: the call was answered (see `Dispatcher.delivery`).
        await self._service.outbox.note_keypress(page.id, digits.strip(), self._service.clock.now())
        if digits.strip() != "1":
            return self._page_call(page, 1)
        reply = await self.acknowledge(page.incident_id, page.name, "phone")
        return twiml.say_and_hang_up(f"{reply} Goodbye.")
