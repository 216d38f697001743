"""The keyword-language AST and the request filters compiled to Elasticsearch query DSL.

A term is a ``match_phrase`` on ``folded`` (one token per character, consecutive positions), so
it matches exactly when the folded term is a contiguous substring, like the in-memory matcher.
"""

from __future__ import annotations

from typing import Any

from search.documents import FOLDED
from search.types import SearchRequest
from yuqing.query import And, Node, Not, Or, Term, normalize
from yuqing.query.ast import MatchAll

MATCH_ALL: dict[str, Any] = {"match_all": {}}


def compile_node(node: Node) -> dict[str, Any]:
    if isinstance(node, Term):
        needle = normalize(node.text)
        if not needle:
            return MATCH_ALL
        return {"match_phrase": {FOLDED: needle}}
    if isinstance(node, And):
        must = [compile_node(c) for c in node.children if not isinstance(c, Not)]
        must_not = [compile_node(c.child) for c in node.children if isinstance(c, Not)]
        body: dict[str, Any] = {"must": must or [MATCH_ALL]}
        if must_not:
            body["must_not"] = must_not
        return {"bool": body}
    if isinstance(node, Or):
        return {"bool": {"should": [compile_node(c) for c in node.children], "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must": [MATCH_ALL], "must_not": [compile_node(node.child)]}}
    if isinstance(node, MatchAll):
        return MATCH_ALL
    raise TypeError(f"unknown node {node!r}")


def _one_of(field: str, values: list[Any]) -> dict[str, Any]:
    return {"term": {field: values[0]}} if len(values) == 1 else {"terms": {field: values}}


def filters(req: SearchRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if req.categories:
        out.append(_one_of("category", list(req.categories)))
    if req.platforms:
        out.append(_one_of("platform", list(req.platforms)))
    if req.author:
        out.append({"term": {"author.keyword": req.author}})
    if req.scheme:
        out.append({"term": {"keywords": req.scheme}})
    if req.incident_id is not None:
        out.append({"term": {"incident_ids": int(req.incident_id)}})
    if req.severity_min is not None:
        out.append({"range": {"severity": {"gte": int(req.severity_min)}}})
    if req.since or req.until:
        rng: dict[str, Any] = {}
        if req.since:
            rng["gte"] = req.since.isoformat()
        if req.until:
            rng["lt"] = req.until.isoformat()
        out.append({"range": {"published_at": rng}})
    return out


def build_query(req: SearchRequest, node: Node) -> dict[str, Any]:
    flt = filters(req)
    main = compile_node(node)
    if not flt:
        return main
    return {"bool": {"must": [main], "filter": flt}}
