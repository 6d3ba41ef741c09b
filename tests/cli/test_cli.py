"""The command line: exit codes, one-line errors, and each command's output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import free_port

from uptimeguard.cli import main

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = str(ROOT / "checks.yaml")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uptimeguard", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )


def test_validate_bundled_file(capsys: pytest.CaptureFixture[str]):
    assert main(["validate", "--config", BUNDLED]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{BUNDLED}: ok:") and "customers" in out


def test_validate_reports_every_problem_and_exits_2(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "defaults:\n  intervall: 5m\n  timeout: 10x\n"
        "customers:\n  - id: acme\n    name: Acme\n    plan: nope\n    sites: []\n"
    )
    result = run_cli("validate", "--config", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert all(line.startswith(f"{bad}:") for line in lines)
    assert "Traceback" not in result.stderr
    assert lines[0].startswith(f"{bad}:2:3: ")


def test_missing_config_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["validate", "--config", str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml:1:1:" in capsys.readouterr().err


def test_bad_flags_exit_2():
    result = run_cli("run", "--listen", "nonsense")
    assert result.returncode == 2
    assert "listen" in result.stderr and "Traceback" not in result.stderr
    assert run_cli("probe").returncode == 2
    assert run_cli("bogus-command").returncode == 2
    result = run_cli("probe", "http://127.0.0.1:1/", "--timeout", "soon")
    assert result.returncode == 2 and "--timeout" in result.stderr


def test_sla_due_prints_deadlines(capsys: pytest.CaptureFixture[str]):
    # A query opened on Friday 17:00: 1 business hour that day, 7 more on Monday.
    code = main(
        [
            "sla",
            "due",
            "--config",
            BUNDLED,
            "--plan",
            "standard",
            "--severity",
            "query",
            "--opened",
            "2026-11-27T17:00:00+00:00",
        ]
    )
    assert code == 0
    due = json.loads(capsys.readouterr().out)
    assert due["covered"] is True
    assert due["clock_starts"] == "2026-11-27T17:00:00+00:00"
    assert due["response_due"] == "2026-11-30T15:00:00+00:00"


def test_sla_due_held_over_and_paused(capsys: pytest.CaptureFixture[str]):
    # bug_fix is not worked out of hours: opened Saturday, the clock starts Monday 08:00.
    main(
        [
            "sla",
            "due",
            "--config",
            BUNDLED,
            "--plan",
            "standard",
            "--severity",
            "bug_fix",
            "--opened",
            "2026-11-28T10:00:00Z",
        ]
    )
    due = json.loads(capsys.readouterr().out)
    assert due["covered"] is False
    assert due["clock_starts"] == "2026-11-30T08:00:00+00:00"
    assert due["response_due"] == "2026-11-30T10:00:00+00:00"
    # A one-hour pause in hours moves the response an hour later.
    main(
        [
            "sla",
            "due",
            "--config",
            BUNDLED,
            "--plan",
            "standard",
            "--severity",
            "bug_fix",
            "--opened",
            "2026-11-28T10:00:00Z",
            "--pause",
            "2026-11-30T09:00:00Z/2026-11-30T10:00:00Z",
        ]
    )
    assert json.loads(capsys.readouterr().out)["response_due"] == "2026-11-30T11:00:00+00:00"


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--plan", "nope", "--severity", "query", "--opened", "2026-11-27T17:00:00Z"], "--plan"),
        (
            ["--plan", "standard", "--severity", "x", "--opened", "2026-11-27T17:00:00Z"],
            "--severity",
        ),
        (["--plan", "standard", "--severity", "query", "--opened", "friday"], "--opened"),
        (
            ["--plan", "standard", "--severity", "query", "--opened", "2026-11-27T17:00:00"],
            "--opened",
        ),
        (
            [
                "--plan",
                "standard",
                "--severity",
                "query",
                "--opened",
                "2026-11-27T17:00:00Z",
                "--pause",
                "2026-11-30T10:00:00Z",
            ],
            "--pause",
        ),
    ],
)
def test_sla_due_bad_flags(flags: list[str], named: str, capsys: pytest.CaptureFixture[str]):
    assert main(["sla", "due", "--config", BUNDLED, *flags]) == 2
    err = capsys.readouterr().err
    assert named in err and len(err.strip().splitlines()) == 1


def test_incidents_from_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    database = ["--config", BUNDLED, "--database", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"]
    assert main(["db", "upgrade", *database[2:]]) == 0
    assert main(["incidents", "list", *database]) == 0
    assert "no incidents" in capsys.readouterr().out

    import asyncio

    from uptimeguard.clock import SystemClock
    from uptimeguard.config import load_config
    from uptimeguard.incidents.service import IncidentService
    from uptimeguard.storage.database import make_engine, upgrade_schema
    from uptimeguard.storage.repository import Store

    async def open_one() -> int:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
        await upgrade_schema(engine)
        service = IncidentService(Store(engine), load_config(BUNDLED))
        customer = service.config.customers[0]
        row = await service.open_manual(
            customer.id,
            None,
            service.config.plans[customer.plan].severities[-1].name,
            "Printer on fire",
            SystemClock().now(),
        )
        await engine.dispose()
        return row.id

    number = asyncio.run(open_one())
    assert main(["incidents", "list", "--open", "--json", *database]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in listed] == [number]
    assert main(["incidents", "ack", str(number), "--by", "alice", *database]) == 0
    assert "acknowledged" in capsys.readouterr().out
    pause = ["incidents", "pause", str(number), "--by", "alice"]
    assert main([*pause, "--reason", "waiting on the customer", *database]) == 0
    assert "paused since" in capsys.readouterr().out
    assert main([*pause, "--reason", "again", *database]) == 2
    err = capsys.readouterr().err
    assert "already paused" in err and len(err.strip().splitlines()) == 1
    assert main(["incidents", "resume", str(number), "--by", "bob", *database]) == 0
    assert "paused since" not in capsys.readouterr().out
    assert main(["incidents", "resume", str(number), *database]) == 2
    assert "is not paused" in capsys.readouterr().err
    assert main(["incidents", "resolve", str(number), "--note", "fixed", *database]) == 0
    assert "resolved" in capsys.readouterr().out
    assert main(["incidents", "list", "--open", *database]) == 0
    assert "no incidents" in capsys.readouterr().out
    assert main(["incidents", "ack", "999", *database]) == 2
    assert "no incident 999" in capsys.readouterr().err
    assert main([*pause, "--reason", "too late", *database]) == 2
    assert "resolved incident cannot be paused" in capsys.readouterr().err


def test_db_upgrade(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    url = f"sqlite+aiosqlite:///{tmp_path / 'up.db'}"
    assert main(["db", "upgrade", "--database", url]) == 0
    assert main(["db", "upgrade", "--database", url]) == 0  # idempotent
    assert "up to date" in capsys.readouterr().out


def test_run_says_why_it_cannot_start(tmp_path: Path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "run",
            "--config",
            BUNDLED,
            "--listen",
            f"127.0.0.1:{port}",
            "--database",
            f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
        )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"uptimeguard: error: cannot listen on 127.0.0.1:{port}: ")
    assert "in use" in line
    assert "Traceback" not in result.stderr

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
    result = run_cli(
        "run",
        "--config",
        BUNDLED,
        "--listen",
        f"127.0.0.1:{free_port()}",
        "--database",
        f"postgresql+asyncpg://postgres@127.0.0.1:{dead}/nope",
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("uptimeguard: error: database unavailable:")
