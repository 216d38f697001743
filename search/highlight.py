"""Highlights computed from the query AST, the same for every backend.

A term is found in the folded field (the same folding as matching); when folding kept the length,
the original characters are marked, otherwise the folded text is. Text is HTML-escaped and
matches wrapped in ``<em>…</em>``.

Highlights are always computed on the **masked** text (``yuqing.privacy.mask_post`` over title and
text together): masking after highlighting cannot work, because an ``<em>`` inside a number hides
it from the masker. A search for four digits of an ID number therefore marks only what the masked
form still shows (``530102********<em>5633</em>``) and never returns the whole number.
"""

from __future__ import annotations

import html
import re
from typing import Any

from yuqing.privacy import mask_post
from yuqing.query import Node, normalize, terms

FRAGMENT_CHARS = 60
MAX_FRAGMENTS = 3
_TAG = re.compile(r"</?em>")


def needles(node: Node) -> list[str]:
    out: list[str] = []
    for term in terms(node):
        folded = normalize(term.text)
        if folded and folded not in out:
            out.append(folded)
    return out


def _spans(folded: str, words: list[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for word in words:
        start = folded.find(word)
        while start >= 0:
            spans.append((start, start + len(word)))
            start = folded.find(word, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _mark(text: str, spans: list[tuple[int, int]], lo: int, hi: int) -> str:
    out, pos = [], lo
    for s, e in spans:
        s, e = max(s, lo), min(e, hi)
        if s >= e:
            continue
        out.append(html.escape(text[pos:s]))
        out.append("<em>" + html.escape(text[s:e]) + "</em>")
        pos = e
    out.append(html.escape(text[pos:hi]))
    return "".join(out)


def highlight_field(value: str | None, words: list[str], whole: bool = False,
                    folded: str | None = None) -> list[str]:
    if not value or not words:
        return []
    if folded is None or len(folded) != len(value):
        folded = normalize(value)
    shown = value if len(folded) == len(value) else folded
    spans = _spans(folded, words)
    if not spans:
        return []
    if whole:
        return [_mark(shown, spans, 0, len(shown))]
    fragments: list[str] = []
    covered = -1
    for s, e in spans:
        if s < covered or len(fragments) >= MAX_FRAGMENTS:
            continue
        lo = max(0, s - FRAGMENT_CHARS // 3)
        hi = min(len(shown), max(e, lo + FRAGMENT_CHARS))
        fragments.append(("…" if lo else "") + _mark(shown, spans, lo, hi) + ("…" if hi < len(shown) else ""))
        covered = hi
    return fragments


def _split_folded(post: dict[str, Any], folded: str | None) -> dict[str, str | None]:
    """Per-field folded text cut from the stored ``folded`` (title + newline + text) when lengths allow."""
    title, text = post.get("title") or "", post.get("text") or ""
    if folded is not None and len(folded) == len(title) + 1 + len(text):
        return {"title": folded[:len(title)], "text": folded[len(title) + 1:]}
    return {"title": None, "text": None}


def highlight(post: dict[str, Any], node: Node, folded: str | None = None) -> dict[str, list[str]]:
    """Fragments per field of the masked post. ``folded`` (the stored folding of the original text) is
    used only where masking left the text unchanged, so it always matches what is shown."""
    words = needles(node)
    out: dict[str, list[str]] = {}
    masked = mask_post({"title": post.get("title") or "", "text": post.get("text") or ""})
    pre = _split_folded(post, folded)
    for field in ("title", "text"):
        if masked[field] != (post.get(field) or ""):
            pre[field] = None
    post = masked
    for field, whole in (("title", True), ("text", False)):
        frags = highlight_field(post.get(field), words, whole, pre[field])
        if frags:
            out[field] = frags
    return out


def strip_tags(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment))
