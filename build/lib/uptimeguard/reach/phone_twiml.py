"""TwiML for the phone line, built with the twilio library's own builders.

In hours the call is put through to the desk (`<Dial>`, 30 s); the `<Dial>`'s action then
offers the answerphone if nobody answered. Out of hours (or with no desk phone) the caller
hears the script and may leave a message: `<Record>` of at most 2 minutes, whose action and
recording status callback both post to the recording route (the first to arrive opens the
incident, the other finds it done).
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from uptimeguard.paging.twilio.twiml import say_and_hang_up
from uptimeguard.reach.callers import NOTHING_HEARD

__all__ = ["answerphone", "hang_up", "put_through", "say_and_hang_up"]

DIAL_SECONDS = 30
MAX_MESSAGE_SECONDS = 120
SILENCE_SECONDS = 5


def put_through(desk_phone: str, dialled_url: str) -> str:
    response = VoiceResponse()
    response.say("Thank you for calling. Putting you through to the support desk.")
    dial = response.dial(
        action=dialled_url, method="POST", timeout=DIAL_SECONDS, answer_on_bridge=True
    )
    dial.number(desk_phone)
    return str(response)


def answerphone(script: str, recording_url: str) -> str:
    response = VoiceResponse()
    response.say(script)
    response.record(
        action=recording_url,
        method="POST",
        max_length=MAX_MESSAGE_SECONDS,
        timeout=SILENCE_SECONDS,
        finish_on_key="#",
        play_beep=True,
        recording_status_callback=recording_url,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )
    # Reached only when nothing was recorded (Twilio then skips the action).
    response.say(NOTHING_HEARD)
    response.hangup()
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)
