"""The `people` and `oncall` sections of the checks file, and who a `notify` may name."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from yaml.nodes import Node

from uptimeguard.config import parsers as p
from uptimeguard.config._yamlnodes import Context, Section, shorten
from uptimeguard.config.durations import parse_duration
from uptimeguard.config.models import (
    ROLES,
    EscalationStep,
    Oncall,
    Override,
    Person,
    Rotation,
)

PERSON_KEYS = ("name", "phone", "role", "max_pages_per_hour")
ONCALL_KEYS = (
    "timezone", "rotation", "overrides", "desk", "escalation", "repeat", "ack_timeout",
)  # fmt: skip
ROTATION_KEYS = ("members", "start", "every")
OVERRIDE_KEYS = ("person", "from", "to")
STEP_KEYS = ("notify", "via", "then_wait")
ONCALL = "oncall"


# -- people -----------------------------------------------------------------------------------


def read_people(ctx: Context, node: Node | None) -> dict[str, Person | None]:
    result: dict[str, Person | None] = {}
    for key, key_node, value in ctx.entries(node, "people") or []:
        result[key] = _person(ctx, key, key_node, value)
    return result


def _person(ctx: Context, key: str, key_node: Node, node: Node) -> Person | None:
    person_id = ctx.key(key_node, p.parse_id)
    if key == ONCALL or key in ROLES:
        ctx.add(key_node, f"person id '{key}' is reserved: it names a role or the on-call rota")
        person_id = None
    s = Section(ctx, node, f"person '{shorten(key)}'", PERSON_KEYS, required=("name", "phone"))
    name = s.value("name", p.parse_name)
    phone = s.value("phone", p.parse_phone)
    role = s.value("role", p.parse_role)
    limit = s.value("max_pages_per_hour", p.int_parser(1, 1000))
    if person_id is None:
        return None
    # Kept even when a field is bad (the problem is recorded, so the config is never built):
    # `notify: support_manager` must still find the role rather than report a second problem.
    return Person(person_id, name or "", phone or "", role, 20 if limit is None else limit)


def notify_parser(people: Mapping[str, Person | None], *, rota: bool) -> Callable[[str], str]:
    """`oncall`, a role somebody holds, or a person id."""

    def parse(text: str) -> str:
        if text == ONCALL:
            if not rota:
                raise ValueError("notify 'oncall' needs an oncall rotation")
            return text
        if text in ROLES:
            if not any(person and person.role == text for person in people.values()):
                raise ValueError(f"no one in people has role '{text}'")
            return text
        if text in people:
            return text
        names = ", ".join(people) or "none defined"
        raise ValueError(
            f"unknown notify '{text}': use oncall, a role ({', '.join(ROLES)}) "
            f"or a person ({names})"
        )

    return parse


# -- on call ----------------------------------------------------------------------------------


def read_oncall(
    ctx: Context, node: Node | None, people: Mapping[str, Person | None]
) -> Oncall | None:
    if node is None:
        return None
    s = Section(ctx, node, "oncall", ONCALL_KEYS, required=("timezone",))
    person = p.known("person", people)
    timezone = s.value("timezone", p.parse_timezone)
    rotation = _rotation(ctx, s.get("rotation"), person)
    overrides = [
        _override(ctx, item, person)
        for item in _items(ctx, s.get("overrides"), "overrides of oncall")
    ]
    desk_phone = desk_email = None
    desk_node = s.get("desk")
    if desk_node is not None:
        desk = Section(ctx, desk_node, "oncall desk", ("phone", "email"))
        if desk.ok and not (desk.has("phone") or desk.has("email")):
            ctx.add(desk_node, "oncall desk needs a phone, an email or both")
        desk_phone = desk.value("phone", p.parse_phone)
        desk_email = desk.value("email", p.parse_email)
    notify = notify_parser(people, rota=s.has("rotation"))
    ladder = _items(ctx, s.get("escalation"), "escalation of oncall")
    steps = [_step(ctx, item, notify, i == len(ladder) - 1) for i, item in enumerate(ladder)]
    repeat = s.value("repeat", p.int_parser(0, 100))
    ack_timeout = s.value("ack_timeout", parse_duration)
    if timezone is None or None in overrides or None in steps:
        return None
    if s.has("ack_timeout") and ack_timeout is None:
        return None
    return Oncall(
        timezone=timezone,
        rotation=rotation,
        overrides=tuple(o for o in overrides if o),
        desk_phone=desk_phone,
        escalation=tuple(step for step in steps if step),
        repeat=repeat or 0,
        desk_email=desk_email,
        ack_timeout=ack_timeout,
    )


def _items(ctx: Context, node: Node | None, what: str) -> list[Node]:
    return ctx.seq(node, what) or []


def _rotation(ctx: Context, node: Node | None, person: Callable[[str], str]) -> Rotation | None:
    if node is None:
        return None
    s = Section(ctx, node, "oncall rotation", ROTATION_KEYS, required=("members", "start", "every"))
    members_node = s.get("members")
    members = [ctx.value(n, person, "a member") for n in _items(ctx, members_node, "members")]
    if members_node is not None and not members:
        ctx.add(members_node, "the rotation needs at least one member")
    start = s.value("start", p.parse_local_datetime)
    every = s.value("every", parse_duration)
    if not members or None in members or start is None or every is None:
        return None
    return Rotation(tuple(m for m in members if m), start, every)


def _override(ctx: Context, node: Node, person: Callable[[str], str]) -> Override | None:
    s = Section(ctx, node, "an oncall override", OVERRIDE_KEYS, required=("person", "from", "to"))
    who = s.value("person", person)
    start = s.value("from", p.parse_local_datetime)
    end = s.value("to", p.parse_local_datetime)
    if start is not None and end is not None and end <= start:
        ctx.add(s.get("to") or node, "an override's 'to' must be after its 'from'")
        return None
    if who is None or start is None or end is None:
        return None
    return Override(who, start, end)


def _step(
    ctx: Context, node: Node, notify: Callable[[str], str], last: bool
) -> EscalationStep | None:
    s = Section(ctx, node, "an escalation step", STEP_KEYS, required=("notify",))
    who = s.value("notify", notify)
    via_node = s.get("via")
    via = (
        [ctx.value(n, p.parse_channel, "via") for n in ctx.one_or_many(via_node)]
        if via_node is not None
        else ["sms"]
    )
    wait = s.value("then_wait", parse_duration)
    if not last and not s.has("then_wait") and s.ok:
        ctx.add(node, "an escalation step needs 'then_wait' unless it is the last")
        return None
    if who is None or not via or None in via or (s.has("then_wait") and wait is None):
        if not via and via_node is not None:
            ctx.add(via_node, "'via' needs at least one channel: sms or voice")
        return None
    return EscalationStep(who, tuple(dict.fromkeys(v for v in via if v)), wait)
