"""Settings problems in our words: which flag or variable, what was wrong, what to write.

pydantic's own wording ("Input should be ...", "Value error, ...") never reaches a person.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from typing import Any

from dotenv import dotenv_values
from pydantic import ValidationError

from uptimeguard.wording import in_our_words

ENV_PREFIX = "UPTIMEGUARD_"
# Settings that a command-line flag can also give.
FLAGS = {
    "config": "--config",
    "database_url": "--database",
    "listen": "--listen",
    "node": "--node",
    "location": "--location",
}
_SECRET = ("token", "password", "secret")


def setting_name(field: str, from_flags: Mapping[str, Any]) -> str:
    """The flag that set `field`, or its environment variable."""
    if field in from_flags and field in FLAGS:
        return FLAGS[field]
    return ENV_PREFIX + field.upper()


def describe_settings_error(error: ValidationError, from_flags: Mapping[str, Any]) -> str:
    """One line for the first problem: `NAME: 'value': what to write`."""
    detail = error.errors()[0]
    field = str(detail["loc"][0]) if detail["loc"] else "settings"
    name = setting_name(field, from_flags)
    words = in_our_words(detail)
    value = detail.get("input")
    if detail["type"] == "value_error" or any(s in field for s in _SECRET):
        return f"{name}: {words}"  # our own messages quote the value where it helps
    return f"{name}: bad value {str(value)!r}: {words}"


# Variables with the prefix that are not settings but are read elsewhere (the test suite, the
# HTML validator), so they are never taken for misspellings.
_NOT_SETTINGS = ("UPTIMEGUARD_TEST_", "UPTIMEGUARD_SKIP_", "UPTIMEGUARD_VNU_JAR")


def unknown_variables(names: Iterable[str], fields: Iterable[str]) -> list[str]:
    """A warning for each `UPTIMEGUARD_` name that is no setting (they are ignored), naming the
    setting it most likely meant."""
    valid = {ENV_PREFIX + field.upper() for field in fields}
    warnings = []
    for name in sorted(set(names)):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in valid or upper.startswith(_NOT_SETTINGS):
            continue
        # Compare what follows the prefix, which every name shares.
        close = difflib.get_close_matches(
            upper.removeprefix(ENV_PREFIX), [v.removeprefix(ENV_PREFIX) for v in valid], 1, 0.6
        )
        hint = f"; did you mean {ENV_PREFIX}{close[0]}?" if close else ""
        warnings.append(f"{name} is not a setting and is ignored{hint}")
    return warnings


def dotenv_names(path: str = ".env") -> list[str]:
    """The variable names a `.env` file sets (none when there is no such file)."""
    if not os.path.isfile(path):
        return []
    return [name for name in dotenv_values(path) if name]
