"""TwiML for calls and SMS replies, built with the twilio library's own builders."""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from uptimeguard.paging.messages import VOICE_PROMPT

GATHER_SECONDS = 8
MAX_PLAYS = 3  # without a key the message is read this many times, then the call ends


def page_call(script: str, gather_url: str, replay_url: str | None) -> str:
    """Read the incident and wait for one key; with no key, go to `replay_url` (the next
    reading) or, on the last one, say goodbye."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=gather_url, method="POST", timeout=GATHER_SECONDS)
    gather.say(script)
    gather.say(VOICE_PROMPT)
    if replay_url is not None:
        response.redirect(replay_url, method="POST")
    else:
        response.say("No key was pressed. The incident is not acknowledged. Goodbye.")
        response.hangup()
    return str(response)


def spoken_only(script: str) -> str:
    """A call that can only read the incident: without PUBLIC_URL Twilio cannot post a key."""
    response = VoiceResponse()
    response.say(script)
    response.say("Reply to the text message to acknowledge. Goodbye.")
    return str(response)


def say_and_hang_up(text: str) -> str:
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def sms_reply(text: str | None) -> str:
    """The reply to an inbound SMS; no text means no reply."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
