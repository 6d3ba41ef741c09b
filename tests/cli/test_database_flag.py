"""`--database` and UPTIMEGUARD_DATABASE_URL: the accepted forms, one-line errors, and never
a new empty database made by a command that only reads."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from uptimeguard.cli import main
from uptimeguard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = str(ROOT / "checks.yaml")
PG_URL = os.environ.get("UPTIMEGUARD_TEST_DATABASE_URL", "")
FORMS = "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME"


def dead_port() -> int:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return int(closed.getsockname()[1])


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("uptimeguard: error: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    "url",
    [
        "x.db",
        "/var/lib/uptimeguard/uptimeguard.db",
        "mysql://monitor:hunter22@db.example/uptime",
        "postgresql+psycopg://postgres@127.0.0.1/test",
        "mongodb://127.0.0.1/uptime",
    ],
)
def test_a_url_we_cannot_use_names_the_accepted_forms(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    for command in (["incidents", "list", "--config", BUNDLED], ["db", "upgrade"]):
        assert main([*command, "--database", url]) == 2
        line = one_error(capsys)
        assert line.startswith("uptimeguard: error: --database: ") and FORMS in line
        assert "hunter22" not in line and "Value error" not in line
    assert list(tmp_path.iterdir()) == []


def test_the_environment_variable_is_named_when_it_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UPTIMEGUARD_DATABASE_URL", "mysql://a@b/c")
    assert main(["db", "upgrade"]) == 2
    line = one_error(capsys)
    assert line.startswith("uptimeguard: error: UPTIMEGUARD_DATABASE_URL: ") and FORMS in line


def test_no_traceback_from_the_real_command(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "uptimeguard", "db", "upgrade", "--database", "x.db"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and FORMS in result.stderr


def test_the_async_driver_is_chosen_for_us(monkeypatch: pytest.MonkeyPatch):
    assert Settings(database_url="sqlite:///x.db").database_url == "sqlite+aiosqlite:///x.db"
    assert (
        Settings(database_url="postgresql://u:p%40ss@h:5432/d").database_url
        == "postgresql+asyncpg://u:p%40ss@h:5432/d"
    )
    assert Settings(database_url="postgres://h/d").database_url == "postgresql+asyncpg://h/d"
    named = "postgresql+asyncpg://h/d"
    assert Settings(database_url=named).database_url == named
    monkeypatch.setenv("UPTIMEGUARD_DATABASE_URL", "sqlite:////tmp/a.db")
    assert Settings().database_url == "sqlite+aiosqlite:////tmp/a.db"


def test_plain_sqlite_url_works_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    assert main(["db", "upgrade", "--database", url]) == 0
    assert capsys.readouterr().out.strip() == (
        f"database schema is up to date: {tmp_path / 'plain.db'}"
    )
    assert main(["incidents", "list", "--config", BUNDLED, "--database", url]) == 0
    assert "no incidents" in capsys.readouterr().out


@pytest.mark.skipif(
    not PG_URL.startswith("postgresql"),
    reason="UPTIMEGUARD_TEST_DATABASE_URL does not name a PostgreSQL database",
)
def test_plain_postgresql_url_works(capsys: pytest.CaptureFixture[str]):
    plain = "postgresql://" + PG_URL.split("://", 1)[1]
    assert main(["db", "upgrade", "--database", plain]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["incidents", "list", "--config", BUNDLED, "--database", plain]) == 0


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+asyncpg"])
def test_unreachable_postgresql_is_one_line(scheme: str, capsys: pytest.CaptureFixture[str]):
    url = f"{scheme}://postgres:hunter22@127.0.0.1:{dead_port()}/nope"
    for command in (["incidents", "list", "--config", BUNDLED], ["db", "upgrade"]):
        assert main([*command, "--database", url]) == 2
        line = one_error(capsys)
        assert line.startswith("uptimeguard: error: cannot use the database at postgresql")
        assert "--database" in line and FORMS in line and "hunter22" not in line


def test_reading_commands_never_create_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    where = tmp_path / "uptimeguard.db"
    expected = (
        f"uptimeguard: error: no database at {where}; "
        "run `uptimeguard db upgrade` or pass --database"
    )
    for command in (
        ["incidents", "list", "--config", BUNDLED],
        ["incidents", "ack", "1", "--config", BUNDLED],
        ["incidents", "resolve", "1", "--config", BUNDLED],
        ["report", "--config", BUNDLED, "--customer", "acme", "--month", "2026-11"],
        ["nodes"],
    ):
        assert main(command) == 2, command
        assert one_error(capsys) == expected
    assert list(tmp_path.iterdir()) == []
    # Given on the command line, relative to the current directory, it is named in full too.
    assert main(["incidents", "list", "--config", BUNDLED, "--database", "sqlite:///a/b.db"]) == 2
    assert str(tmp_path / "a" / "b.db") in one_error(capsys)

    # `db upgrade` makes it, and says where.
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == f"database schema is up to date: {where}"
    assert main(["incidents", "list", "--config", BUNDLED]) == 0
    assert "no incidents" in capsys.readouterr().out
