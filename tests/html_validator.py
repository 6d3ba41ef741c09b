"""The W3C's Nu HTML Checker (vnu), run locally on a page we serve.

`vnu.jar` comes from npm's `vnu-jar` (`.ci/run` installs it into `node_modules/`) and needs
Java 11 or newer. `UPTIMEGUARD_VNU_JAR` names another copy. Tests call `vnu_missing()` for
their skip reason and `html_errors()` for what the checker found.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
INSTALL = "npm install --no-save --no-package-lock vnu-jar (.ci/run does this)"


def vnu_jar() -> Path:
    return Path(os.environ.get("UPTIMEGUARD_VNU_JAR") or DEFAULT_JAR)


def vnu_missing() -> str | None:
    """Why the checker cannot run here, or None when it can."""
    if shutil.which("java") is None:
        return "Java is not installed (the W3C HTML checker, vnu, needs Java 11 or newer)"
    if not vnu_jar().is_file():
        return f"the W3C HTML checker is not installed at {vnu_jar()}: {INSTALL}"
    return None


def html_errors(html: str, include_warnings: bool = False) -> list[str]:
    """Every error (and warning, if asked) the checker reports, as `line:col: message`."""
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "page.html"
        page.write_text(html, encoding="utf-8")
        done = subprocess.run(
            ["java", "-jar", str(vnu_jar()), "--format", "json", "--exit-zero-always", str(page)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    messages = json.loads(done.stderr or done.stdout)["messages"]
    kinds = {"error", "non-document-error"} | ({"info"} if include_warnings else set())
    return [
        f"{m.get('lastLine', '?')}:{m.get('firstColumn', '?')}: {m.get('message')}"
        + (f" [{m.get('extract', '').strip()}]" if m.get("extract") else "")
        for m in messages
        if m.get("type") in kinds
    ]
