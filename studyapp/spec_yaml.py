"""The YAML reader behind study specs: PyYAML's safe loader, with a budget.

YAML aliases share one node, so a few lines can describe an exponentially
large document ("billion laughs": nine anchors of nine aliases each are a
billion scalars once expanded), and an alias inside its own anchor
(`&a [*a]`) describes an infinite one. Everything after the loader (the
`${ENV}` expansion, pydantic, the JSON stored with the study) walks the
expanded tree, so the budget is counted on the expanded tree while the file
is composed, before anything is expanded:

- at most `MAX_ALIASES` aliases;
- at most `MAX_NODES` nodes once every alias is expanded;
- nesting at most `MAX_DEPTH` deep, counted through aliases;
- no alias inside the node it names.

A spec over the budget fails with `YAMLBudgetError`, which carries the line.
A real spec has a few dozen aliases at most, hundreds of nodes and a depth
under ten.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["MAX_ALIASES", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "YAMLBudgetError", "load_yaml"]

MAX_BYTES = 1 << 20
MAX_ALIASES = 100
MAX_NODES = 100_000
MAX_DEPTH = 64


class YAMLBudgetError(ValueError):
    """A spec whose aliases or nesting are over the budget; `line` is 1-based."""

    def __init__(self, line: int, message: str):
        self.line, self.message = line, message
        super().__init__(f"line {line}: {message}")


class _BudgetLoader(yaml.SafeLoader):
    """Counts, for every composed node, its expanded size and height."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._aliases = 0
        self._nodes = 0  # expanded nodes composed so far
        self._open: set[str] = set()  # anchors of the nodes being composed
        self._size: dict[int, int] = {}  # id(node) -> expanded nodes in it
        self._height: dict[int, int] = {}  # id(node) -> expanded nesting below and at it
        self._children: list[int] = []  # per open node: the tallest child so far

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            return self._compose_alias(parent, index)
        event = self.peek_event()
        line = event.start_mark.line + 1
        if len(self._children) >= MAX_DEPTH:
            raise YAMLBudgetError(line, f"nested more than {MAX_DEPTH} deep")
        self._count(1, line)
        before = self._nodes
        anchor = event.anchor
        if anchor is not None:
            self._open.add(anchor)
        self._children.append(0)
        node = super().compose_node(parent, index)
        height = 1 + self._children.pop()
        if anchor is not None:
            self._open.discard(anchor)
        self._size[id(node)] = self._nodes - before + 1
        self._height[id(node)] = height
        self._grow(height)
        return node

    def _compose_alias(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if event.anchor in self._open:
            raise YAMLBudgetError(
                line, f"alias *{event.anchor} is inside the node it names (a recursive structure)"
            )
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise YAMLBudgetError(line, f"more than {MAX_ALIASES} aliases")
        node = super().compose_node(parent, index)  # the anchored node, or "undefined alias"
        height = self._height[id(node)]
        if len(self._children) + height > MAX_DEPTH:
            raise YAMLBudgetError(line, f"alias *{event.anchor} nests the spec more than {MAX_DEPTH} deep")
        self._count(self._size[id(node)], line, event.anchor)
        self._grow(height)
        return node

    def _count(self, nodes: int, line: int, alias: str | None = None) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            what = f"alias *{alias} expands the spec" if alias else "the spec grows"
            raise YAMLBudgetError(
                line,
                f"{what} to more than {MAX_NODES:,} nodes (aliases that multiply, as in 'billion laughs')",
            )

    def _grow(self, height: int) -> None:
        if self._children:
            self._children[-1] = max(self._children[-1], height)


def load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """Compose and construct one YAML document within the budget: (root node, data).

    Raises `YAMLBudgetError` over the budget and `yaml.YAMLError` for invalid YAML.
    The node tree gives line numbers for later errors.
    """
    loader = _BudgetLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data
