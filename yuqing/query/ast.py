"""AST of the keyword language. Nodes are immutable and hashable."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A word or a quoted phrase; both match as one contiguous string (after normalisation)."""

    text: str
    phrase: bool = False

    def __str__(self) -> str:
        return f'"{self.text}"' if self.phrase or " " in self.text else self.text


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " AND ".join(str(c) for c in self.children) + ")"


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " OR ".join(str(c) for c in self.children) + ")"


@dataclass(frozen=True)
class Not:
    child: Node

    def __str__(self) -> str:
        return f"NOT {self.child}"


@dataclass(frozen=True)
class MatchAll:
    """The empty query: matches everything (a search with filters only)."""

    def __str__(self) -> str:
        return "*"


Node = Term | And | Or | Not | MatchAll


def terms(node: Node, positive_only: bool = True) -> Iterator[Term]:
    """Every term of the tree (for highlighting); under NOT skipped unless positive_only=False."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from terms(child, positive_only)
    elif isinstance(node, Not) and not positive_only:
        yield from terms(node.child, positive_only)


def and_(*nodes: Node) -> Node:
    flat: list[Node] = []
    for n in nodes:
        if isinstance(n, MatchAll):
            continue
        flat.extend(n.children if isinstance(n, And) else (n,))
    if not flat:
        return MatchAll()
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def or_(*nodes: Node) -> Node:
    flat: list[Node] = []
    for n in nodes:
        flat.extend(n.children if isinstance(n, Or) else (n,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))
