"""分析检索: the keyword language with filters, highlights, histogram, breakdowns, CSV, saved searches.

Every malformed filter (date out of range, unknown enum, number beyond 64 bits) is a field error
shown beside the form (400), never an exception; CSV cells cannot start a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from web import charts
from web.deps import CurrentUser, csrf_token, page_user, require, rt_of, verify_csrf
from web.templating import templates
from yuqing.db.models import SavedSearchRow
from yuqing.domain import Category, category_zh, severity_zh
from yuqing.errors import YuqingError
from yuqing.exits import masked_post, safe_url
from yuqing.platforms import platform_zh
from yuqing.timeutil import fmt_local, parse_datetime, to_utc

router = APIRouter()
FILTERS = ("q", "category", "severity_min", "platform", "scheme", "incident", "since", "until", "sort", "interval")


def params_of(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip() for k in FILTERS}


YEAR_MIN, YEAR_MAX = 1900, 2199
LABELS = {"sort": "排序", "interval": "时间分布间隔", "platform": "平台", "scheme": "关键词方案"}
INT64_MAX = 2**63 - 1


def _time(value: str, field: str, errors: dict[str, str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(value[:64])
        to_utc(parsed)
    except (ValueError, OverflowError):
        errors[field] = "时间格式应为 2026-03-02 或 2026-03-02T09:15"
        return None
    if not YEAR_MIN <= parsed.year <= YEAR_MAX:
        errors[field] = f"时间超出范围（年份应在 {YEAR_MIN}–{YEAR_MAX} 之间）"
        return None
    return parsed


def _choice(p: dict[str, str], key: str, choices: tuple[str, ...], default: str, errors: dict[str, str]) -> str:
    value = p.get(key) or default
    if value not in choices:
        errors[key] = f"{LABELS[key]}只能是 {' / '.join(choices)}"
    return value


def run_search(request: Request, p: dict[str, str], size: int = 50, after: list | None = None,
               node: Any = None) -> dict[str, Any]:
    """Run one search; returns {"result", "errors"} with field errors instead of raising.

    ``node``: an already parsed query (a keyword scheme's AST) used instead of ``p["q"]``.
    """
    from search import get_index
    from search.types import SearchRequest

    errors: dict[str, str] = {}
    since, until = _time(p["since"], "since", errors), _time(p["until"], "until", errors)
    severity_min = None
    if p["severity_min"]:
        if p["severity_min"].isdigit() and 0 <= int(p["severity_min"]) <= 4:
            severity_min = int(p["severity_min"])
        else:
            errors["severity_min"] = "等级应为 0–4"
    incident = None
    if p["incident"]:
        raw = p["incident"].lstrip("#")
        if raw.isascii() and raw.isdigit() and len(raw) <= 19 and 0 < int(raw) <= INT64_MAX:
            incident = int(raw)
        else:
            errors["incident"] = "事件编号应为正整数"
    if p["category"] and p["category"] not in {c.value for c in Category}:
        errors["category"] = "类别：未知的类别"
    sort = _choice(p, "sort", ("time", "relevance", "engagement"), "time", errors)
    interval = _choice(p, "interval", ("hour", "day", "week"), "day", errors)
    for key in ("platform", "scheme"):
        if len(p[key]) > 255 or "\x00" in p[key]:
            errors[key] = f"{LABELS[key]}：过长或含有无效字符"
    if "\x00" in p["q"]:
        errors["q"] = "检索式含有无效字符（NUL）"
    if since and until and since >= until:
        errors["until"] = "结束时间必须晚于起始时间"
    if errors:
        return {"result": None, "errors": errors}
    req = SearchRequest(query=node if node is not None else p["q"], categories=[p["category"]] if p["category"] else [],
                        severity_min=severity_min, platforms=[p["platform"]] if p["platform"] else [],
                        scheme=p["scheme"] or None, incident_id=incident, since=since, until=until,
                        sort=sort, size=size, search_after=after, highlight=True,  # type: ignore[arg-type]
                        histogram=interval if after is None else None,  # type: ignore[arg-type]
                        terms=["platform", "category"] if after is None else [], severity_counts=after is None)
    try:
        index = get_index(rt_of(request).settings)
        try:
            return {"result": index.search(req), "errors": {}}
        finally:
            index.close()
    except YuqingError as exc:
        return {"result": None, "errors": {"q": str(exc)}}


def kibana_link(request: Request, query: str) -> str | None:
    es = rt_of(request).settings.index
    if es.backend != "elasticsearch" or not es.elasticsearch.kibana_url:
        return None
    return (f"{es.elasticsearch.kibana_url.rstrip('/')}/app/discover#/?_a=(query:(language:kuery,"
            f"query:'{quote(query)}'))&_g=(time:(from:now-7d,to:now))")


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search_page(request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "search")
    p = params_of(request)
    if p["incident"].lstrip("#").isdigit():  # an incident outside the user's units: 404 (web.scope)
        from web.scope import require_visible

        require_visible(request, user.username, int(p["incident"].lstrip("#")))
    outcome = run_search(request, p) if any(p[k] for k in FILTERS if k not in ("sort", "interval")) else \
        {"result": None, "errors": {}}
    with rt_of(request).session() as s:
        saved = list(s.scalars(select(SavedSearchRow).where(SavedSearchRow.owner == user.username)
                               .order_by(SavedSearchRow.created_at.desc())))
    return templates.TemplateResponse(request, "search.html", {
        "svg": _charts(outcome["result"]), "user": user, "csrf": csrf_token(request), "p": p, "result": outcome["result"], "errors": outcome["errors"],
        "saved": saved, "querystring": urlencode({k: v for k, v in p.items() if v}),
        "kibana": kibana_link(request, p["q"]),
        "schemes": [s.name for s in rt_of(request).settings.keyword_schemes],
        "flash": request.session.pop("flash", None)}, status_code=400 if outcome["errors"] else 200)


def _charts(result: Any) -> dict[str, str]:
    if result is None:
        return {}
    aggs = result.aggregations or {}
    terms = aggs.get("terms", {})
    return {
        "histogram": charts.histogram([(b["key"][:16].replace("T", " "), b["count"]) for b in aggs.get("histogram", [])]),
        "platform": charts.bars([(platform_zh(t["key"]), t["count"]) for t in terms.get("platform", [])]),
        "category": charts.bars([(_category_label(t["key"]), t["count"]) for t in terms.get("category", [])]),
    }


def _category_label(key: str) -> str:
    try:
        return Category(key).zh
    except ValueError:
        return key


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def csv_cell(value: Any) -> Any:
    """A spreadsheet-safe CSV cell (OWASP CSV injection): text starting with = + - @ tab or CR gets a
    leading apostrophe, so Excel/WPS show it as text instead of running it as a formula. A plain
    number such as -12 or -3.5 is left alone (a spreadsheet reads it as the number it is)."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def _csv_time(value: Any) -> str:
    """A CSV time: Beijing time with seconds (the header says so), empty when unknown."""
    return fmt_local(value, with_seconds=True) if value else ""


@router.get("/search.csv", include_in_schema=False)
def export_csv(request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "export")
    p = params_of(request)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["编号", "平台", "作者", "标题", "正文", "发布时间（北京时间）", "转发", "评论", "点赞", "类别", "等级",
                     "链接"])
    after, written = None, 0
    while written < 10000:
        outcome = run_search(request, p, size=500, after=after)
        if outcome["errors"]:
            raise HTTPException(400, "；".join(outcome["errors"].values()))
        result = outcome["result"]
        for hit in result.hits:
            post = masked_post(hit.post)  # title and text masked together, author masked
            writer.writerow([csv_cell(cell) for cell in (
                hit.id, platform_zh(post.get("platform")) if post.get("platform") else "", post.get("author") or "",
                post.get("title") or "", post.get("text") or "", _csv_time(post.get("published_at")),
                post.get("reposts", ""), post.get("comments", ""), post.get("likes", ""),
                category_zh(post.get("category")) if post.get("category") else "",
                severity_zh(post.get("severity")) if post.get("severity") is not None else "",
                safe_url(post.get("url")) or "")])
        written += len(result.hits)
        after = result.search_after
        if not result.hits or after is None:
            break
    data = "\ufeff" + buf.getvalue()  # BOM so Excel opens UTF-8 Chinese correctly
    return Response(data.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=yuqing-search.csv"})


@router.post("/search/save", include_in_schema=False, dependencies=[Depends(verify_csrf)])
async def save(request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "search")
    form = await request.form()
    name = str(form.get("name") or "").strip()
    filters = {k: str(form.get(k) or "") for k in FILTERS if form.get(k)}
    if not name:
        request.session["flash"] = "保存失败：请填写检索名称"
    else:
        rt = rt_of(request)
        with rt.session() as s:
            s.add(SavedSearchRow(owner=user.username, name=name[:128], query=filters.get("q", ""), filters=filters,
                                 created_at=rt.clock.now()))
        request.session["flash"] = f"已保存检索“{name}”"
    return RedirectResponse("/search?" + urlencode(filters), status_code=303)
