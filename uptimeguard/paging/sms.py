"""SMS that fit, and never say what a monitored site chose.

An SMS is billed and delivered in segments: 160 characters of the GSM 03.38 alphabet (153 each
when the message is split, characters of its extension table counting twice), or 70 UTF-16
code units once any other character appears (67 each when split). Twilio refuses a message
over 1,600 characters (error 21617), so a page that does not fit never arrives. `fit` cuts a
message to at most a number of segments, keeping its ending (how to acknowledge).

`status_line` is what a page may say of a probe's error text: our own words ("connection
refused", "HTTP 503 Service Unavailable"), never a reason phrase of the site's own, a URL it
redirected to, or a number it wants called; short, printable, one line.
"""

from __future__ import annotations

import re
import unicodedata
from http import HTTPStatus

# GSM 03.38: the basic table (one septet each) and the extension table (escape + one).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
TWILIO_MAX_CHARS = 1600
DEFAULT_MAX_SEGMENTS = 4
ELLIPSIS = "..."
STATUS_LINE_CHARS = 60
SUMMARY_CHARS = 160

_HTTP_STATUS = re.compile(r"^HTTP ([0-9]{3})(?: (.*?))??( \(expected [0-9,\-]+\))?$")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S*")
_PHONE_LIKE = re.compile(r"\+?[0-9][0-9 ()\-.]{5,}[0-9]")


def is_gsm(text: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


def units(text: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes."""
    if is_gsm(text):
        return sum(2 if c in GSM_EXTENDED else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """How many SMS segments the text is sent as."""
    single, multi = (160, 153) if is_gsm(text) else (70, 67)
    size = units(text)
    if size <= single:
        return 1
    return -(-size // multi)


def fits(text: str, max_segments: int) -> bool:
    return segments(text) <= max_segments and len(text) <= TWILIO_MAX_CHARS


def fit(text: str, max_segments: int = DEFAULT_MAX_SEGMENTS, keep: str = "") -> str:
    """`text` cut to at most `max_segments` segments; `keep`, when the text ends with it (the
    acknowledgement hint), survives the cut."""
    if fits(text, max_segments):
        return text
    tail = keep if keep and text.endswith(keep) else ""
    head = text[: len(text) - len(tail)] if tail else text
    joint = ELLIPSIS + (" " if tail else "")
    low, high = 0, len(head)  # the longest prefix of `head` that fits with the joint and tail
    while low < high:
        middle = (low + high + 1) // 2
        if fits(head[:middle].rstrip() + joint + tail, max_segments):
            low = middle
        else:
            high = middle - 1
    return head[:low].rstrip() + joint + tail


def printable(text: str, limit: int) -> str:
    """One line of printable characters, at most `limit` long (cut with an ellipsis)."""
    kept = "".join(c if unicodedata.category(c)[0] not in "CZ" or c == " " else " " for c in text)
    line = " ".join(kept.split())
    if len(line) <= limit:
        return line
    return line[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def status_line(error: str) -> str:
    """A probe's error text as a page may carry it: our words only, short and printable."""
    line = printable(error, len(error))
    match = _HTTP_STATUS.match(line)
    if match:  # "HTTP 503 <the site's reason phrase> (expected 200-399)"
        code, reason, expected = match.group(1), match.group(2), match.group(3) or ""
        return f"HTTP {code}{_standard(int(code), reason)}{expected}"
    line = _URL.sub("<url>", line)
    line = _PHONE_LIKE.sub("<number>", line)
    return printable(line, STATUS_LINE_CHARS)


def _standard(code: int, reason: str | None) -> str:
    """ " Service Unavailable" when the site sent the standard phrase for its code; else ""."""
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        return ""
    return f" {phrase}" if reason is not None and reason.lower() == phrase.lower() else ""


def summary_line(summary: str) -> str:
    """A summary a person (or a customer's message) wrote, as a page carries it."""
    return printable(summary, SUMMARY_CHARS)
