"""The Chinese table `yuqing search` prints by default: masked text only (highlights are computed on
the masked text by ``search.highlight``; the start of a post is masked, then cut)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from search.highlight import strip_tags
from search.types import SearchResult
from yuqing.domain import Category, Severity
from yuqing.exits import masked_post, preview, safe_url
from yuqing.platforms import platform_zh
from yuqing.privacy import mask
from yuqing.timeutil import fmt_local


def _fragment(hit_highlight: dict[str, list[str]], post: dict[str, object]) -> Text:
    """Highlighted fragment (matches in bold) or the start of the text."""
    frag = (hit_highlight.get("title") or hit_highlight.get("text") or [None])[0]
    if frag is None:
        raw = f"{post.get('title') or ''} {post.get('text') or ''}".strip()
        return Text(preview(raw, 81))
    out = Text()
    for i, part in enumerate(frag.split("<em>")):
        if i == 0:
            out.append(strip_tags(part))
            continue
        marked, _, rest = part.partition("</em>")
        out.append(strip_tags(marked), style="bold red")
        out.append(strip_tags(rest))
    return out


def render_table(console: Console, query: str, result: SearchResult) -> None:
    shown = len(result.hits)
    console.print(f"检索式：{query or '（全部）'}　共 {result.total} 条" + (f"，显示前 {shown} 条" if shown < result.total else ""))
    if not result.hits:
        console.print("没有找到匹配的帖子。")
        return
    table = Table(show_lines=False)
    for col in ("时间", "平台", "作者", "分类", "等级", "内容", "编号"):
        table.add_column(col, overflow="fold")
    for hit in result.hits:
        p = hit.post
        when = fmt_local(datetime.fromisoformat(str(p["published_at"]))) if p.get("published_at") else ""
        cat = Category(p["category"]).zh if p.get("category") else "未分类"
        sev = Severity(int(p["severity"])).label if p.get("severity") is not None else "-"  # type: ignore[call-overload]
        table.add_row(when, platform_zh(p.get("platform")) if p.get("platform") else "", mask(str(p.get("author") or "")), cat, sev,
                      _fragment(hit.highlight, p), hit.id)
    console.print(table)
    terms = result.aggregations.get("terms", {})
    if terms.get("platform"):
        console.print("平台分布：" + "，".join(f"{platform_zh(b['key'])} {b['count']}" for b in terms["platform"]))


def masked_json(data: dict[str, Any]) -> dict[str, Any]:
    """``SearchResult.to_json()`` with every hit masked (title and text together, author), its URL kept
    only if it is http(s); the highlights are already computed on masked text. Used by ``yuqing search
    --json`` and ``/api/search``."""
    hits = []
    for hit in data.get("hits", []):
        hit = masked_post(hit) if ("title" in hit or "text" in hit) else dict(hit)
        if "author" in hit:
            hit["author"] = mask(str(hit.get("author") or ""))
        if "url" in hit:
            hit["url"] = safe_url(hit.get("url"))
        hit["highlight"] = {k: [mask(f) for f in frags] for k, frags in (hit.get("highlight") or {}).items()}
        hits.append(hit)
    return {**data, "hits": hits}
