"""The keyword-language AST and the request filters compiled to tantivy queries.

The ``folded`` field is tokenised one character per token with consecutive positions, so a
term (folded the same way) is a phrase of its characters: a contiguous-substring match, exactly
the in-memory matcher's semantics.
"""

from __future__ import annotations

from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from search.documents import FOLDED
from search.types import SearchRequest
from yuqing.query import And, Node, Not, Or, Term, normalize
from yuqing.query.ast import MatchAll

CHAR_TOKENIZER = "yq_chars"


def char_analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"(?s).")).build()


def compile_node(schema: tantivy.Schema, node: Node) -> Query:
    if isinstance(node, Term):
        needle = normalize(node.text)
        if not needle:
            return Query.all_query()
        if len(needle) == 1:
            return Query.term_query(schema, FOLDED, needle)
        return Query.phrase_query(schema, FOLDED, list(needle))
    if isinstance(node, And):
        clauses: list[tuple[Occur, Query]] = []
        for child in node.children:
            if isinstance(child, Not):
                clauses.append((Occur.MustNot, compile_node(schema, child.child)))
            else:
                clauses.append((Occur.Must, compile_node(schema, child)))
        if all(occ == Occur.MustNot for occ, _ in clauses):
            clauses.append((Occur.Must, Query.all_query()))
        return Query.boolean_query(clauses)
    if isinstance(node, Or):
        return Query.boolean_query([(Occur.Should, compile_node(schema, c)) for c in node.children])
    if isinstance(node, Not):
        return Query.boolean_query([(Occur.Must, Query.all_query()),
                                    (Occur.MustNot, compile_node(schema, node.child))])
    if isinstance(node, MatchAll):
        return Query.all_query()
    raise TypeError(f"unknown node {node!r}")


def _one_of(schema: tantivy.Schema, field: str, values: list[Any]) -> Query:
    if len(values) == 1:
        return Query.term_query(schema, field, values[0])
    return Query.term_set_query(schema, field, values)


def filter_queries(schema: tantivy.Schema, req: SearchRequest) -> list[Query]:
    out: list[Query] = []
    if req.categories:
        out.append(_one_of(schema, "category", list(req.categories)))
    if req.platforms:
        out.append(_one_of(schema, "platform", list(req.platforms)))
    if req.author:
        out.append(Query.term_query(schema, "author", req.author))
    if req.scheme:
        out.append(Query.term_query(schema, "keywords", req.scheme))
    if req.incident_id is not None:
        out.append(Query.term_query(schema, "incident_ids", int(req.incident_id)))
    if req.severity_min is not None:
        out.append(Query.range_query(schema, "severity", FieldType.Integer, int(req.severity_min), None))
    if req.since or req.until:
        out.append(Query.range_query(schema, "published_at", FieldType.Date, req.since, req.until,
                                     include_lower=True, include_upper=req.until is None))
    return out


def build_query(schema: tantivy.Schema, req: SearchRequest, node: Node) -> Query:
    filters = filter_queries(schema, req)
    main = compile_node(schema, node)
    if not filters:
        return main
    return Query.boolean_query([(Occur.Must, main)] + [(Occur.Must, Query.const_score_query(f, 0.0))
                                                       for f in filters])
