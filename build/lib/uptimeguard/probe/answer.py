"""One HTTP answer: reading it (headers, then the body to its end), and judging it against the
site's expectations (status, redirects, content, speed)."""

from __future__ import annotations

import functools
import ssl
from datetime import UTC, datetime
from time import perf_counter
from typing import Any

from aiohttp import ClientResponse

from uptimeguard.config.models import Expect
from uptimeguard.probe.body import MATCH_BYTES, body_problem
from uptimeguard.probe.classify import describe_status
from uptimeguard.probe.tracing import BODY, ProbeState

# Redirects that must say where to: without a Location a browser shows an empty page.
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Answer:
    """What the final response said (before classification)."""

    __slots__ = (
        "body_bytes",
        "capped",
        "declared",
        "final_url",
        "first_byte",
        "location",
        "problem",
        "reason",
        "redirects",
        "status",
    )

    def __init__(self, resp: ClientResponse, first_byte: float | None, url: str) -> None:
        self.status = resp.status
        self.reason = resp.reason
        self.first_byte = first_byte
        self.redirects = len(resp.history)
        self.final_url = str(resp.url) if self.redirects else url
        self.location = resp.headers.get("Location")
        self.declared = resp.content_length  # None when chunked or read to the close
        self.body_bytes = 0
        self.capped = False  # stopped reading at the size limit
        self.problem: str | None = None  # what the body lacks, once read

    def progress(self) -> str:
        """How much of the body came, for a failure while reading it."""
        if self.declared is not None:
            return f" (got {self.body_bytes} of {self.declared} bytes)"
        return f" (got {self.body_bytes} bytes)"


async def read_answer(
    resp: ClientResponse, st: ProbeState, url: str, expect: Expect, max_body: int
) -> None:
    """Fill `st.answer` from `resp`, reading the body to its end (at most `max_body` bytes).

    The first `MATCH_BYTES` are kept for the body expectations. A body that stops short or
    stalls raises (the caller classifies it), with `st.answer` holding what came.
    """
    st.answer = answer = Answer(resp, perf_counter() - st.t0, url)
    if not expect.status_ok(resp.status) or _bad_redirect(answer):
        return  # the status decides; the body does not matter
    st.phase = BODY
    kept = bytearray() if expect.reads_body else None
    content = resp.content
    while answer.body_bytes < max_body:
        chunk = await content.read(min(max_body - answer.body_bytes, 1 << 18))
        if not chunk:
            break
        answer.body_bytes += len(chunk)
        if kept is not None and len(kept) < MATCH_BYTES:
            kept += chunk[: MATCH_BYTES - len(kept)]
    else:
        answer.capped = not content.at_eof()
    if kept is not None:
        answer.problem = body_problem(bytes(kept), resp.charset, expect)


def judge(answer: Answer | None, expect: Expect, total: float) -> tuple[str, str | None]:
    """The outcome of a probe that got an answer: status, then content, then speed."""
    assert answer is not None  # no failure means the fetch got a response
    if not expect.status_ok(answer.status):
        return describe_status(answer.status, answer.reason, expect)
    if _bad_redirect(answer):
        return "content", f"HTTP {answer.status} redirect without a Location header"
    if answer.problem is not None:
        return "content", answer.problem
    limit = expect.max_response.total_seconds() if expect.max_response is not None else None
    if limit is not None and total > limit:
        return "slow", f"took {total:.3f}s, over max_response {limit:g}s"
    return "up", None


def _bad_redirect(answer: Answer) -> bool:
    return answer.status in REDIRECTS and not (answer.location or "").strip()


def ssl_object_of(resp: ClientResponse) -> ssl.SSLObject | None:
    connection = resp.connection
    transport = connection.transport if connection is not None else None
    return transport.get_extra_info("ssl_object") if transport is not None else None


def not_after(
    ssl_object: ssl.SSLObject | None, peercert: dict[str, Any] | None = None
) -> datetime | None:
    """The peer certificate's notAfter, aware UTC; None without a verified certificate.

    `peercert` is the certificate asyncio already decoded when the handshake completed (the
    transport's `peercert`); decoding it again costs as much as a tenth of a TLS probe.
    """
    if ssl_object is None:
        return None
    cert = peercert
    if cert is None:
        try:
            cert = ssl_object.getpeercert()
        except (ValueError, ssl.SSLError):  # handshake not complete, or connection gone
            return None
    value = cert.get("notAfter") if cert else None
    if not isinstance(value, str):
        return None
    return _parse_cert_time(value)


@functools.lru_cache(maxsize=4096)
def _parse_cert_time(value: str) -> datetime:
    """A certificate's time text as aware UTC (sites share few distinct expiry times)."""
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(value), UTC)
