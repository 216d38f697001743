"""Incident workspace: posts (masked; 查看原文 for view_original, audited), heat, evidence, stages, checklist,
draft checker, actions, notification previews, audit."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web import actions, charts
from web.deps import CurrentUser, csrf_token, page_user, require, rt_of, verify_csrf
from web.message_preview import notification_previews
from web.read_models import incident_detail, original_post
from web.templating import templates
from yuqing.audit import record
from yuqing.errors import YuqingError
from yuqing.timeutil import fmt_local

router = APIRouter()


def _render(request: Request, user: CurrentUser, incident_id: int, *, errors: dict | None = None,
            form: dict | None = None, draft: str = "", findings: list | None = None,
            status: int = 200, error: str = "") -> Response:
    rt = rt_of(request)
    with rt.session() as s:
        detail = incident_detail(s, incident_id)
        notes = notification_previews(s, incident_id, rt.clock.now()) if detail is not None else []
    if detail is None:
        raise HTTPException(404, f"事件 {incident_id} 不存在")
    heat_svg = charts.histogram([(fmt_local(at), int(h)) for at, h in detail["heat"]][-48:], height=100,
                                colour="#e53935")
    ctx = {"heat_svg": heat_svg, "user": user, "csrf": csrf_token(request), "now": rt.clock.now(), "errors": errors or {},
           "form": form or {}, "draft": draft, "findings": findings, "error": error,
           "flash": request.session.pop("flash", None), "notifications": notes, **detail}
    return templates.TemplateResponse(request, "incident.html", ctx, status_code=status)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse, include_in_schema=False)
def show(incident_id: int, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    return _render(request, user, incident_id)


@router.post("/incidents/{incident_id}/do/{action}", include_in_schema=False, dependencies=[Depends(verify_csrf)])
async def act(incident_id: int, action: str, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "ack" if action == "ack" else "respond")
    form = dict(await request.form())
    try:
        outcome = actions.run(rt_of(request), action, incident_id, user.username, form)
    except actions.FormErrors as exc:
        return _render(request, user, incident_id, errors=exc.errors, form={"action": action, **form}, status=400)
    except YuqingError as exc:
        return _render(request, user, incident_id, error=str(exc), form={"action": action, **form}, status=409)
    request.session["flash"] = outcome.message
    return RedirectResponse(f"/incidents/{outcome.incident_id}", status_code=303)


@router.post("/incidents/{incident_id}/checklist/{item_id}/{op}", include_in_schema=False,
             dependencies=[Depends(verify_csrf)])
async def checklist(incident_id: int, item_id: str, op: str, request: Request,
                    user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "respond")
    form = dict(await request.form())
    try:
        message = actions.checklist(rt_of(request), incident_id, item_id, op, user.username, form)
    except actions.FormErrors as exc:
        errors = {f"{item_id}.{k}": v for k, v in exc.errors.items()}
        return _render(request, user, incident_id, errors=errors, status=400)
    except YuqingError as exc:
        return _render(request, user, incident_id, error=str(exc), status=409)
    request.session["flash"] = f"清单项 {item_id}：{message}"
    return RedirectResponse(f"/incidents/{incident_id}#checklist", status_code=303)


@router.post("/incidents/{incident_id}/draft", include_in_schema=False, dependencies=[Depends(verify_csrf)])
async def check_draft(incident_id: int, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "respond")
    from playbooks.drafts import check_draft as run_check

    form = await request.form()
    text = str(form.get("draft") or "")
    platform = str(form.get("platform") or "weibo")
    if not text.strip():
        return _render(request, user, incident_id, errors={"draft": "请先输入回应口径草稿"}, status=400)
    with rt_of(request).session() as s:
        from yuqing.db.models import IncidentRow

        incident = s.get(IncidentRow, incident_id)
        findings = run_check(text, platform=platform, incident=incident)
    return _render(request, user, incident_id, draft=text, findings=findings)


def view_original(request: Request, user: CurrentUser, post_id: str, via: str) -> dict:
    """The post as collected, for ``view_original`` only; the view is audited before it is shown."""
    require(user, "view_original")
    rt = rt_of(request)
    with rt.session() as s:
        post = original_post(s, post_id)
        if post is None:
            raise HTTPException(404, f"帖子 {post_id[:80]} 不存在")
        record(s, actor=user.username, action="view_original", object_type="post", object_id=post_id,
               at=rt.clock.now(), detail=f"查看原文（{via}）")
    return post


@router.get("/posts/original", response_class=HTMLResponse, include_in_schema=False)
def original_page(request: Request, id: str = "", incident: int | None = None,
                  user: CurrentUser = Depends(page_user)) -> Response:
    post = view_original(request, user, id, "网页")
    return templates.TemplateResponse(request, "original.html", {"user": user, "post": post, "incident": incident})
