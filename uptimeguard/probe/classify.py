"""Naming what went wrong: an answer or an exception -> (outcome, short error text).

Outcome rules decided here (the README lists the outcomes):

- Too many redirects (more than 10, or a loop) is `content`: the site answered, but never
  with a page. A redirect to an invalid or non-HTTP URL is `content` too.
- A status outside `expect.status` is `http_5xx` or `http_4xx` by its class, and `content`
  otherwise (a 3xx with no usable Location, a 200 where 500 was expected).
- `refused` is any failure to open a TCP connection (refused, unreachable host or network);
  `reset` is a connection that broke or was unusable after it opened: reset, closed before
  the answer or the body was complete, or an answer that is not valid HTTP.
- A connection reset or closed during the TLS handshake is `tls`: that is how a server that
  speaks only old TLS versions (1.0, 1.1) refuses a client that offers 1.2 or later.
- A body that stops short (the connection closed before the declared length or the last
  chunk) is `reset`, one that stalls is `timeout`; both errors say how much came.
- Running out of local resources is not the site's fault: `LocalProbeError` is raised.
"""

from __future__ import annotations

import asyncio
import errno
import ssl

import aiohttp
from aiohttp.http_exceptions import ContentEncodingError

from uptimeguard.config.models import Expect
from uptimeguard.probe.result import LocalProbeError
from uptimeguard.probe.tracing import BODY, QUEUED, TLS

# Errors that say this machine is out of something; the site may be fine.
LOCAL_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
LOCAL_ERRNOS |= {errno.EADDRNOTAVAIL}  # out of ephemeral ports
RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})
MAX_ERROR = 200
SHORT_BODY = "body stopped short: the connection closed before the body was complete"


def describe_status(code: int, reason: str | None, expect: Expect) -> tuple[str, str]:
    """The outcome and error for a status outside `expect.status`."""
    if 500 <= code <= 599:
        outcome = "http_5xx"
    elif 400 <= code <= 499:
        outcome = "http_4xx"
    else:
        outcome = "content"
    text = f"HTTP {code} {reason}" if reason else f"HTTP {code}"
    return outcome, f"{text} (expected {format_status(expect)})"


def format_status(expect: Expect) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in expect.status)


def describe_exception(
    exc: BaseException, phase: str, timeout: float, max_redirects: int
) -> tuple[str, str]:
    """The outcome and error text for an exception a probe raised.

    Raises `LocalProbeError` for local trouble, and `ValueError` for a URL that cannot be
    probed at all (a caller's mistake, not the site's).
    """
    if isinstance(exc, aiohttp.TooManyRedirects):
        urls = [str(r.url) for r in exc.history]
        kind = "redirect loop" if len(set(urls)) < len(urls) else "too many redirects"
        return "content", f"{kind}: more than {max_redirects} redirects"
    if isinstance(exc, aiohttp.RedirectClientError):
        if isinstance(exc, aiohttp.NonHttpUrlClientError):
            return "content", short(f"redirect to a non-HTTP URL: {exc}")
        return "content", short(f"redirect to an invalid URL: {exc}")
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        raise ValueError(f"cannot probe {exc}: not an http:// or https:// URL") from exc
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns", short(f"DNS: {exc.host}: {_strerror(exc.os_error)}")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "tls", short(_tls_text(exc.certificate_error))
    if isinstance(exc, aiohttp.ClientConnectorSSLError | ssl.SSLError):
        cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
        return "tls", short(_tls_text(cause))
    if isinstance(exc, aiohttp.ClientConnectorError):
        if phase == TLS and exc.os_error.errno not in LOCAL_ERRNOS:
            return "tls", short(f"TLS: handshake failed: {_handshake_text(exc.os_error)}")
        return connect_failure(exc.os_error, phase, timeout)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        if phase == QUEUED:
            raise LocalProbeError(f"no free connection slot within {timeout:g}s") from exc
        return "timeout", f"timed out after {timeout:g}s {phase}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        if phase == BODY:
            return "reset", SHORT_BODY
        return "reset", "server closed the connection without answering"
    if isinstance(exc, aiohttp.ClientPayloadError):
        if isinstance(exc.__cause__, ContentEncodingError):
            return "content", "body could not be decoded (bad Content-Encoding)"
        return "reset", SHORT_BODY
    if isinstance(exc, aiohttp.ClientResponseError):
        return "reset", short(f"invalid HTTP response: {exc.message}")
    if isinstance(exc, OSError):
        if exc.errno in LOCAL_ERRNOS:
            raise LocalProbeError(f"local error: {_strerror(exc)}") from exc
        if isinstance(exc, ConnectionResetError) or exc.errno == errno.ECONNRESET:
            return "reset", "connection reset by peer"
        return "reset", short(f"connection error: {_strerror(exc)}")
    if isinstance(exc, aiohttp.ClientError):
        return "reset", short(f"{type(exc).__name__}: {exc}")
    raise exc


def connect_failure(os_error: OSError, phase: str, timeout: float) -> tuple[str, str]:
    """The outcome and error for an OS error while connecting (or on a connection)."""
    if os_error.errno in LOCAL_ERRNOS:
        raise LocalProbeError(f"local error: {_strerror(os_error)}") from os_error
    if isinstance(os_error, ConnectionRefusedError) or os_error.errno == errno.ECONNREFUSED:
        return "refused", "connection refused"
    if os_error.errno in RESET_ERRNOS or isinstance(os_error, ConnectionError):
        return "reset", "connection reset by peer"
    if isinstance(os_error, TimeoutError) or os_error.errno == errno.ETIMEDOUT:
        return "timeout", f"timed out after {timeout:g}s {phase}"
    return "refused", short(f"could not connect: {_strerror(os_error)}")


def _handshake_text(error: OSError) -> str:
    if isinstance(error, ConnectionResetError) or error.errno == errno.ECONNRESET:
        said = "connection reset by peer"
    elif isinstance(error, ssl.SSLError):
        return _tls_text(error).removeprefix("TLS: ")
    else:
        said = f"connection closed ({_strerror(error)})"
    return f"{said} (does the server offer TLS 1.2 or later?)"


def _tls_text(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS: certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError) and error.reason:
        return f"TLS: {error.reason.replace('_', ' ').lower()}"
    return f"TLS: {_strerror(error)}"


def _strerror(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def short(text: str) -> str:
    """One line of at most MAX_ERROR characters (parser errors span several lines)."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 3] + "..."
