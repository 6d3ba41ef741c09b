"""Twilio: SMS and calls (client), TwiML, webhooks with signature checks, readable errors."""

from uptimeguard.paging.twilio.client import Sender, TwilioSender
from uptimeguard.paging.twilio.errors import TransportError

__all__ = ["Sender", "TransportError", "TwilioSender"]
