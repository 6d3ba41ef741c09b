"""Reading composed YAML nodes while collecting every problem with its position.

The loader works on `yaml.compose` nodes rather than loaded Python values so that each problem
can name the line and column of the key or value at fault. Nothing here knows the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

T = TypeVar("T")

NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"
# Anchors let a small file stand for a huge tree (the same site list under every customer);
# past this many mapping entries read, beyond one per character of the file, give up rather
# than grind. A file without aliases cannot reach it: every entry takes characters of its own
# (so 100,000 sites in a 10 MB file load), while an alias bomb expands far past its length.
MAX_ENTRIES = 200_000

_ENV_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_URL_PASSWORD = re.compile(r"(://[^/@:\s]*:)[^/@\s]*@")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the checks file, at a 1-based line and column."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class ConfigError(Exception):
    """The checks file is unusable; `problems` lists every problem found, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Invalid(Exception):
    """Raised by a value reader; the caller records it as a Problem and carries on."""

    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


class TooBig(Exception):
    """The tree behind the anchors is too large to read."""


def shorten(text: str, limit: int = 60) -> str:
    """Text to quote in a message: long values are cut, so one problem stays one line."""
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"'{shorten(str(node.value))}'"


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def peek(node: Node | None, key: str) -> Node | None:
    """The value under `key` in a mapping, without reading or reporting anything."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return value_node
    return None


class Context:
    """The file being read: where problems go, and the environment for `${VAR}`."""

    def __init__(self, file: str, env: Mapping[str, str], text_length: int = 0) -> None:
        self.file = file
        self.env = env
        self.problems: list[Problem] = []
        self._entries = 0
        self._max_entries = MAX_ENTRIES + text_length

    # -- problems ----------------------------------------------------------------------------

    def add(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.file, mark.line + 1, mark.column + 1, message))

    def sorted_problems(self) -> list[Problem]:
        unique = dict.fromkeys(self.problems)
        return sorted(unique, key=lambda p: (p.line, p.col))

    # -- scalars -----------------------------------------------------------------------------

    def text(self, node: Node, what: str) -> str:
        """The scalar's text with `${VAR}` expanded; raises Invalid for a list or mapping."""
        if not isinstance(node, ScalarNode):
            raise Invalid(node, f"{what} must be a single value, not {kind(node)}")
        return _ENV_REF.sub(lambda m: self._env_value(node, m), node.value)

    def _env_value(self, node: Node, match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if name is None or not _ENV_NAME.fullmatch(name):
            raise Invalid(node, "bad ${...} reference: write ${NAME}, or $${ for a literal ${")
        if name not in self.env:
            raise Invalid(node, f"environment variable {name} is not set")
        if not self.env[name].strip():
            # `PORT=` would make `http://host:${PORT}/` read as `http://host:/`.
            raise Invalid(node, f"environment variable {name} is empty")
        return self.env[name]

    def value(self, node: Node, parse: Callable[[str], T], what: str = "value") -> T | None:
        """Parse a scalar with `parse` (which raises ValueError); None after recording a problem."""
        try:
            text = self.text(node, what)
            try:
                return parse(text)
            except ValueError as error:
                # Quote the value as read, with where it came from when the environment gave
                # it: `bad phone number '07700 900001' (from ${DESK_PHONE})`. A password in a
                # URL is masked; the readers of secrets (passwords, header values, webhook
                # secrets) never quote the value.
                raw = node.value if isinstance(node, ScalarNode) else text
                masked = _URL_PASSWORD.sub(r"\1***@", text)
                shown = f"'{shorten(masked)}'"
                if raw != text:
                    shown += f" (from {shorten(raw)})"
                message = str(error).replace(f"'{text}'", shown)
                raise Invalid(node, message) from None
        except Invalid as problem:
            self.add(problem.node, problem.message)
            return None

    # -- collections -------------------------------------------------------------------------

    def seq(self, node: Node | None, what: str) -> list[Node] | None:
        """The items of a list (empty for absent or null); None after recording a problem."""
        if node is None or is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            self.add(node, f"{what} must be a list, not {kind(node)}")
            return None
        return list(node.value)

    def key(self, key_node: Node, parse: Callable[[str], T]) -> T | None:
        """Parse a mapping key; keys are names, so no `${VAR}` expansion."""
        try:
            return parse(key_node.value)
        except ValueError as error:
            shown = shorten(key_node.value)
            self.add(key_node, str(error).replace(f"'{key_node.value}'", f"'{shown}'"))
            return None

    def one_or_many(self, node: Node) -> list[Node]:
        """A list's items, or the value itself when a single value stands for a list of one."""
        if isinstance(node, SequenceNode):
            return list(node.value)
        return [node]

    def entries(self, node: Node | None, what: str) -> list[tuple[str, Node, Node]] | None:
        """A mapping's (key, key node, value node), merges applied, each key once.

        Duplicate keys, keys that are not plain names and merges of non-mappings are recorded
        as problems. None (after recording) when `node` is not a mapping; absent or null is
        empty.
        """
        if node is None or is_null(node):
            return []
        if not isinstance(node, MappingNode):
            self.add(node, f"{what} must be a mapping of keys to values, not {kind(node)}")
            return None
        result: list[tuple[str, Node, Node]] = []
        seen: dict[str, Node] = {}
        for key_node, value_node, explicit in self._pairs(node, set()):
            self._entries += 1
            if self._entries > self._max_entries:
                raise TooBig
            if not isinstance(key_node, ScalarNode) or is_null(key_node):
                self.add(key_node, f"a key in {what} must be a name, not {kind(key_node)}")
                continue
            key = key_node.value
            if key in seen:
                if explicit:
                    first = seen[key].start_mark.line + 1
                    self.add(
                        key_node,
                        f"duplicate key '{shorten(key)}' in {what} (first at line {first})",
                    )
                continue
            seen[key] = key_node
            result.append((key, key_node, value_node))
        return result

    def _pairs(self, node: MappingNode, visited: set[int]) -> Iterator[tuple[Node, Node, bool]]:
        """Own pairs first, then merged ones (`<<`); each merged mapping is read once."""
        visited.add(id(node))
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == MERGE_TAG:
                merges.extend(self.one_or_many(value_node))
            else:
                yield key_node, value_node, True
        for source in merges:
            if not isinstance(source, MappingNode):
                self.add(source, "'<<' must merge a mapping or a list of mappings")
            elif id(source) not in visited:
                for key_node, value_node, _ in self._pairs(source, visited):
                    yield key_node, value_node, False


class Section:
    """A mapping read against a fixed set of keys.

    Unknown keys are reported at the key, missing required keys at the mapping. `get` returns
    None for a key that is absent or explicitly null, so optional keys read the same either way.
    """

    def __init__(
        self,
        ctx: Context,
        node: Node,
        what: str,
        keys: Sequence[str],
        required: Sequence[str] = (),
    ) -> None:
        self.ctx = ctx
        self.node = node
        self.what = what
        self.ok = True
        self._values: dict[str, Node] = {}
        self._keys: dict[str, Node] = {}
        entries = ctx.entries(node, what)
        if entries is None:
            self.ok = False
            return
        for key, key_node, value_node in entries:
            if key not in keys:
                expected = ", ".join(keys)
                ctx.add(
                    key_node, f"unknown key '{shorten(key)}' in {what}; expected one of: {expected}"
                )
                continue
            self._keys[key] = key_node
            self._values[key] = value_node
        for key in required:
            if key not in self._values:
                ctx.add(node, f"{what} is missing '{key}'")
            elif is_null(self._values[key]):
                ctx.add(self._keys[key], f"'{key}' in {what} needs a value")

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def get(self, key: str) -> Node | None:
        node = self._values.get(key)
        if node is None or is_null(node):
            return None
        return node

    def value(self, key: str, parse: Callable[[str], T]) -> T | None:
        node = self.get(key)
        if node is None:
            return None
        return self.ctx.value(node, parse, f"'{key}' in {self.what}")
