"""Fixtures for the metrics and dashboard tests: a test CA and a certificate it signed, and
Debian's `prometheus` (installed when it is missing and we may: root, apt-get; otherwise the
tests that need it are skipped with the reason; `.ci/run` installs it, so CI never skips)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, check=True, timeout=30)


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(CA certificate, leaf certificate for 127.0.0.1, leaf key), made with `openssl`."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: it makes the HTTPS site's certificate")
    d = tmp_path_factory.mktemp("metrics-certs")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "60",
        "-subj", "/CN=uptimeguard metrics test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d,
    )  # fmt: skip
    _openssl(
        "req", "-new", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1",
        cwd=d,
    )  # fmt: skip
    (d / "leaf.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    _openssl(
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "45", "-extfile", "leaf.ext", "-out", "leaf.pem", cwd=d,
    )  # fmt: skip
    return d / "ca.pem", d / "leaf.pem", d / "leaf.key"


def apt_install_prometheus() -> str:
    """Install Debian's package; returns why it could not be, or "" when it was."""
    if not Path("/etc/debian_version").exists():
        return "not a Debian system: install Prometheus 2.x so that `prometheus` is on PATH"
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available to install Debian's prometheus package"
    if os.geteuid() != 0:
        return "installing it needs root: run `apt-get install prometheus` as root (.ci/run does)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", "prometheus"]
    done = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:  # perhaps stale package lists
        subprocess.run([apt, "update"], capture_output=True, env=env, timeout=600)
        done = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"`apt-get install prometheus` failed: {last}"
    return ""


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        why = apt_install_prometheus()
        found = shutil.which("prometheus")
        if found is None:
            pytest.skip(f"prometheus is not installed and could not be: {why}")
    return found
