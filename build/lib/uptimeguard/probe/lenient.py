"""Reading odd but working HTTP answers the way browsers do.

aiohttp's response parser (llhttp) refuses two kinds of answer that browsers and Prometheus's
blackbox_exporter accept, and a monitor must not call a site down for either:

- `Transfer-Encoding: chunked` together with `Content-Length`. RFC 9112 section 6.3 says the
  transfer coding wins; a user agent may read the chunks and ignore the length. We drop the
  `Content-Length` lines from such a head before the parser sees it.
- Bytes after the end of a response: a `HEAD` reply, a 204 or a 304 that carries a body
  anyway, or more bytes than the `Content-Length` said. Every probe has its own connection
  (`force_close`), so nothing after the end of the answer can belong to another: it is
  dropped, as browsers do.

`LenientResponseHandler` does both by holding each response head until its blank line, at most
`MAX_HEAD` bytes; a head that grows past that without ending is refused ("headers over ...").
Everything after the head passes through untouched, so the parser still checks the body.
"""

from __future__ import annotations

import re

from aiohttp.client_proto import ResponseHandler
from aiohttp.http_exceptions import HttpProcessingError

# All header lines of one response together: Chrome refuses a head over 256 KiB
# (ERR_RESPONSE_HEADERS_TOO_BIG), so a bigger one is broken for visitors too.
MAX_HEAD = 256 << 10
# Per parser limits, passed to the session: the head bound above is the one that matters.
MAX_HEADER_LINES = 4096
MAX_HEADER_LINE = MAX_HEAD

_STATUS = re.compile(rb"HTTP/[0-9.]+ +([0-9]{3})")
_NO_BODY = frozenset({204, 304})


class LenientResponseHandler(ResponseHandler):
    """aiohttp's connection protocol with the two allowances above."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._head = bytearray()
        # "head": holding a response head; "body": passing bytes on; "drop": answer complete.
        self._stage = "head"
        self._remaining: int | None = None  # body bytes the Content-Length still promises

    def data_received(self, data: bytes) -> None:
        if self._stage == "body" or self._parser is None or self._upgraded:
            self._pass_body(data)
            return
        if self._stage == "drop" or not data:
            return
        searched = max(len(self._head) - 2, 0)  # the blank line may straddle two reads
        self._head += data
        while True:
            end = head_end(self._head, searched)
            if end is None:
                if len(self._head) > MAX_HEAD:
                    self._refuse(f"response headers over {MAX_HEAD >> 10} KiB")
                return
            head, rest = bytes(self._head[:end]), bytes(self._head[end:])
            status = _status_of(head)
            head = drop_length_if_chunked(head)
            if status is not None and 100 <= status < 200 and status != 101:
                self._head = bytearray(rest)  # an interim answer (100, 103): another head follows
                searched = 0
                super().data_received(head)
                continue
            self._head = bytearray()
            if self._skip_payload or status in _NO_BODY:
                self._stage = "drop"
                super().data_received(head)
            else:
                self._stage = "body"
                self._remaining = declared_length(head)
                super().data_received(head)
                self._pass_body(rest)
            return

    def _pass_body(self, data: bytes) -> None:
        remaining = self._remaining
        if remaining is None or self._stage != "body":
            super().data_received(data)
            return
        if len(data) >= remaining:
            data = data[:remaining]
            self._stage = "drop"
        self._remaining = remaining - len(data)
        if data or self._stage == "drop":
            super().data_received(data)

    def _refuse(self, message: str) -> None:
        self._stage = "drop"
        self._head = bytearray()
        if self.transport is not None:
            self.transport.close()
        self.set_exception(HttpProcessingError(message=message))


def head_end(buffer: bytearray, start: int) -> int | None:
    """Where the head's blank line ends (`\n\r\n` or `\n\n`), searching from `start`."""
    found = [
        at + len(mark) for mark in (b"\n\r\n", b"\n\n") if (at := buffer.find(mark, start)) >= 0
    ]
    return min(found) if found else None


def _status_of(head: bytes) -> int | None:
    match = _STATUS.match(head.lstrip())
    return int(match.group(1)) if match else None


def declared_length(head: bytes) -> int | None:
    """The one `Content-Length` of a head that is not chunked; None otherwise."""
    values = set()
    for line in head.split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            values.add(value.strip())
    if len(values) != 1:
        return None
    (value,) = values
    return int(value) if value.isdigit() else None


def drop_length_if_chunked(head: bytes) -> bytes:
    """The head without its `Content-Length` lines when it is also sent chunked."""
    lines = head.split(b"\n")
    names = [line.split(b":", 1)[0].strip().lower() for line in lines[1:]]
    if b"content-length" not in names or b"transfer-encoding" not in names:
        return head
    chunked = any(
        name == b"transfer-encoding" and line.split(b":", 1)[1].strip().lower().endswith(b"chunked")
        for name, line in zip(names, lines[1:], strict=True)
    )
    if not chunked:
        return head
    kept = [lines[0]] + [
        line for name, line in zip(names, lines[1:], strict=True) if name != b"content-length"
    ]
    return b"\n".join(kept)
