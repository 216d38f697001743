"""JSON API under /api/ (OpenAPI at /api/openapi.json, Swagger UI at /api/docs). Same permissions as the
pages. Callers authenticate either with the signed-in session — state-changing calls then send the
session's token in the X-CSRF-Token header (GET /api/me gives it) — or with a personal API token,
``Authorization: Bearer yq_…`` (web.api_tokens), which needs no CSRF token.

Guarantees: every time in a response is ISO 8601 in Beijing time (``+08:00``); titles, texts and
authors are masked (yuqing.exits) for every role; post URLs are given only when http(s). The
incidents an API caller may read are chosen in one place, :func:`web.api_read.incidents_query`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from search.render import masked_json
from web import actions
from web.api_read import (
    IncidentPage,
    PostPage,
    beijing_hits,
    find_incident,
    incident_posts,
    list_incidents,
    parse_filters,
)
from web.deps import CurrentUser, api_user, csrf_token, require, rt_of, verify_csrf
from web.read_models import board_rows, incident_detail
from web.scope import require_visible, visible_ids
from web.views.search import params_of, run_search
from yuqing.errors import YuqingError
from yuqing.platforms import platform_zh
from yuqing.privacy import mask
from yuqing.timeutil import iso_shanghai, parse_datetime

router = APIRouter(prefix="/api", tags=["api"])


class ActionBody(BaseModel):
    reason: str | None = None
    override_reason: str | None = None
    url: str | None = None
    at: str | None = None
    text: str | None = None
    source_ids: str | None = None
    post_ids: str | None = None
    assignee: str | None = None


class DraftBody(BaseModel):
    text: str
    platform: str = "weibo"


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    return {"ok": True, "time": iso_shanghai(rt_of(request).clock.now())}


@router.get("/me")
def me(request: Request, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "role_zh": user.role_zh, "csrf_token": csrf_token(request)}


@router.get("/board")
def board(request: Request, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    with rt_of(request).session() as s:
        rows = [r.as_json() for r in board_rows(s, rt_of(request).clock.now())]
    shown = visible_ids(request, user.username, [r["id"] for r in rows])  # the user's units (web.scope)
    rows = [r for r in rows if r["id"] in shown]
    for row in rows:  # Beijing time, like every time the API gives
        for key in ("deadline", "clock_started_at", "first_response_at"):
            row[key] = iso_shanghai(parse_datetime(row[key])) if row.get(key) else None
    return {"incidents": rows}


@router.get("/incidents", response_model=IncidentPage, summary="事件列表（筛选、分页，最新发现的在前）")
def incidents(request: Request, user: CurrentUser = Depends(api_user),
              stage: str = Query("", description="阶段：warning / response / aftermath / closed / dismissed，"
                                                 "open 表示未结束的三个阶段；可逗号分隔"),
              category: str = Query("", description="类别：policy / rights / image / work / emergency / none，可逗号分隔"),
              severity_min: str = Query("", description="最低舆情等级 0–4"),
              since: str = Query("", description="发现时间不早于（ISO 8601；无时区按北京时间）"),
              until: str = Query("", description="发现时间早于（ISO 8601；无时区按北京时间）"),
              q: str = Query("", description="标题包含的文字"),
              limit: int = Query(50, ge=1, le=200, description="每页条数（1–200）"),
              offset: int = Query(0, ge=0, le=10_000_000, description="跳过的条数")) -> IncidentPage:
    filters, errors = parse_filters(stage, category, severity_min, since, until, q)
    if errors:
        raise HTTPException(422, errors)
    with rt_of(request).session() as s:
        return list_incidents(s, user, filters, limit, offset)


@router.get("/incidents/{incident_id}/posts", response_model=PostPage, summary="事件的帖子（按发布时间，分页）")
def incident_post_list(incident_id: int, request: Request, user: CurrentUser = Depends(api_user),
                       limit: int = Query(50, ge=1, le=200, description="每页条数（1–200）"),
                       offset: int = Query(0, ge=0, le=10_000_000, description="跳过的条数")) -> PostPage:
    with rt_of(request).session() as s:
        page = incident_posts(s, user, incident_id, limit, offset)
    if page is None:
        raise HTTPException(404, f"事件 {incident_id} 不存在")
    return page


@router.get("/incidents/{incident_id}", summary="事件详情（帖子、处置清单、阶段记录）")
def incident(incident_id: int, request: Request, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    with rt_of(request).session() as s:
        d = incident_detail(s, incident_id) if find_incident(s, user, incident_id) is not None else None
    if d is None:
        raise HTTPException(404, f"事件 {incident_id} 不存在")
    inc = d["incident"]
    return {
        "id": inc.id, "title": d["title"], "category": inc.category, "severity": inc.severity, "stage": inc.stage,
        "heat": inc.heat, "deadline": iso_shanghai(inc.deadline),
        "clock_started_at": iso_shanghai(inc.clock_started_at),
        "first_response_at": iso_shanghai(inc.first_response_at),
        "acknowledged": inc.acknowledged_at is not None,
        "posts": [{"id": p.id, "platform": p.platform, "platform_zh": platform_zh(p.platform), "author": p.author, "title": p.title, "text": p.text,
                   "url": p.url, "published_at": iso_shanghai(p.published_at),
                   "reposts": p.reposts, "comments": p.comments, "likes": p.likes, "growth": p.growth}
                  for p in d["posts"]],
        "checklist": [{"item_id": c.item_id, "stage": c.stage, "text": c.text, "role": c.role, "status": c.status,
                       "required": c.required, "assignee": c.assignee,
                       "due_at": iso_shanghai(c.due_at)} for c in d["checklist"]],
        "stages": [{"from": h.from_stage, "to": h.to_stage, "at": iso_shanghai(h.at), "actor": h.actor,
                    "reason": h.reason} for h in d["stages"]],
    }


@router.post("/incidents/{incident_id}/{action}", dependencies=[Depends(verify_csrf)])
def act(incident_id: int, action: str, body: ActionBody, request: Request,
        user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    if action not in ("ack", "advance", "respond", "dismiss", "close", "merge", "split"):
        raise HTTPException(404, f"未知操作：{action}")
    require(user, "ack" if action == "ack" else "respond")
    require_visible(request, user.username, incident_id)
    for part in str(body.source_ids or "").replace("，", ",").replace(" ", ",").split(","):
        if action == "merge" and part.strip().lstrip("#").isdigit():  # merged-in incidents too
            require_visible(request, user.username, int(part.strip().lstrip("#")))
    outcome = _perform(lambda: actions.run(rt_of(request), action, incident_id, user.username, body.model_dump()))
    return {"ok": True, "message": outcome.message, "incident_id": outcome.incident_id}


@router.post("/incidents/{incident_id}/checklist/{item_id}/{op}", dependencies=[Depends(verify_csrf)])
def checklist(incident_id: int, item_id: str, op: str, body: ActionBody, request: Request,
              user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    require(user, "respond")
    require_visible(request, user.username, incident_id)
    message = _perform(lambda: actions.checklist(rt_of(request), incident_id, item_id, op, user.username,
                                                 body.model_dump()))
    return {"ok": True, "message": message}


def _perform(call: Callable[[], Any]) -> Any:
    """Field errors → 422 with a message per field; refusals by the engine/playbooks → 409."""
    try:
        return call()
    except actions.FormErrors as exc:
        raise HTTPException(422, exc.errors) from None
    except YuqingError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/drafts/check", dependencies=[Depends(verify_csrf)])
def check_draft(body: DraftBody, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    require(user, "respond")
    from playbooks.drafts import check_draft as run_check

    findings = [f.to_dict() for f in run_check(body.text, platform=body.platform)]
    for f in findings:  # the checker's echoes of the draft are masked like every other exit
        if isinstance(f.get("excerpt"), str):
            f["excerpt"] = mask(f["excerpt"])
    return {"findings": findings}


@router.get("/search", summary="检索帖子（同 /api/posts/search）")
@router.get("/posts/search", summary="检索帖子：检索式与筛选同“检索”页（q, category, severity_min, platform, "
                                     "scheme, incident, since, until, sort, interval），size 为条数")
def search(request: Request, size: int = 20, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    require(user, "search")
    params = params_of(request)
    if params["incident"].lstrip("#").isdigit():  # an incident outside the user's units: 404 (web.scope)
        require_visible(request, user.username, int(params["incident"].lstrip("#")))
    outcome = run_search(request, params, size=max(1, min(size, 500)))
    if outcome["errors"]:
        raise HTTPException(422, outcome["errors"])
    # masked for every role (highlights are computed on masked text); originals: /api/posts/original
    return beijing_hits(masked_json(outcome["result"].to_json()))


@router.get("/posts/original")
def post_original(request: Request, id: str, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    """查看原文: the post as collected, for view_original only; every call is written to the audit log."""
    from web.views.incident import view_original

    post = view_original(request, user, id, "API")
    if isinstance(post, dict) and post.get("published_at"):
        post["published_at"] = iso_shanghai(parse_datetime(post["published_at"]))
    return post
