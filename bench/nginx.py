"""The target sites: Debian's nginx on loopback, with a local CA for the TLS half.

nginx is C and answers a probe in a few microseconds of CPU, so the targets barely compete
with the systems measured. It listens on every (address, port) of `bench.targets`; `/ok/...`
answers 200 with a small page, `/err/...` answers 500, and `/hang/...` reads the request and
answers only after `HANG_SECONDS`, past every probe's timeout (the echo module's `echo_sleep`,
which Debian's nginx-light carries: it costs nginx a timer, not CPU).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bench.targets import ADDRESSES, PLAIN_PORTS, TLS_PORTS

ECHO_MODULE = Path("/usr/lib/nginx/modules/ngx_http_echo_module.so")
PACKAGES = ("nginx-light", "prometheus-blackbox-exporter", "openssl")
HANG_SECONDS = 40  # longer than any probe timeout the bench uses

PAGE = (
    "<!doctype html><html><head><title>Welcome</title></head><body><h1>Welcome</h1>"
    + "<p>An ordinary small home page served for the uptimeguard bench.</p>" * 24
    + "</body></html>"
)


class Unavailable(RuntimeError):
    """A tool the bench needs is missing and could not be installed."""


def install_missing(need_blackbox: bool = True, allowed: bool = True) -> list[str]:
    """apt-get install nginx (with the echo module), blackbox_exporter and openssl where
    missing; needs root. Returns what was installed; raises Unavailable if that failed (or was
    needed and not `allowed`)."""
    missing = []
    if shutil.which("nginx") is None or not ECHO_MODULE.exists():
        missing.append("nginx-light")  # depends on libnginx-mod-http-echo in Debian 12
    if need_blackbox and shutil.which("prometheus-blackbox-exporter") is None:
        missing.append("prometheus-blackbox-exporter")
    if shutil.which("openssl") is None:
        missing.append("openssl")
    if not missing:
        return []
    if not allowed:
        raise Unavailable(f"missing {', '.join(missing)} (not installing: --no-install)")
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise Unavailable(f"missing {', '.join(missing)} and cannot apt-get install (not root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise Unavailable(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    # Debian starts the packaged services where it can; the bench runs its own instances.
    for service in ("nginx", "prometheus-blackbox-exporter"):
        subprocess.run(["service", service, "stop"], capture_output=True)
    return missing


def make_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for every target address (ECDSA P-256, the
    common choice of real sites). Returns (ca.pem, server.pem, server.key)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_pem = directory / "ca.key", directory / "ca.pem"
    key, csr, pem = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    sans = ",".join(f"IP:{address}" for address in ADDRESSES)
    ext.write_text(
        f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        ca_key,
        "-out",
        ca_pem,
        "-days",
        "30",
        "-subj",
        "/CN=uptimeguard bench CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    _openssl("req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=uptimeguard bench site")
    _openssl(
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca_pem,
        "-CAkey",
        ca_key,
        "-CAcreateserial",
        "-out",
        pem,
        "-days",
        "30",
        "-extfile",
        ext,
    )
    return ca_pem, pem, key


def _openssl(*args: object) -> None:
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        raise Unavailable(f"openssl {args[0]} failed: {done.stderr.strip()[-300:]}")


def config_text(prefix: Path, cert: Path, key: Path, access_log: bool = False) -> str:
    """nginx's configuration; `access_log` writes `<msec> <uri>` per request to
    `<prefix>/access.log` (buffered), for benches that time each site's probes."""
    listens = []
    for address in ADDRESSES:
        listens += [f"listen {address}:{port} backlog=4096;" for port in PLAIN_PORTS]
        listens += [f"listen {address}:{port} ssl backlog=4096;" for port in TLS_PORTS]
    listen_lines = "\n        ".join(listens)
    log = f"access_log {prefix}/access.log stamp buffer=256k flush=1s;"
    return f"""
load_module {ECHO_MODULE};
worker_processes 2;
worker_rlimit_nofile 65536;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log error;
events {{ worker_connections 16384; }}
http {{
    log_format stamp '$msec $request_uri';
    {log if access_log else "access_log off;"}
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    server {{
        {listen_lines}
        server_name _;
        location /ok/ {{ default_type text/html; return 200 '{PAGE}'; }}
        location /err/ {{ return 500; }}
        location /hang/ {{ echo_sleep {HANG_SECONDS}; echo late; }}
        location / {{ return 404; }}
    }}
}}
"""


@contextlib.contextmanager
def serving(workdir: Path, access_log: bool = False) -> Iterator[Path]:
    """nginx serving every target until the block ends; yields the CA certificate to trust.
    With `access_log`, requests are logged to `<workdir>/nginx/access.log`."""
    if not ECHO_MODULE.exists():
        raise Unavailable(f"nginx's echo module ({ECHO_MODULE}) is missing: install nginx-light")
    for port in (PLAIN_PORTS[0], TLS_PORTS[-1]):
        with contextlib.suppress(OSError), socket.create_connection((ADDRESSES[0], port), 1):
            raise Unavailable(f"{ADDRESSES[0]}:{port} is taken: is another bench running?")
    prefix = workdir / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    ca, cert, key = make_ca(workdir / "tls")
    conf = prefix / "nginx.conf"
    conf.write_text(config_text(prefix, cert, key, access_log))
    process = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(prefix / "stderr.log", "w"),  # noqa: SIM115 (closed with the process)
    )
    try:
        _wait_listening(ADDRESSES[-1], TLS_PORTS[-1], process, prefix)
        yield ca
    finally:
        process.send_signal(signal.SIGTERM)  # fast shutdown: hanging requests are cut
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_listening(host: str, port: int, process: subprocess.Popen[bytes], prefix: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = [prefix / "stderr.log", prefix / "error.log"]
            errors = "".join(log.read_text() for log in logs if log.exists())
            raise Unavailable(f"nginx exited: {errors.strip()[-500:]}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.1)
    raise Unavailable("nginx did not start listening within 15 s")
