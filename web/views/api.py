"""JSON API under /api/ (OpenAPI at /api/openapi.json). Same permissions and CSRF as the pages:
state-changing calls send the session's token in the X-CSRF-Token header (GET /api/me gives it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from search.render import masked_json
from web import actions
from web.deps import CurrentUser, api_user, csrf_token, require, rt_of, verify_csrf
from web.read_models import board_rows, incident_detail
from web.views.search import params_of, run_search
from yuqing.errors import YuqingError
from yuqing.privacy import mask

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
    return {"ok": True, "time": rt_of(request).clock.now().isoformat()}


@router.get("/me")
def me(request: Request, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "role_zh": user.role_zh, "csrf_token": csrf_token(request)}


@router.get("/board")
def board(request: Request, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    with rt_of(request).session() as s:
        return {"incidents": [r.as_json() for r in board_rows(s, rt_of(request).clock.now())]}


@router.get("/incidents/{incident_id}")
def incident(incident_id: int, request: Request, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    with rt_of(request).session() as s:
        d = incident_detail(s, incident_id)
    if d is None:
        raise HTTPException(404, f"事件 {incident_id} 不存在")
    inc = d["incident"]
    return {
        "id": inc.id, "title": d["title"], "category": inc.category, "severity": inc.severity, "stage": inc.stage,
        "heat": inc.heat, "deadline": inc.deadline.isoformat() if inc.deadline else None,
        "clock_started_at": inc.clock_started_at.isoformat() if inc.clock_started_at else None,
        "first_response_at": inc.first_response_at.isoformat() if inc.first_response_at else None,
        "acknowledged": inc.acknowledged_at is not None,
        "posts": [{"id": p.id, "platform": p.platform, "author": p.author, "title": p.title, "text": p.text,
                   "url": p.url, "published_at": p.published_at.isoformat() if p.published_at else None,
                   "reposts": p.reposts, "comments": p.comments, "likes": p.likes, "growth": p.growth}
                  for p in d["posts"]],
        "checklist": [{"item_id": c.item_id, "stage": c.stage, "text": c.text, "role": c.role, "status": c.status,
                       "required": c.required, "assignee": c.assignee,
                       "due_at": c.due_at.isoformat() if c.due_at else None} for c in d["checklist"]],
        "stages": [{"from": h.from_stage, "to": h.to_stage, "at": h.at.isoformat(), "actor": h.actor,
                    "reason": h.reason} for h in d["stages"]],
    }


@router.post("/incidents/{incident_id}/{action}", dependencies=[Depends(verify_csrf)])
def act(incident_id: int, action: str, body: ActionBody, request: Request,
        user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    if action not in ("ack", "advance", "respond", "dismiss", "close", "merge", "split"):
        raise HTTPException(404, f"未知操作：{action}")
    require(user, "ack" if action == "ack" else "respond")
    outcome = _perform(lambda: actions.run(rt_of(request), action, incident_id, user.username, body.model_dump()))
    return {"ok": True, "message": outcome.message, "incident_id": outcome.incident_id}


@router.post("/incidents/{incident_id}/checklist/{item_id}/{op}", dependencies=[Depends(verify_csrf)])
def checklist(incident_id: int, item_id: str, op: str, body: ActionBody, request: Request,
              user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    require(user, "respond")
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


@router.get("/search")
def search(request: Request, size: int = 20, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    require(user, "search")
    outcome = run_search(request, params_of(request), size=max(1, min(size, 500)))
    if outcome["errors"]:
        raise HTTPException(422, outcome["errors"])
    # masked for every role (highlights are computed on masked text); originals: /api/posts/original
    return masked_json(outcome["result"].to_json())


@router.get("/posts/original")
def post_original(request: Request, id: str, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    """查看原文: the post as collected, for view_original only; every call is written to the audit log."""
    from web.views.incident import view_original

    return view_original(request, user, id, "API")
