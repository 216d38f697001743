"""Incident workspace: posts (masked; 查看原文 for view_original, audited), heat, evidence, stages, checklist,
draft checker, actions, notification previews, audit."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web import actions, charts
from web.deps import CurrentUser, csrf_token, page_user, require, rt_of, verify_csrf
from web.message_preview import notification_previews
from web.read_models import incident_detail, original_post
from web.scope import require_visible, scope_for, unit_of_user
from web.templating import templates
from yuqing.audit import record
from yuqing.errors import YuqingError
from yuqing.timeutil import fmt_local

router = APIRouter()


def _render(request: Request, user: CurrentUser, incident_id: int, *, errors: dict | None = None,
            form: dict | None = None, draft: str = "", findings: list | None = None,
            status: int = 200, error: str = "") -> Response:
    rt = rt_of(request)
    require_visible(request, user.username, incident_id)  # outside the user's units: 404, like a missing one
    with rt.session() as s:
        detail = incident_detail(s, incident_id)
        unit_ctx = _unit_context(s, rt, request, user, detail["incident"]) if detail is not None else {}
        notes = notification_previews(s, incident_id, rt.clock.now()) if detail is not None else []
    if detail is None:
        raise HTTPException(404, f"事件 {incident_id} 不存在")
    heat_svg = charts.histogram([(fmt_local(at), int(h)) for at, h in detail["heat"]][-48:], height=100,
                                colour="#e53935")
    ctx = {"heat_svg": heat_svg, "user": user, "csrf": csrf_token(request), "now": rt.clock.now(), "errors": errors or {},
           "form": form or {}, "draft": draft, "findings": findings, "error": error,
           "flash": request.session.pop("flash", None), "notifications": notes, **unit_ctx, **detail}
    return templates.TemplateResponse(request, "incident.html", ctx, status_code=status)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse, include_in_schema=False)
def show(incident_id: int, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    return _render(request, user, incident_id)


@router.post("/incidents/{incident_id}/do/{action}", include_in_schema=False, dependencies=[Depends(verify_csrf)])
async def act(incident_id: int, action: str, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "ack" if action == "ack" else "respond")
    require_visible(request, user.username, incident_id)
    form = dict(await request.form())
    if action == "merge":  # every incident merged in must be visible too
        for part in str(form.get("source_ids") or "").replace("，", ",").replace(" ", ",").split(","):
            if part.strip().lstrip("#").isdigit():
                require_visible(request, user.username, int(part.strip().lstrip("#")))
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
    require_visible(request, user.username, incident_id)
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
    require_visible(request, user.username, incident_id)
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


def _unit_context(s: object, rt: object, request: Request, user: CurrentUser, incident: object) -> dict:
    """The owner unit, and the units this user may move the incident to (their own subtree)."""
    from alerting import units

    settings = rt.settings  # type: ignore[attr-defined]
    if not settings.units:
        return {"unit": None, "move_targets": []}
    owner = units.owner(settings, incident)
    scope = scope_for(settings, unit_of_user(s, user.username))
    targets = [u for u in settings.units if (scope is None or u.id in scope) and u.id != owner.id]
    return {"unit": owner, "unit_manual": bool(getattr(incident, "unit_manual", False)), "move_targets": targets}


@router.post("/incidents/{incident_id}/move", include_in_schema=False, dependencies=[Depends(verify_csrf)])
async def move(incident_id: int, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    """移交: a person moves the incident to another unit of their own subtree (the place was wrong)."""
    require(user, "respond")
    require_visible(request, user.username, incident_id)
    from alerting import units

    form = dict(await request.form())
    target, reason = str(form.get("unit") or "").strip(), str(form.get("reason") or "").strip()
    rt = rt_of(request)
    errors = {}
    if not target:
        errors["unit"] = "请选择移交到的单位"
    if not reason:
        errors["move_reason"] = "请填写移交原因"
    with rt.session() as s:
        scope = scope_for(rt.settings, unit_of_user(s, user.username))
    if target and scope is not None and target not in scope:
        errors["unit"] = "只能移交给本单位或下级单位"
    if errors:
        return _render(request, user, incident_id, errors=errors, form={"action": "move", **form}, status=400,
                       error="移交未完成：" + "；".join(errors.values()))
    try:
        with rt.session() as s:
            units.move(s, incident_id, target, user.username, rt.clock.now(), reason, rt.settings)
    except YuqingError as exc:
        return _render(request, user, incident_id, error=str(exc), form={"action": "move", **form}, status=409)
    request.session["flash"] = f"已将事件 #{incident_id} 移交至 {units.label(rt.settings, target)}"
    return RedirectResponse(f"/incidents/{incident_id}" if scope is None or target in scope else "/",
                            status_code=303)


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
