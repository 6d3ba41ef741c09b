"""`uptimeguard incidents`: the table a person reads, refusals, `--version` and `--help`."""

from __future__ import annotations

import asyncio
import re
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pytest

from uptimeguard.cli import build_parser, main
from uptimeguard.config import load_config
from uptimeguard.incidents.service import IncidentService
from uptimeguard.storage.database import make_engine, upgrade_schema
from uptimeguard.storage.repository import Store

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = str(ROOT / "checks.yaml")
OPENED = datetime(2026, 12, 1, 9, 12, 40, 123456, tzinfo=UTC)  # a Tuesday, in hours


async def _open_two(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    await upgrade_schema(engine)
    service = IncidentService(Store(engine), load_config(BUNDLED))
    customer = service.config.customers[0]
    severity = service.config.plans[customer.plan].severities[-1].name
    first = await service.open_manual(customer.id, None, severity, "Printer on fire", OPENED)
    second = await service.open_manual(
        customer.id, None, severity, "Password reset for\nthe shop", OPENED.replace(minute=30)
    )
    await service.acknowledge(second.id, "alice", OPENED.replace(minute=45, microsecond=987654))
    await engine.dispose()
    return first.id, second.id


@pytest.fixture
def queue(tmp_path: Path) -> tuple[list[str], int, int]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    first, second = asyncio.run(_open_two(url))
    return ["--config", BUNDLED, "--database", url], first, second


def test_list_is_an_aligned_table_with_summaries(
    queue: tuple[list[str], int, int], capsys: pytest.CaptureFixture[str]
):
    database, first, second = queue
    assert main(["incidents", "list", *database]) == 0
    header, *lines = capsys.readouterr().out.rstrip("\n").splitlines()
    assert header.split() == [
        "ID", "STATUS", "SEVERITY", "OPENED", "CUSTOMER/SITE", "CAUSE", "NEXT", "SUMMARY",
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines}
    assert set(rows) == {f"#{first}", f"#{second}"}
    # Every column starts where its header does.
    for column in ("STATUS", "SEVERITY", "OPENED", "CUSTOMER/SITE", "NEXT", "SUMMARY"):
        start = header.index(column)
        for line in lines:
            assert line[start - 2 : start] == "  " and line[start] != " ", (column, line)
    # Whole seconds, never microseconds.
    assert not re.search(r"\.\d+Z?", "\n".join(lines))
    opened = rows[f"#{first}"]
    assert "2026-12-01 09:12:40Z" in opened and opened.endswith("Printer on fire")
    assert "response due 2026-12-01 " in opened
    acknowledged = rows[f"#{second}"]
    assert " acknowledged " in acknowledged and "response due" not in acknowledged
    assert "resolution due 2026-12-" in acknowledged
    assert acknowledged.endswith("Password reset for the shop")


def test_resolving_a_resolved_incident_is_refused(
    queue: tuple[list[str], int, int], capsys: pytest.CaptureFixture[str]
):
    database, first, second = queue
    assert main(["incidents", "pause", str(second), "--reason", "waiting on Acme", *database]) == 0
    out = capsys.readouterr().out
    assert "paused since 20" in out and " due " not in out
    assert main(["incidents", "resolve", str(first), "--by", "bob", *database]) == 0
    out = capsys.readouterr().out
    assert "resolved" in out and "response due" not in out
    for command in ("resolve", "ack"):
        assert main(["incidents", command, str(first), "--by", "carol", *database]) == 2
        err = capsys.readouterr().err
        assert err == f"uptimeguard: error: incident {first} is already resolved\n", command
    assert main(["incidents", "list", "--json", *database]) == 0
    assert '"resolved_by": "bob"' in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"uptimeguard {version('uptimeguard')}\n"


def test_help_and_docs_stand_alone():
    """--help, the README and docs/ cite no document outside the repository."""
    parser = build_parser()
    texts = [parser.format_help()]
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        for sub in getattr(action, "choices", {}).values():
            texts.append(sub.format_help())
    word = "SP" + "EC"  # spelled apart so this file does not cite it
    assert texts[1:] and not [t for t in texts if word in t]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    citing = [
        name
        for name in tracked
        if name.endswith((".md", ".py", ".yaml", ".toml"))
        and re.search(rf"\b{word}\b", (ROOT / name).read_text("utf-8", errors="replace"))
    ]
    assert citing == []
