"""Settings: every one documented, misspellings warned about, problems in our own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from uptimeguard.cli import main
from uptimeguard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = str(ROOT / "checks.yaml")


def test_every_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text("utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    missing = [
        name.upper()
        for name in Settings.model_fields
        if not any(f"`{name.upper()}`" in row.split(" | ")[0] for row in rows)
    ]
    assert missing == []


def test_a_misspelled_variable_is_named_with_the_one_meant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UPTIMEGUARD_DATABSE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("UPTIMEGUARD_TEST_ANYTHING", "1")  # the test suite's own
    (tmp_path / ".env").write_text("UPTIMEGUARD_LISTN=0.0.0.0:80\nUPTIMEGUARD_ZZZ=1\n")
    assert main(["validate", "--config", BUNDLED]) == 0
    captured = capsys.readouterr()
    assert "ok:" in captured.out
    assert captured.err.splitlines() == [
        "uptimeguard: warning: UPTIMEGUARD_DATABSE_URL is not a setting and is ignored; "
        "did you mean UPTIMEGUARD_DATABASE_URL?",
        "uptimeguard: warning: UPTIMEGUARD_LISTN is not a setting and is ignored; "
        "did you mean UPTIMEGUARD_LISTEN?",
        "uptimeguard: warning: UPTIMEGUARD_ZZZ is not a setting and is ignored",
    ]
    # Settings spelled right, in any case, give no warning.
    (tmp_path / ".env").unlink()
    monkeypatch.delenv("UPTIMEGUARD_DATABSE_URL")
    monkeypatch.setenv("UPTIMEGUARD_WRITE_BATCH_SIZE", "100")
    monkeypatch.setenv("uptimeguard_listen", "127.0.0.1:9000")
    assert main(["validate", "--config", BUNDLED]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("UPTIMEGUARD_WRITE_BATCH_SIZE", "many", "UPTIMEGUARD_WRITE_BATCH_SIZE: bad value 'many': "
         "use a whole number"),
        ("UPTIMEGUARD_WRITE_BATCH_SIZE", "0", "UPTIMEGUARD_WRITE_BATCH_SIZE: bad value '0': "
         "use 1 or more"),
        ("UPTIMEGUARD_WRITE_INTERVAL_SECONDS", "soon", "UPTIMEGUARD_WRITE_INTERVAL_SECONDS: "
         "bad value 'soon': use a number"),
        ("UPTIMEGUARD_PROBE_DNS_TIMEOUT_SECONDS", "61", "UPTIMEGUARD_PROBE_DNS_TIMEOUT_SECONDS: "
         "bad value '61': use 60 or less"),
        ("UPTIMEGUARD_LOG_FORMAT", "xml", "UPTIMEGUARD_LOG_FORMAT: bad value 'xml': "
         "use one of: text, json"),
        ("UPTIMEGUARD_LISTEN", "127.0.0.1:", "UPTIMEGUARD_LISTEN: bad listen address "
         "'127.0.0.1:': use HOST:PORT, e.g. 127.0.0.1:8080"),
    ],
)  # fmt: skip
def test_bad_values_in_our_words(
    variable: str,
    value: str,
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv(variable, value)
    assert main(["validate", "--config", BUNDLED]) == 2
    err = capsys.readouterr().err
    assert err == f"uptimeguard: error: {expected}\n"
    for pydantic_words in ("Input should", "Value error", "pydantic", "validation error"):
        assert pydantic_words not in err


def test_a_flag_is_named_rather_than_its_variable(capsys: pytest.CaptureFixture[str]):
    assert main(["run", "--config", BUNDLED, "--node", "no spaces"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("uptimeguard: error: --node: bad name 'no spaces': ")


def test_run_logs_a_misspelled_variable(tmp_path: Path):
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:  # the daemon stops at the listen, after logging it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "UPTIMEGUARD_ADMN_TOKEN": "x", "UPTIMEGUARD_LOG_FORMAT": "json"}
        result = subprocess.run(
            [sys.executable, "-m", "uptimeguard", "run", "--config", BUNDLED,
             "--listen", f"127.0.0.1:{port}",
             "--database", f"sqlite:///{tmp_path / 'r.db'}"],
            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
        )  # fmt: skip
    import json

    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {
        "level": "warning",
        "message": "UPTIMEGUARD_ADMN_TOKEN is not a setting and is ignored; "
        "did you mean UPTIMEGUARD_ADMIN_TOKEN?",
    }.items() <= logged[0].items()
    assert result.returncode == 1 and "cannot listen" in result.stderr
