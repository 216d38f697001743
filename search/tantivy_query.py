"""The keyword-language AST and the request filters compiled to tantivy queries.

The ``folded`` field is tokenised one character per token with consecutive positions, and the
``folded_bi`` field holds the overlapping character bigrams of the same text, also at
consecutive positions. A term (folded the same way) is a contiguous-substring match, exactly the
in-memory matcher's semantics: one character → a term on ``folded``; two → one bigram term;
longer → a phrase of its bigrams. Bigram postings are far sparser than those of single common
characters (女, 部, 关 …), which keeps multi-character phrase queries fast at a million posts.
"""

from __future__ import annotations

from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from search.documents import FOLDED
from search.types import SearchRequest
from yuqing.query import And, Node, Not, Or, Term, normalize
from yuqing.query.ast import MatchAll

FOLDED_BI = "folded_bi"
CHAR_TOKENIZER = "yq_chars"
BIGRAM_TOKENIZER = "whitespace"  # folded_bi is pre-split: bigrams joined by spaces
_SPACE = "\u2423"  # ␣ stands for whitespace inside a bigram, so the whitespace tokenizer keeps it whole


def bigrams(folded: str) -> list[str]:
    text = "".join(_SPACE if ch.isspace() else ch for ch in folded)
    return [text[i:i + 2] for i in range(len(text) - 1)]


def bigram_text(folded: str) -> str:
    """The value indexed in ``folded_bi``: overlapping bigrams separated by spaces."""
    return " ".join(bigrams(folded))


def char_analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"(?s).")).build()


def compile_node(schema: tantivy.Schema, node: Node) -> Query:
    if isinstance(node, Term):
        needle = normalize(node.text)
        if not needle:
            return Query.all_query()
        if len(needle) == 1:
            return Query.term_query(schema, FOLDED, needle)
        grams = bigrams(needle)
        if len(grams) == 1:
            return Query.term_query(schema, FOLDED_BI, grams[0])
        return Query.phrase_query(schema, FOLDED_BI, grams)
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
