"""Per-probe timing (DNS, TCP, TLS), from one shared TraceConfig and two connector hooks.

One `TraceConfig` is installed on the prober's session; its handlers receive the probe's
`ProbeState` as `trace_request_ctx` (the context factory hands it through unwrapped, so no
namespace object is built per request). aiohttp's signals mark when a connection starts
(`on_connection_create_start`, before the DNS lookup) and when it is ready
(`on_connection_create_end`, after TCP and TLS), and when a probe waits for a free slot
(`on_connection_queued_start/end`).

aiohttp 3.14 has no signal between DNS, TCP and TLS, so two hooks on the connector fill in:

- the connector's public `socket_factory` runs just before the TCP connect, after the
  address is known: the end of DNS;
- the connector's protocol factory (private attribute `_factory`) runs when asyncio wraps the
  connected socket, before any TLS handshake: the end of TCP.

Both hooks run in the probe's task (or a copy of its context) and find its state through a
context variable. If a future aiohttp drops `_factory`, `connect` includes TLS and `tls` stays
None (see `TimedConnector.splits_tls`).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from contextvars import ContextVar
from time import perf_counter
from typing import TYPE_CHECKING, Any

from aiohttp import ClientSession, TCPConnector, TraceConfig
from aiohttp.abc import AbstractResolver

from uptimeguard.probe.lenient import LenientResponseHandler

if TYPE_CHECKING:
    from aiohappyeyeballs import AddrInfoType

# Phases, as named in timeout messages.
QUEUED = "waiting for a free connection slot"
DNS = "resolving the host name"
CONNECT = "connecting"
TLS = "in the TLS handshake"
WAIT = "waiting for first byte"
BODY = "reading the body"

CURRENT: ContextVar[ProbeState | None] = ContextVar("uptimeguard_probe_state", default=None)


class ProbeState:
    """Mutable state of one probe in flight; times are `perf_counter()` seconds."""

    __slots__ = (
        "answer",
        "connect",
        "deadline",
        "dns",
        "hop_start",
        "peercert",
        "phase",
        "proto",
        "queued_at",
        "ssl_object",
        "t0",
        "tcp_done",
        "tcp_start",
        "tls",
    )

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.deadline: asyncio.Timeout | None = None
        self.phase = DNS
        self.hop_start = t0
        self.queued_at = t0
        self.tcp_start: float | None = None
        self.tcp_done: float | None = None
        self.dns: float | None = None
        self.connect: float | None = None
        self.tls: float | None = None
        self.proto: Any = None
        # The ssl.SSLObject of the latest connection, None if it was plain TCP, and the peer
        # certificate asyncio decoded at the end of its handshake (reused, not decoded again).
        self.ssl_object: ssl.SSLObject | None = None
        self.peercert: dict[str, Any] | None = None
        # The prober's record of the final response, once its headers arrived.
        self.answer: Any = None

    def tcp_starting(self) -> None:
        if self.tcp_start is not None:  # a second address tried by happy eyeballs
            return
        now = perf_counter()
        self.tcp_start = now
        self.dns = (self.dns or 0.0) + (now - self.hop_start)
        self.phase = CONNECT

    def tcp_connected(self, proto: Any) -> None:
        now = perf_counter()
        start = self.tcp_start if self.tcp_start is not None else self.hop_start
        self.connect = (self.connect or 0.0) + (now - start)
        self.tcp_done = now
        self.proto = proto
        self.phase = TLS


def _state_factory(trace_request_ctx: Any = None) -> Any:
    return trace_request_ctx


async def _on_queued_start(_s: ClientSession, st: ProbeState, _p: Any) -> None:
    st.queued_at = perf_counter()
    st.phase = QUEUED


async def _on_queued_end(_s: ClientSession, st: ProbeState, _p: Any) -> None:
    # Our own queue is not the site's time: move the start and the deadline past the wait.
    waited = perf_counter() - st.queued_at
    st.t0 += waited
    deadline = st.deadline
    if deadline is not None and (when := deadline.when()) is not None:
        deadline.reschedule(when + waited)
    st.phase = DNS


async def _on_create_start(_s: ClientSession, st: ProbeState, _p: Any) -> None:
    st.hop_start = perf_counter()
    st.tcp_start = st.tcp_done = None
    st.proto = st.ssl_object = st.peercert = None
    st.phase = DNS


async def _on_create_end(_s: ClientSession, st: ProbeState, _p: Any) -> None:
    now = perf_counter()
    proto, st.proto = st.proto, None
    transport = getattr(proto, "transport", None)
    st.ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if st.ssl_object is not None and transport is not None:
        st.peercert = transport.get_extra_info("peercert")
    if st.tcp_done is not None:
        if st.ssl_object is not None:
            st.tls = (st.tls or 0.0) + (now - st.tcp_done)
        else:
            st.connect = (st.connect or 0.0) + (now - st.tcp_done)
    else:
        start = st.tcp_start if st.tcp_start is not None else st.hop_start
        st.connect = (st.connect or 0.0) + (now - start)
    st.phase = WAIT


def make_trace_config() -> TraceConfig:
    """The one TraceConfig of a prober's session (expects a `ProbeState` per request)."""
    config = TraceConfig(trace_config_ctx_factory=_state_factory)  # type: ignore[arg-type]
    config.on_connection_queued_start.append(_on_queued_start)  # type: ignore[arg-type]
    config.on_connection_queued_end.append(_on_queued_end)  # type: ignore[arg-type]
    config.on_connection_create_start.append(_on_create_start)  # type: ignore[arg-type]
    config.on_connection_create_end.append(_on_create_end)  # type: ignore[arg-type]
    config.freeze()
    return config


def _socket_factory(addr_info: AddrInfoType) -> socket.socket:
    st = CURRENT.get()
    if st is not None:
        st.tcp_starting()
    family, type_, proto, _, _ = addr_info
    return socket.socket(family=family, type=type_, proto=proto)


class TimedConnector(TCPConnector):
    """A `TCPConnector` that tells the current probe when TCP starts and when it connects."""

    def __init__(
        self,
        *,
        limit: int,
        limit_per_host: int,
        ssl_context: ssl.SSLContext | None,
        resolver: AbstractResolver | None,
        ttl_dns_cache: int | None,
        local_addr: tuple[str, int] | None = None,
    ) -> None:
        super().__init__(
            limit=limit,
            limit_per_host=limit_per_host,
            ssl=ssl_context if ssl_context is not None else True,
            resolver=resolver,
            use_dns_cache=ttl_dns_cache is not None,
            ttl_dns_cache=ttl_dns_cache,
            force_close=True,
            socket_factory=_socket_factory,
            local_addr=local_addr,
        )
        original = getattr(self, "_factory", None)
        self.plain_factory = original
        #: False when this aiohttp hides the end of TCP: then `connect` includes TLS, and
        #: the allowances of `LenientResponseHandler` are not made.
        self.splits_tls = callable(original)
        if original is not None and self.splits_tls:
            loop = self._loop

            def factory() -> Any:
                proto = LenientResponseHandler(loop)
                st = CURRENT.get()
                if st is not None:
                    st.tcp_connected(proto)
                return proto

            self._factory = factory  # type: ignore[assignment]


__all__ = ["CURRENT", "ProbeState", "TimedConnector", "make_trace_config"]
