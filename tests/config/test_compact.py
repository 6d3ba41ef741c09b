"""The daemon's loader (`load_config_compact`): the checks file loaded in a child process gives
the same configuration, and the same problems, as `load_config` in this one."""

from __future__ import annotations

from pathlib import Path

import pytest

from uptimeguard.config import ConfigError, load_config
from uptimeguard.config.compact import load_config_compact

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 64 << 20


def test_the_same_configuration_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    here = load_config(ROOT / "checks.yaml", max_bytes=LIMIT)
    there = load_config_compact(ROOT / "checks.yaml", LIMIT)
    assert there == here
    assert [ref.key for ref in there.site_refs()] == [ref.key for ref in here.site_refs()]


def test_variables_come_from_this_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        (ROOT / "checks.yaml")
        .read_text()
        .replace("url: http://127.0.0.1:8080/healthz", "url: http://${UG_TEST_HOST}/healthz", 1)
    )
    path = tmp_path / "checks.yaml"
    path.write_text(text)
    monkeypatch.setenv("UG_TEST_HOST", "www.example.org")
    config = load_config_compact(path, LIMIT)
    assert config == load_config(path, max_bytes=LIMIT)
    assert any(ref.site.url == "http://www.example.org/healthz" for ref in config.site_refs())


def test_problems_come_back_as_the_same_error(tmp_path: Path) -> None:
    path = tmp_path / "checks.yaml"
    path.write_text("defaults: {interval: 5 minutes}\nnonsense: 1\n")
    with pytest.raises(ConfigError) as here:
        load_config(path, max_bytes=LIMIT)
    with pytest.raises(ConfigError) as there:
        load_config_compact(path, LIMIT)
    assert there.value.problems == here.value.problems
    assert str(there.value) == str(here.value)
    with pytest.raises(ConfigError) as missing:
        load_config_compact(tmp_path / "absent.yaml", LIMIT)
    assert "cannot read file" in str(missing.value)
