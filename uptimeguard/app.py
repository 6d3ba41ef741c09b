"""Builds every component of the daemon and joins them to one AsyncExitStack.

Start and stop are symmetric: each resource is entered on the stack as it is built, and the
stack unwinds in reverse on SIGTERM/SIGINT, finishing in-flight probes and flushing queued
results before the database goes away. SIGHUP reloads the checks file; an invalid file is
refused with its errors logged, and the old configuration is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from uptimeguard.clock import Clock, SystemClock
from uptimeguard.cluster.node import ClusterNode, Identity, NodeStartError
from uptimeguard.cluster.runtime import Cluster
from uptimeguard.config import ConfigError
from uptimeguard.config.models import ChecksConfig
from uptimeguard.fdlimits import open_descriptors, raise_open_files_limit, share_out
from uptimeguard.housekeeping import Housekeeping
from uptimeguard.incidents.service import IncidentService
from uptimeguard.mail import MailService, mail_service
from uptimeguard.metrics import Metrics
from uptimeguard.monitor.service import Monitor, PreparedSites, prepare_sites
from uptimeguard.notify import notify_service
from uptimeguard.paging import PagingService, paging_service
from uptimeguard.probe import Prober
from uptimeguard.reloading import CheckFileReader, Reloads
from uptimeguard.settings import Settings
from uptimeguard.shrink import reload_refusal
from uptimeguard.status.live_rollups import LiveRollups
from uptimeguard.storage.database import make_engine, ping, upgrade_schema
from uptimeguard.storage.file_watch import DatabaseFile
from uptimeguard.storage.repository import Store
from uptimeguard.storage.urls import describe_database, sqlite_path
from uptimeguard.storage.writer import ResultWriter
from uptimeguard.web.auth import startup_warnings
from uptimeguard.web.connections import ConnectionGuard, RateLimitedLog, quiet_accept_errors
from uptimeguard.web.context import WebContext
from uptimeguard.web.server import build_app

log = logging.getLogger(__name__)

# The listener's accept queue (the kernel caps it at net.core.somaxconn), and how many
# connections are accepted at once (within fdlimits.RESERVE).
ACCEPT_QUEUE = 1024
ACCEPT_BURST = 32


class StartupError(RuntimeError):
    """The daemon cannot start (a database it cannot reach, an address it cannot bind)."""


@dataclass
class Daemon:
    """The running parts, for tests and the signal handlers."""

    settings: Settings
    config: ChecksConfig
    store: Store
    incidents: IncidentService
    monitor: Monitor
    writer: ResultWriter
    housekeeping: Housekeeping
    metrics: Metrics
    port: int
    paging: PagingService | None = None
    mail: MailService | None = None
    cluster: Cluster | None = None
    reader: CheckFileReader | None = None
    reloads: Reloads | None = None
    # `run --allow-empty`: a reload may leave no site, or remove most of them.
    allow_empty: bool = False

    async def reload(self) -> bool:
        """Reload the checks file; keep the old one when the new one is invalid, too large,
        or has no sites or removes most of them (unless allowed: `uptimeguard.shrink`).

        The file is read and validated off the event loop (see `uptimeguard.reloading`);
        probes, the web server and paging go on meanwhile with the running configuration.
        """
        reader = self.reader or CheckFileReader(
            self.settings.config, self.settings.checks_max_bytes
        )
        try:
            config = await reader.read()
        except ConfigError as error:
            log.error(
                "reload refused, keeping the running configuration: %s",
                "; ".join(str(p) for p in error.problems),
            )
            return False
        refusal, prepared = await reader.call(self._prepare, config)
        if refusal is not None or prepared is None:
            log.error("reload refused, keeping the running configuration: %s", refusal)
            return False
        self.config = config
        self.incidents.use_config(config)
        await self.monitor.switch(prepared)
        if self.cluster is not None:
            self.cluster.reloaded()
        self.housekeeping.sync_config()
        log.info("reloaded %s: %d sites", self.settings.config, len(self.monitor.sites))
        return True

    def _prepare(self, config: ChecksConfig) -> tuple[str | None, PreparedSites | None]:
        """Off the loop: why `config` must not replace the running one, or its sites built."""
        refusal = reload_refusal(self.config, config, self.allow_empty)
        return refusal, None if refusal is not None else prepare_sites(config)

    def request_reload(self) -> None:
        """SIGHUP: reload in the background (one at a time; see `Reloads`)."""
        if self.reloads is None:
            self.reloads = Reloads(self.reload)
        self.reloads.request()


def _check_source_address(address: str) -> None:
    """Refuse to start when probes cannot be sent from `address` (not one of this machine's)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe_socket:
            probe_socket.bind((address, 0))
    except OSError as error:
        raise StartupError(
            f"cannot send probes from {address} (UPTIMEGUARD_PROBE_SOURCE_ADDRESS): "
            f"{error.strerror}"
        ) from None


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@contextlib.asynccontextmanager
async def running_daemon(
    settings: Settings,
    config: ChecksConfig,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    allow_empty: bool = False,
) -> AsyncIterator[Daemon]:
    """Everything started; leaving the block stops everything cleanly."""
    clock = clock or SystemClock()
    metrics = metrics or Metrics(per_site_histogram=settings.per_site_histogram)
    async with contextlib.AsyncExitStack() as stack:
        # Bind first, so a taken address fails the start before anything else runs.
        host, port = settings.listen_address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            listener = socket.create_server((host, port), family=family)
        except OSError as error:
            raise StartupError(f"cannot listen on {settings.listen}: {error.strerror}") from error
        stack.callback(listener.close)
        # Every socket is a file: take all the process may have, and say what it is shared
        # out as (fdlimits.py); too many open files on accept is logged once a minute.
        open_files = raise_open_files_limit()
        notices = RateLimitedLog()
        stack.callback(quiet_accept_errors(asyncio.get_running_loop(), notices))
        engine = make_engine(settings.database_url, settings.sqlite_busy_timeout_seconds)
        stack.push_async_callback(engine.dispose)
        try:
            await upgrade_schema(engine)
        except (OSError, SQLAlchemyError) as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise StartupError(f"database unavailable: {reason}") from error
        store = Store(engine)
        database_file = DatabaseFile(sqlite_path(settings.database_url))
        # Join the cluster (or, on SQLite, take the file) before doing any work: a second
        # daemon under the same name, or on the same SQLite file, stops here.
        identity = Identity(
            settings.node, settings.location, timedelta(seconds=settings.node_timeout_seconds)
        )
        node = ClusterNode(identity, engine)
        try:
            await node.start()
        except NodeStartError as error:
            raise StartupError(str(error)) from None
        except (OSError, SQLAlchemyError) as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise StartupError(f"database unavailable: {reason}") from error
        stack.push_async_callback(node.stop)

        # Each result is folded into its site's daily rollup here, as it arrives: healthy
        # probes need no raw row, and no job reads results back to count them.
        rollups = LiveRollups(settings.location)
        rollups.degraded = lambda: node.degraded
        writer = ResultWriter(
            store,
            batch_size=settings.write_batch_size,
            interval=settings.write_interval_seconds,
            limit=settings.write_buffer_limit,
            rollups=rollups,
            rollup_interval=settings.rollup_interval_seconds,
            rollup_clock=clock.now,
            rollup_grace=timedelta(seconds=settings.rollup_grace_seconds),
            keep_all=settings.keep_all_results,
        )
        stack.push_async_callback(writer.close)
        metrics.watch_writer(lambda: writer.dropped, lambda: writer.pending)
        writer_task = asyncio.create_task(writer.run(), name="result-writer")
        stack.push_async_callback(_cancel, writer_task)

        budget = share_out(
            open_files,
            open_descriptors(),
            settings.http_max_connections,
            settings.max_concurrent_probes,
        )
        if budget.capped:
            log.warning(
                "%s; raise the hard limit (systemd: LimitNOFILE=) for more", budget.describe()
            )
        source = settings.probe_source_address
        if source:
            _check_source_address(source)
        prober = Prober(
            limit=budget.probes,
            local_addr=(source, 0) if source else None,
            **settings.prober_options(),
        )
        await stack.enter_async_context(prober)

        incidents = IncidentService(store, config)
        housekeeping = Housekeeping(
            store,
            incidents,
            metrics,
            clock,
            timedelta(days=settings.retention_days),
            rollup_every=timedelta(seconds=settings.rollup_interval_seconds),
        )
        housekeeping.rollup_grace = timedelta(seconds=settings.rollup_grace_seconds)
        housekeeping.rollups_folded_live = True
        incidents.subscribe(housekeeping.on_incident)
        paging = await stack.enter_async_context(
            paging_service(settings, store, incidents, metrics, clock, node=node.name)
        )

        def webhook_secret(customer_id: str, url: str) -> str | None:
            """The secret of a webhook the running checks file configures, else None."""
            try:
                page = incidents.config.customer(customer_id).status_page
            except KeyError:
                return None
            hooks = page.webhooks if page is not None else ()
            return next((hook.secret for hook in hooks if hook.url == url), None)

        mail = mail_service(settings, store, clock, webhook_secret, metrics)
        notify = notify_service(settings, store, lambda: incidents.config, mail)
        housekeeping.maintenance_notices = notify.maintenance.run

        monitor = Monitor(
            config,
            prober,
            incidents,
            writer,
            store,
            metrics,
            clock,
            concurrency=budget.probes,
            location=settings.location,
            sharded=node.multi,
        )
        await monitor.start()
        cluster = Cluster(node, monitor, housekeeping, paging, incidents, metrics, store)
        await cluster.start()
        stack.push_async_callback(cluster.stop)
        monitor_task = asyncio.create_task(monitor.run(), name="monitor")
        stack.push_async_callback(_cancel, monitor_task)
        # On the way out, just before the monitor stops: from then on this node starts no
        # probes, and the nodes taking its sites over know from when they went unprobed.
        stack.push_async_callback(node.release)
        # On the way out the page being sent finishes (and is recorded) before the stop.
        await stack.enter_async_context(paging.running())

        # As with pages: the message being sent finishes (and is recorded) before the stop.
        await stack.enter_async_context(mail.worker.running())

        async def ready() -> bool:
            # Ready means results are being stored: the database answers a query and the
            # last write of results went through. A locked SQLite file still answers reads
            # (WAL), so the ping alone would not see it; nor does it see the SQLite file
            # deleted under us (the open connection writes to the unlinked file).
            return (
                monitor.running
                and writer.healthy
                and database_file.problem() is None
                and await ping(engine)
            )

        context = WebContext(
            settings=settings,
            store=store,
            incidents=incidents,
            monitor=monitor,
            metrics=metrics,
            clock=clock,
            ready=ready,
            paging=paging,
            mail=mail,
            notify=notify,
        )
        # Idle and slow clients: a connection that has not finished a request's head this
        # long after opening (or after its last response) is closed.
        handler_args: dict[str, object] = {
            "keepalive_timeout": settings.http_idle_timeout_seconds,
            # After an answer given before the body was read (408, 413), its rest is read
            # and dropped this long at most (aiohttp's default is 10 s) before closing.
            "lingering_time": 2.0,
            "access_log": None,
        }
        runner = web.AppRunner(build_app(context), **handler_args)  # type: ignore[arg-type]
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        assert runner.server is not None
        guard = ConnectionGuard(runner.server, budget.web_connections, handler_args, notices)
        # asyncio accepts up to `backlog` sockets at a time, each a file before the guard sees
        # it: keep that burst small, and the kernel's queue deep (listen() again), so a
        # flood of connections is neither dropped half-open nor a spike of descriptors.
        http_server = await asyncio.get_running_loop().create_server(
            guard, sock=listener, backlog=ACCEPT_BURST
        )
        listener.listen(ACCEPT_QUEUE)
        stack.callback(http_server.close)
        bound_port = listener.getsockname()[1]
        log.info(
            "uptimeguard on http://%s:%d: %d sites (%d probed by node %s in %s), database %s",
            host,
            bound_port,
            len(monitor.sites),
            len(monitor.scheduler),
            node.name,
            node.location,
            describe_database(settings.database_url),
        )
        for warning in startup_warnings(settings, listener.getsockname()[0]):
            log.warning("%s", warning)
        reader = CheckFileReader(settings.config, settings.checks_max_bytes)
        stack.callback(reader.close)
        daemon = Daemon(
            settings=settings,
            config=config,
            store=store,
            incidents=incidents,
            monitor=monitor,
            writer=writer,
            housekeeping=housekeeping,
            metrics=metrics,
            port=bound_port,
            paging=paging,
            mail=mail,
            cluster=cluster,
            reader=reader,
            allow_empty=allow_empty,
        )
        daemon.reloads = Reloads(daemon.reload)
        stack.push_async_callback(daemon.reloads.close)
        yield daemon


async def serve(settings: Settings, config: ChecksConfig, allow_empty: bool = False) -> None:
    """`uptimeguard run`: run until SIGTERM or SIGINT; SIGHUP reloads the checks file."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    async with running_daemon(settings, config, allow_empty=allow_empty) as daemon:
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, daemon.request_reload)
        # What start-up built (the checks file, every site's state, the libraries) lives as
        # long as the process: leave it out of the garbage collector's full passes, which
        # otherwise walk it all again and again while probes come and go.
        gc.collect()
        gc.freeze()
        await stop.wait()
        log.info("stopping: finishing in-flight probes and writing queued results")
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
