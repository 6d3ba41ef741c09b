"""Anchors and aliases: how big the tree behind them is, measured before anything is read.

`yaml.compose` never copies an aliased node: `*a` is the very node `&a` names, so ten lines
can stand for a tree of billions of entries (a "billion laughs"). Reading walks that tree, so
its size is counted first on the composed graph, each node's size computed once: the cost is
the number of distinct nodes, whatever the aliases multiply them to.
"""

from __future__ import annotations

from yaml.nodes import CollectionNode, MappingNode, Node

from uptimeguard.config._yamlnodes import TooBig

# What aliases may add to the tree, beyond the nodes the file spells out: this many, plus
# three times the file's own nodes (a shared `<<: *defaults` in every site stays far below).
ALIAS_ALLOWANCE = 100_000
ALIAS_FACTOR = 3


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, CollectionNode):
        return list(node.value)
    return []


def tree_size(root: Node) -> tuple[int, int]:
    """(distinct nodes, nodes of the tree with every alias expanded); TooBig for a cycle."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise TooBig  # the node contains itself: an endless tree
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return len(sizes), sizes[id(root)]


def check_expansion(root: Node | None) -> None:
    """TooBig when aliases make the tree far bigger than the file."""
    if root is None:
        return
    distinct, expanded = tree_size(root)
    if expanded > distinct * (1 + ALIAS_FACTOR) + ALIAS_ALLOWANCE:
        raise TooBig
