"""The pure parts of sharing the work: rendezvous hashing, membership on a clock, and when a
node taking a site over probes it first."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from uptimeguard.cluster.handover import Handover, first_probe, last_slot, next_slot
from uptimeguard.cluster.hrw import assign, owner
from uptimeguard.cluster.membership import Member, live_names, next_death

KEYS = [("acme", f"site{n}") for n in range(3000)]
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_every_site_has_one_owner_and_the_split_is_even() -> None:
    owners = assign(KEYS, {"a", "b", "c"})
    assert set(owners) == set(KEYS)
    counts = Counter(owners.values())
    assert set(counts) == {"a", "b", "c"}
    assert all(900 < n < 1100 for n in counts.values()), counts
    assert all(owner(key, {"a", "b", "c"}) == owners[key] for key in KEYS[:100])


def test_the_same_answer_whatever_the_order_or_the_process() -> None:
    assert assign(KEYS[:50], ["c", "a", "b"]) == assign(KEYS[:50], {"b", "c", "a"})
    # Fixed values: the hash is the same in every process (not Python's salted hash()).
    assert owner(("acme", "www"), {"a", "b", "c"}) == owner(("acme", "www"), ["a", "b", "c"])
    assert assign([], {"a"}) == {} and assign(KEYS[:3], set()) == {}


def test_a_death_moves_only_the_dead_nodes_sites() -> None:
    before = assign(KEYS, {"a", "b", "c"})
    after = assign(KEYS, {"a", "b"})
    moved = {key for key in KEYS if before[key] != after[key]}
    assert moved == {key for key in KEYS if before[key] == "c"}


def test_a_join_takes_about_a_share_from_each_and_nothing_else_moves() -> None:
    before = assign(KEYS, {"a", "b"})
    after = assign(KEYS, {"a", "b", "c"})
    moved = [key for key in KEYS if before[key] != after[key]]
    assert all(after[key] == "c" for key in moved)
    assert 900 < len(moved) < 1100
    assert Counter(before[key] for key in moved).keys() == {"a", "b"}


def member(name: str, location: str, beat: datetime, **kwargs: object) -> Member:
    return Member(name, location, T0, beat, timedelta(seconds=15), **kwargs)  # type: ignore[arg-type]


def test_a_node_dies_exactly_its_timeout_after_its_last_heartbeat() -> None:
    a = member("a", "eu", T0)
    assert a.alive(T0 + timedelta(seconds=14.999))
    assert not a.alive(T0 + timedelta(seconds=15))
    stopped = member("b", "eu", T0, stopped_at=T0 + timedelta(seconds=2))
    assert not stopped.alive(T0 + timedelta(seconds=2))
    nodes = [a, stopped, member("c", "us", T0 + timedelta(seconds=5))]
    assert live_names(nodes, "eu", T0 + timedelta(seconds=1)) == {"a", "b"}
    assert live_names(nodes, "eu", T0 + timedelta(seconds=3)) == {"a"}
    assert next_death(nodes, T0 + timedelta(seconds=3)) == T0 + timedelta(seconds=15)
    assert next_death(nodes, T0 + timedelta(seconds=16)) == T0 + timedelta(seconds=20)


def test_slots_keep_the_phase() -> None:
    assert next_slot(7.0, 300.0, 1000.0) == 1207.0
    assert next_slot(7.0, 300.0, 1207.0) == 1207.0
    assert last_slot(7.0, 300.0, 1206.0) == 907.0
    assert last_slot(7.0, 300.0, 1207.0) == 1207.0


def test_from_a_live_owner_wait_for_it_to_stop_but_skip_no_slot() -> None:
    # Next slot at 1207; the old owner stops by 1003: the slot is kept.
    assert first_probe(Handover(not_before=1003.0), 7.0, 300.0, 1000.0) == 1207.0
    # The slot falls before the old owner is sure to have stopped: probe then, a little late.
    assert first_probe(Handover(not_before=1003.0), 101.0, 300.0, 1000.0) == 1003.0
    # A failing site: once the old owner's recheck in flight has ended.
    assert first_probe(Handover(not_before=1003.0), 7.0, 300.0, 1000.0, True, 10.0) == 1013.0


def test_from_a_dead_owner_probe_missed_slots_now() -> None:
    # It died after its last heartbeat at 950: the slot at 907 was probed, the next is kept.
    assert first_probe(Handover(missed_since=950.0), 7.0, 300.0, 1000.0) == 1207.0
    # The slot at 967 may have been missed: probe now.
    assert first_probe(Handover(missed_since=950.0), 67.0, 300.0, 1000.0) == 1000.0
    assert first_probe(Handover(missed_since=950.0), 7.0, 300.0, 1000.0, failing=True) == 1000.0
    assert first_probe(Handover(), 7.0, 300.0, 1000.0) == 1207.0
