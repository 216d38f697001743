"""In-memory matcher: the crawl-time filter. A term matches as a contiguous folded substring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from yuqing.query.ast import And, MatchAll, Node, Not, Or, Term
from yuqing.query.normalize import normalize

Predicate = Callable[[str], bool]


def _compile(node: Node) -> Predicate:
    if isinstance(node, Term):
        needle = normalize(node.text)
        return lambda text: needle in text
    if isinstance(node, And):
        parts = [_compile(c) for c in node.children]
        return lambda text: all(p(text) for p in parts)
    if isinstance(node, Or):
        parts = [_compile(c) for c in node.children]
        return lambda text: any(p(text) for p in parts)
    if isinstance(node, Not):
        inner = _compile(node.child)
        return lambda text: not inner(text)
    if isinstance(node, MatchAll):
        return lambda text: True
    raise TypeError(f"unknown node {node!r}")


@dataclass
class Matcher:
    node: Node
    _pred: Predicate

    def matches_text(self, text: str) -> bool:
        """Match already-folded text (see normalize)."""
        return self._pred(text)

    def matches(self, title: str | None, text: str | None) -> bool:
        return self._pred(normalize(f"{title or ''}\n{text or ''}"))


def compile_matcher(node: Node) -> Matcher:
    return Matcher(node, _compile(node))
