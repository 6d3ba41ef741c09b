"""Who is on call at an instant: the rotation, with overrides on top. Pure: no I/O, no clock.

The rotation hands over every `every` of *local* wall-clock time from `start`, in the rota's
time zone: a weekly rota starting Monday 09:00 hands over at 09:00 local every Monday, summer
time or not. Overrides are local `[from, to)` intervals and win over the rotation; where two
overlap, the one listed later wins (the newest arrangement is usually appended last).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from uptimeguard.config.models import Oncall, Rotation


def local_time(oncall: Oncall, at: datetime) -> datetime:
    """`at` (aware) as naive local wall-clock time in the rota's time zone."""
    if at.tzinfo is None:
        raise ValueError("rota times must be timezone-aware")
    return at.astimezone(ZoneInfo(oncall.timezone)).replace(tzinfo=None)


def rotation_member(rotation: Rotation, local: datetime) -> str:
    """The member whose turn covers naive local time `local`.

    Before `start` the turns run backwards, so the member before the first is the last
    member: a rota never leaves a gap.
    """
    turn = (local - rotation.start) // rotation.every
    return rotation.members[turn % len(rotation.members)]


def override_at(oncall: Oncall, local: datetime) -> str | None:
    """The person an override puts on call at naive local time `local`, if any."""
    for override in reversed(oncall.overrides):
        if override.start <= local < override.end:
            return override.person
    return None


def oncall_at(oncall: Oncall, at: datetime) -> str | None:
    """The id of the person on call at `at` (aware), or None when nobody is (no rotation and
    no override covering `at`)."""
    local = local_time(oncall, at)
    person = override_at(oncall, local)
    if person is not None:
        return person
    if oncall.rotation is None or not oncall.rotation.members:
        return None
    return rotation_member(oncall.rotation, local)
