"""Process settings from the environment (prefix `UPTIMEGUARD_`) or a `.env` file."""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from uptimeguard.config._size import DEFAULT_MAX_BYTES
from uptimeguard.config.parsers import parse_dns_server
from uptimeguard.storage.urls import normalize_database_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///uptimeguard.db"
# Node and location names: what `--node` and `--location` accept (they label metrics and rows).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NAME_RULE = "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def default_node_name() -> str:
    """The host name, cut to a valid node name (`NODE` unset)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:64].lstrip("._-")
    return cleaned or "node"


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` -> (host, port); raises ValueError naming the expected form."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad listen address {value!r}: use HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port_text)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="UPTIMEGUARD_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    config: str = "checks.yaml"
    # A checks file bigger than this is refused before it is read (at start and on SIGHUP).
    checks_max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024)
    listen: str = "127.0.0.1:8080"
    admin_token: SecretStr | None = None
    public_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    # The most SMS segments one page may take (153 GSM-7 or 67 UCS-2 characters each once a
    # message is split); a longer page is cut, keeping how to acknowledge. Twilio's own limit
    # is 1,600 characters, about 10 segments.
    sms_max_segments: int = Field(default=4, ge=1, le=10)
    log_format: str = Field(default="text", pattern="^(text|json)$")
    # Probe results are written in batches: at most this many rows or this many seconds apart.
    write_batch_size: int = Field(default=500, ge=1)
    write_interval_seconds: float = Field(default=1.0, gt=0)
    # Results held in memory while the database is unreachable; beyond this the oldest go.
    write_buffer_limit: int = Field(default=100_000, ge=100)
    # Raw probe results older than this many days are pruned (daily rollups are kept).
    retention_days: int = Field(default=30, ge=1)
    max_concurrent_probes: int = Field(default=1000, ge=1)
    # SQLite only: how long a write waits for another connection's lock before it fails
    # (and is retried: results stay buffered, incident changes are re-sent). Longer than the
    # daemon's own longest write transaction under load, which reached over 5 s with 5,000
    # sites and a thousand incidents opening at once (docs/RELIABILITY.md).
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0)
    # Probes: name servers (comma-separated `host` or `host:port`; empty: /etc/resolv.conf),
    # each lookup's own bound inside the probe's timeout, and how much of a body is read.
    probe_dns_servers: str = ""
    probe_dns_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    probe_max_body_bytes: int = Field(default=10 << 20, ge=1024)
    # Mail to status-page subscribers (and anything else that uses `uptimeguard.mail`). With
    # no SMTP_HOST, messages are recorded as skipped and the subscribe form is not offered.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: str = Field(default="starttls", pattern="^(starttls|tls|none)$")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from: str | None = None
    # Retries of a message the SMTP server (or a webhook receiver) did not take: the wait
    # doubles from the first to the longest, and the message is given up after `give_up`.
    mail_retry_first_seconds: float = Field(default=10.0, gt=0)
    mail_retry_max_seconds: float = Field(default=600.0, gt=0)
    mail_give_up_hours: float = Field(default=48.0, gt=0)
    # How often the daily rollups (and the uptime gauges) are brought up to date, and how
    # old a result must be to be folded (younger ones may still be in a node's write buffer).
    rollup_interval_seconds: float = Field(default=300.0, ge=1.0)
    rollup_grace_seconds: float = Field(default=60.0, ge=1.0)
    # Keep a raw row of every probe, not only of failures and changes (the rollups are the
    # same either way; about 160 bytes a probe: 184 MiB an hour at 100,000 sites).
    keep_all_results: bool = False
    # /metrics: the probe-time histogram per site (14 lines a site, 123 MB of text at
    # 100,000 sites) rather than per customer; each site's last probe time is always there.
    per_site_histogram: bool = False
    # Several nodes (PostgreSQL only; see docs/CLUSTER.md). A node counts as dead this long
    # after its last heartbeat (on the database clock), and its sites move to the live nodes.
    node: str = Field(default_factory=default_node_name)
    location: str = "default"
    node_timeout_seconds: float = Field(default=15.0, ge=1.0, le=3600.0)
    # A local address the node's probes are sent from (its vantage point); None: the system's.
    probe_source_address: str | None = None

    # The web server: connections at most (fewer where the open-files limit cannot hold them
    # beside the probes: see uptimeguard/fdlimits.py), how long a connection may wait to
    # finish a request's head (from opening, or from its last response) before it is
    # closed, and how long a request's body may take to arrive.
    http_max_connections: int = Field(default=1000, ge=8)
    http_idle_timeout_seconds: float = Field(default=15.0, gt=0, le=3600)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)

    # Callback requests from status pages: at most this many per client address an hour, and
    # per phone number a day (per process).
    callback_limit_per_address: int = Field(default=5, ge=1)
    callback_limit_per_phone: int = Field(default=3, ge=1)
    # Reverse proxies (comma-separated addresses) whose X-Forwarded-For names the client, for
    # the public forms' rate limits; without one, the connection's address is the client.
    trusted_proxies: str = ""

    @field_validator("database_url")
    @classmethod
    def _database_url_is_accepted(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("listen")
    @classmethod
    def _listen_is_host_port(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("node", "location")
    @classmethod
    def _is_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(f"bad name {value!r}: {NAME_RULE}")
        return value

    @field_validator("probe_source_address")
    @classmethod
    def _is_address(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(f"bad address {value!r}: use an IP address of this machine") from None

    @property
    def listen_address(self) -> tuple[str, int]:
        return parse_listen(self.listen)

    @property
    def trusted_proxy_addresses(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.trusted_proxies.split(",") if a.strip())

    @field_validator("probe_dns_servers")
    @classmethod
    def _dns_servers_are_addresses(cls, value: str) -> str:
        parse_dns_servers(value)
        return value

    def prober_options(self) -> dict[str, Any]:
        """The `Prober` keyword arguments these settings give."""
        return {
            "dns_servers": parse_dns_servers(self.probe_dns_servers),
            "dns_timeout": self.probe_dns_timeout_seconds,
            "max_body": self.probe_max_body_bytes,
        }


def parse_dns_servers(value: str) -> tuple[str, ...]:
    """`127.0.0.1, 10.0.0.2:5353, [::1]:53` -> each server; ValueError naming a bad one."""
    return tuple(parse_dns_server(part) for part in value.split(",") if part.strip())
