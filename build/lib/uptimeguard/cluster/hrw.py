"""Rendezvous (highest random weight) hashing: which live node of a location probes a site.

Every node computes the same answer from the same list of live nodes, with no coordination:
each (node, site) pair gets a pseudo-random weight and the site goes to the node of highest
weight. When a node dies only its own sites move (each to the node that weighs next for it);
when one joins it takes about 1/n of every other node's sites and nothing else moves. Pure.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable
from hashlib import blake2b

# splitmix64's finaliser: mixes a node's and a site's hashes into one well-spread weight, so
# that the expensive hash is computed once per site and once per node, not once per pair.
_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    value = (value ^ (value >> 27)) * 0x94D049BB133111EB & _MASK
    return value ^ (value >> 31)


def stable_hash(text: str) -> int:
    """A 64-bit hash of `text`, the same in every process (unlike `hash()`)."""
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big")


def site_hash(key: Hashable) -> int:
    """The site's half of the weight: `key` is (customer, site)."""
    if isinstance(key, tuple):
        return stable_hash("\x00".join(str(part) for part in key))
    return stable_hash(str(key))


def weight(node: str, key: Hashable) -> int:
    return _mix(stable_hash(node) ^ site_hash(key))


def owner(key: Hashable, nodes: Collection[str]) -> str | None:
    """The node that probes `key` among `nodes` (None when there are none). Ties, which need a
    64-bit collision, go to the first name in sorted order."""
    if not nodes:
        return None
    site = site_hash(key)
    return max(sorted(nodes), key=lambda node: _mix(stable_hash(node) ^ site))


def assign(keys: Iterable[Hashable], nodes: Collection[str]) -> dict[Hashable, str]:
    """The owner of every key among `nodes` (empty when there are no nodes)."""
    ordered = sorted(nodes)
    if not ordered:
        return {}
    hashes = [(stable_hash(node), node) for node in ordered]
    result: dict[Hashable, str] = {}
    for key in keys:
        site = site_hash(key)
        best_node, best = ordered[0], -1
        for node_hash, node in hashes:
            w = _mix(node_hash ^ site)
            if w > best:
                best, best_node = w, node
        result[key] = best_node
    return result
