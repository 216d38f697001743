"""The keyword-language AST and the request filters compiled to tantivy queries.

The ``folded`` field is tokenised one character per token with consecutive positions, and the
``folded_bi`` field holds the overlapping character bigrams of the same text, also at
consecutive positions. A term (folded the same way) is a contiguous-substring match, exactly the
in-memory matcher's semantics: one character → a term on ``folded``; two → one bigram term;
longer → a phrase of the bigrams that cover it (see ``covering_bigrams``). Bigram postings are
far sparser than those of single common characters (女, 部, 关 …), which keeps multi-character
phrase queries fast at a million posts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from search.documents import FOLDED
from search.types import SearchRequest
from yuqing.query import And, Node, Not, Or, Term, normalize
from yuqing.query.ast import MatchAll

FOLDED_BI = "folded_bi"
TIME_BUCKET = "t_hour"  # whole hours since the Unix epoch (UTC) of published_at: indexed terms only
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR = timedelta(hours=1)
BUCKET_SPAN_MAX = timedelta(days=45)  # longer time ranges: published_at alone (measured crossover)
CHAR_TOKENIZER = "yq_chars"
BIGRAM_TOKENIZER = "whitespace"  # folded_bi is pre-split: bigrams joined by spaces
_SPACE = "\u2423"  # ␣ stands for whitespace inside a bigram, so the whitespace tokenizer keeps it whole


def bigrams(folded: str) -> list[str]:
    text = "".join(_SPACE if ch.isspace() else ch for ch in folded)
    return [text[i:i + 2] for i in range(len(text) - 1)]


def bigram_text(folded: str) -> str:
    """The value indexed in ``folded_bi``: overlapping bigrams separated by spaces."""
    return " ".join(bigrams(folded))


def hour_bucket(when: datetime) -> int:
    """The ``t_hour`` term of a time: whole hours since the epoch, rounded down (exact integers)."""
    return (when - _EPOCH) // _HOUR


def char_analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"(?s).")).build()


def covering_bigrams(needle: str) -> list[tuple[int, str]]:
    """The fewest bigrams of ``needle`` (2+ characters), with their offsets, that cover every
    character: every other bigram plus the last one. ``folded_bi`` holds the bigram starting at
    each character at that character's position, so these bigrams at these relative positions
    match exactly where the whole needle occurs; leaving out the overlapping ones halves the
    postings a long term's phrase query has to intersect."""
    grams = bigrams(needle)
    offsets = list(range(0, len(grams), 2))
    if offsets[-1] != len(grams) - 1:
        offsets.append(len(grams) - 1)
    return [(i, grams[i]) for i in offsets]


def _and_clauses(schema: tantivy.Schema, node: And) -> list[tuple[Occur, Query]]:
    clauses: list[tuple[Occur, Query]] = []
    for child in node.children:
        if isinstance(child, Not):
            clauses.append((Occur.MustNot, compile_node(schema, child.child)))
        else:
            clauses.append((Occur.Must, compile_node(schema, child)))
    if all(occ == Occur.MustNot for occ, _ in clauses):
        clauses.append((Occur.Must, Query.all_query()))
    return clauses


def compile_node(schema: tantivy.Schema, node: Node) -> Query:
    if isinstance(node, Term):
        needle = normalize(node.text)
        if not needle:
            return Query.all_query()
        if len(needle) == 1:
            return Query.term_query(schema, FOLDED, needle)
        grams = covering_bigrams(needle)
        if len(grams) == 1:
            return Query.term_query(schema, FOLDED_BI, grams[0][1])
        words: list[str | tuple[int, str]] = list(grams)
        return Query.phrase_query(schema, FOLDED_BI, words)
    if isinstance(node, And):
        return Query.boolean_query(_and_clauses(schema, node))
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


def filter_queries(schema: tantivy.Schema, req: SearchRequest, coarse_time: bool = True) -> list[Query]:
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
        out += time_filter(schema, req.since, req.until, coarse=coarse_time)
    return out


def _aligned(when: datetime) -> bool:
    return (when - _EPOCH) % _HOUR == timedelta(0)


def time_filter(schema: tantivy.Schema, since: datetime | None, until: datetime | None,
                now: datetime | None = None, coarse: bool = True) -> list[Query]:
    """``since <= published_at < until`` (either side may be open) as clauses to AND together.

    The exact test is a range over the ``published_at`` fast field, which tantivy never picks to
    drive an intersection (it costs a column scan), so the text clauses drive and a two-term query
    walks every post holding both terms whatever the time range. A range of at most
    ``BUCKET_SPAN_MAX`` therefore also (or, with whole-hour bounds, only) gets the hour buckets it
    covers as an inverted-index range over ``t_hour``: a few hundred terms whose postings make a
    cheap bitset that drives the intersection. ``now`` only bounds an open ``until`` when choosing
    the plan; it never changes the result. ``coarse=False`` (for a query that another, rarer clause
    drives anyway) skips the buckets: building their bitset costs milliseconds per search.
    """
    exact = Query.range_query(schema, "published_at", FieldType.Date, since, until,
                              include_lower=True, include_upper=until is None)
    end = until if until is not None else (now or datetime.now(UTC))
    if not coarse or since is None or end - since > BUCKET_SPAN_MAX:
        return [exact]
    lo = hour_bucket(since)
    hi = None if until is None else hour_bucket(until) - (1 if _aligned(until) else 0)
    buckets = Query.range_query(schema, TIME_BUCKET, FieldType.Integer, lo, hi, use_inverted_index=True)
    if _aligned(since) and (until is None or _aligned(until)):
        return [buckets]
    return [buckets, exact]


def build_query(schema: tantivy.Schema, req: SearchRequest, node: Node, coarse_time: bool = True) -> Query:
    filters = filter_queries(schema, req, coarse_time)
    if not filters:
        return compile_node(schema, node)
    # an AND's clauses go next to the filters, in one boolean query: tantivy drives an intersection
    # by its cheapest clause, and a nested boolean would hide its own clauses from that choice
    main = _and_clauses(schema, node) if isinstance(node, And) else [(Occur.Must, compile_node(schema, node))]
    return Query.boolean_query(main + [(Occur.Must, Query.const_score_query(f, 0.0)) for f in filters])
