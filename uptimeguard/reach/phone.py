"""The phone line: Twilio voice on the paging number, answered as the agreements promise.

- `inbound`: a call comes in. In the caller's business hours it is put through to the desk
  phone for 30 s (`dialled` then offers the answerphone if nobody answered). Out of hours, a
  known caller hears their open incidents and may leave a message; anyone else may leave one.
- `recorded`: Twilio's recording callback. A known caller's message opens an incident for
  their customer at the plan's `phone` severity, with the recording's link in the internal
  timeline; it is paged like any other incident. The desk's `oncall.desk.email` is mailed the
  link and the caller's number; an unknown caller's message goes to that email only.

Twilio may post the recording more than once (the `<Record>` action and its status callback,
and retries): each `RecordingSid` is handled once (`phone_messages` is unique on it). A claim
left unfinished by a crash is taken again by a later post after `RETAKE_AFTER`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from uptimeguard.clock import Clock
from uptimeguard.config.models import ChecksConfig
from uptimeguard.incidents.service import IncidentService
from uptimeguard.mail.outbox import MailOutbox
from uptimeguard.reach import callers, phone_twiml
from uptimeguard.reach.callers import Caller
from uptimeguard.reach.models import PhoneMessageRow
from uptimeguard.reach.store import ReachStore
from uptimeguard.storage.repository import NewEvent, Store
from uptimeguard.web.inputs import ascii_int

log = logging.getLogger(__name__)

INBOUND = "/twilio/voice/inbound"
DIALLED = f"{INBOUND}/dialled"
RECORDING = f"{INBOUND}/recording"
RETAKE_AFTER = timedelta(minutes=2)
_RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}", re.ASCII)
_DIGITS = re.compile(r"[0-9]{8,15}", re.ASCII)


class PhoneLine:
    def __init__(
        self,
        store: Store,
        incidents: IncidentService,
        clock: Clock,
        public_url: str | None,
        mailer: MailOutbox | None,
    ) -> None:
        self._store = store
        self._reach = ReachStore(store)
        self._incidents = incidents
        self._clock = clock
        self._base = (public_url or "").rstrip("/")
        self._mailer = mailer

    @property
    def config(self) -> ChecksConfig:
        return self._incidents.config  # follows SIGHUP reloads

    def _recording_url(self, caller: Caller) -> str:
        digits = caller.phone.removeprefix("+")
        query = f"?caller={digits}" if _DIGITS.fullmatch(digits) else ""
        return f"{self._base}{RECORDING}{query}"

    # -- the call ----------------------------------------------------------------------------

    async def inbound(self, params: Mapping[str, str]) -> str:
        """The TwiML for a call that just came in."""
        now = self._clock.now()
        config = self.config
        caller = callers.identify(config, params.get("From", ""))
        desk = config.oncall.desk_phone if config.oncall else None
        if desk and callers.desk_in(config, self._incidents.sla, caller, now):
            return phone_twiml.put_through(desk, f"{self._base}{DIALLED}")
        said: list[str] = []
        if caller.customer is not None:
            open_now = await self._store.incidents(customer=caller.customer.id, unresolved=True)
            zone = callers.timezone_of(config, caller.customer, now)
            said = callers.open_incidents_said(caller.customer, open_now, now, zone)
        script = callers.out_of_hours_script(caller, said)
        return phone_twiml.answerphone(script, self._recording_url(caller))

    async def dialled(self, params: Mapping[str, str]) -> str:
        """After the desk was rung: done if they answered, else the answerphone."""
        if params.get("DialCallStatus", "") == "completed":
            return phone_twiml.hang_up()
        caller = callers.identify(self.config, params.get("From", ""))
        return phone_twiml.answerphone(callers.NO_ANSWER_SCRIPT, self._recording_url(caller))

    # -- the message -------------------------------------------------------------------------

    async def recorded(self, params: Mapping[str, str], query_caller: str = "") -> str:
        """Twilio's recording callback (the `<Record>` action or its status callback)."""
        sid = params.get("RecordingSid", "").strip()
        url = params.get("RecordingUrl", "").strip()
        status = params.get("RecordingStatus", "completed")
        duration_text = params.get("RecordingDuration", "").strip()
        duration = ascii_int(duration_text, digits=9)
        if not _RECORDING_SID.fullmatch(sid) or not _is_web_url(url) or status != "completed":
            return phone_twiml.say_and_hang_up(callers.NOTHING_HEARD)
        if duration == 0:
            return phone_twiml.say_and_hang_up(callers.NOTHING_HEARD)
        phone = params.get("From", "").strip()
        if not phone.startswith("+") and _DIGITS.fullmatch(query_caller):
            phone = f"+{query_caller}"
        await self.take_message(sid, url, duration, phone, params.get("CallSid", ""))
        return phone_twiml.say_and_hang_up(callers.THANKS)

    async def take_message(
        self, sid: str, url: str, duration: int | None, phone: str, call_sid: str
    ) -> None:
        """Open the incident and mail the desk, once per recording."""
        now = self._clock.now()
        caller = callers.identify(self.config, phone)
        fields = {
            "recording_sid": sid,
            "call_sid": call_sid[:64],
            "caller": phone[:32],
            "customer": caller.customer.id if caller.customer else None,
            "contact": caller.contact.name[:200] if caller.contact else None,
            "recording_url": url,
            "duration_seconds": duration,
            "received_at": now,
        }
        row = await self._reach.claim_message(fields)
        if row is None:
            existing = await self._reach.message(sid)
            if existing is None or existing.handled_at is not None:
                return  # handled already: Twilio's second post, or a retry
            if now - existing.received_at < RETAKE_AFTER or not await self._reach.retake_message(
                existing, now
            ):
                return  # being handled by another request right now
            row = existing
        await self._handle(row, caller, now)

    async def _handle(self, row: PhoneMessageRow, caller: Caller, now: datetime) -> None:
        incident_id = row.incident_id
        if caller.customer is not None and incident_id is None:
            incident_id = await self._open(row, caller, now)
            await self._reach.message_update(row.id, incident_id=incident_id)
        await self._mail_desk(row, caller, incident_id)
        await self._reach.message_update(row.id, handled_at=now)

    async def _open(self, row: PhoneMessageRow, caller: Caller, now: datetime) -> int:
        assert caller.customer is not None
        who = caller.contact.name if caller.contact else caller.phone
        incident = await self._incidents.open_from_channel(
            caller.customer.id,
            "phone",
            f"{who} on {caller.phone}",
            now,
            by="phone line",
            data={"caller": caller.phone, "recording_sid": row.recording_sid},
        )
        seconds = f" ({row.duration_seconds} s)" if row.duration_seconds else ""
        await self._incidents.record_event(
            incident.id,
            NewEvent(
                "phone_message",
                now,
                f"message left by {who} on {caller.phone}{seconds}: {listen_url(row)}",
                "phone line",
                {
                    "caller": caller.phone,
                    "recording_url": listen_url(row),
                    "recording_sid": row.recording_sid,
                    "duration_seconds": row.duration_seconds,
                },
            ),
        )
        log.info("phone message %s opened incident %s", row.recording_sid, incident.id)
        return incident.id

    async def _mail_desk(self, row: PhoneMessageRow, caller: Caller, incident: int | None) -> None:
        config = self.config
        to = config.oncall.desk_email if config.oncall else None
        if not to or self._mailer is None:
            note = "no oncall desk email" if not to else "mail is not configured"
            log.warning("phone message %s: the desk is not mailed (%s)", row.recording_sid, note)
            if incident is not None:
                await self._incidents.record_event(
                    incident, NewEvent("mail", self._clock.now(), f"desk not mailed: {note}")
                )
            return
        subject, text = desk_message(row, caller, incident)
        await self._mailer.enqueue(
            to=to, subject=subject, text=text, dedupe_key=f"phone:{row.recording_sid}:desk"
        )


def listen_url(row: PhoneMessageRow) -> str:
    """The recording as an MP3 (Twilio serves it to the account's credentials)."""
    return row.recording_url if row.recording_url.endswith(".mp3") else f"{row.recording_url}.mp3"


def desk_message(row: PhoneMessageRow, caller: Caller, incident: int | None) -> tuple[str, str]:
    """The desk email's subject and text."""
    if caller.customer is not None:
        who = caller.contact.name if caller.contact else caller.phone
        subject = f"Phone message from {who} ({caller.customer.name}), incident {incident}"
        lines = [
            f"{who} of {caller.customer.name} left a message on the phone line.",
            f"Incident {incident} is open for it.",
        ]
    else:
        subject = f"Phone message from {caller.phone or 'a withheld number'}"
        lines = [
            "Someone who is not a contact of any customer left a message on the phone line.",
            "No incident was opened.",
        ]
    lines += [
        "",
        f"Caller: {caller.phone or 'withheld'}",
        f"Length: {row.duration_seconds} s" if row.duration_seconds else "Length: unknown",
        f"Listen: {listen_url(row)}",
        "",
        "The recording link needs the Twilio account's credentials (or the Console).",
    ]
    return subject, "\n".join(lines) + "\n"


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname) and " " not in url
