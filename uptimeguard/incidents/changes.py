"""What the incident service announces after each change it stores."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from uptimeguard.storage.models import IncidentRow


@dataclass(frozen=True, slots=True)
class IncidentChange:
    """Announced after a change is stored. `kind`: opened, upgraded, acknowledged, resolved,
    noted, breached, paused, resumed, ack_expired."""

    kind: str
    incident: IncidentRow
    at: datetime
    data: dict[str, Any] | None = None


Listener = Callable[[IncidentChange], Awaitable[None]]
