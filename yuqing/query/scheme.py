"""Keyword schemes (关键词方案) to the query AST, and matching a post against all schemes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from yuqing.query.ast import MatchAll, Node, Not, and_, or_
from yuqing.query.matcher import Matcher, compile_matcher
from yuqing.query.normalize import normalize
from yuqing.query.parser import QuerySyntaxError, parse
from yuqing.settings import KeywordScheme

GROUPS = (("subject", "主体词"), ("region", "地域词"), ("person", "人物词"), ("event", "事件词"))
SCHEME_MAX_CHARS = 10_000  # one entry of a scheme (a word or an expression) written by an admin


def _entry(scheme: KeywordScheme, group: str, index: int, text: str) -> Node:
    try:
        return parse(text, max_length=SCHEME_MAX_CHARS)
    except QuerySyntaxError as exc:
        raise QuerySyntaxError(exc.query, exc.position,
                               f"关键词方案“{scheme.name}”的 {group}[{index}]: {exc.reason}") from None


def scheme_to_ast(scheme: KeywordScheme) -> Node:
    """OR inside a group, AND across non-empty groups, NOT any exclusion."""
    required: list[Node] = []
    for field, _zh in GROUPS:
        words = getattr(scheme, field)
        if words:
            required.append(or_(*(_entry(scheme, field, i, w) for i, w in enumerate(words))))
    if scheme.expression:
        required.append(_entry(scheme, "expression", 0, scheme.expression))
    node = and_(*required)
    if scheme.exclude:
        excluded = or_(*(_entry(scheme, "exclude", i, w) for i, w in enumerate(scheme.exclude)))
        node = and_(node, Not(excluded)) if not isinstance(node, MatchAll) else Not(excluded)
    return node


@dataclass
class SchemeMatcher:
    """Matches a post's title + text against every scheme; returns the names that matched."""

    matchers: list[tuple[str, Matcher]]

    @classmethod
    def from_schemes(cls, schemes: Iterable[KeywordScheme]) -> SchemeMatcher:
        return cls([(s.name, compile_matcher(scheme_to_ast(s))) for s in schemes])

    def match(self, title: str | None, text: str | None) -> list[str]:
        folded = normalize(f"{title or ''}\n{text or ''}")
        return [name for name, m in self.matchers if m.matches_text(folded)]

    def crawl_keywords(self, schemes: Iterable[KeywordScheme]) -> list[str]:
        return crawl_keywords(schemes)


def crawl_keywords(schemes: Iterable[KeywordScheme]) -> list[str]:
    """Search words to send to a site for these schemes: the event words (else subject words)."""
    out: list[str] = []
    for s in schemes:
        for word in (s.event or s.subject or s.person or s.region):
            w = word.strip().strip('"')
            if w and w not in out:
                out.append(w)
    return out
