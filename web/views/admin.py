"""Administration: keyword schemes with live preview, sources and their health, roster, channels, users,
dead letters (posts and notifications given up after their attempts, with 重新排队)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from web.auth import ROLE_ZH, add_user, set_active
from web.dead_letters import dead_letters, requeue
from web.deps import CurrentUser, csrf_token, page_user, require, rt_of, verify_csrf
from web.templating import templates
from yuqing.db.models import CrawlRunRow, SourceStateRow, UserRow
from yuqing.errors import YuqingError
from yuqing.query import scheme_to_ast

router = APIRouter()


def _context(request: Request, user: CurrentUser, **extra: object) -> dict:
    rt = rt_of(request)
    settings = rt.settings
    with rt.session() as s:
        states = {r.source: r for r in s.scalars(select(SourceStateRow))}
        runs = {}
        for run in s.scalars(select(CrawlRunRow).order_by(CrawlRunRow.started_at.desc()).limit(200)):
            runs.setdefault(run.source, run)
        users = list(s.scalars(select(UserRow).order_by(UserRow.username)))
        dead_posts, dead_notes = dead_letters(s)
        from crawlers.freshness import lag_by_source  # detection lag per source, last 7 days

        lags = {lag.source: lag for lag in lag_by_source(s, since=rt.clock.now() - timedelta(days=7))}
    on_duty: list[str] = []
    try:
        from alerting import roster

        on_duty = [roster.names(settings.roster, roster.on_duty(settings.roster, rt.clock.now()))]
    except (ImportError, AttributeError):
        on_duty = []
    schemes = [(sc, str(scheme_to_ast(sc))) for sc in settings.keyword_schemes]
    return {"user": user, "csrf": csrf_token(request), "settings": settings, "schemes": schemes,
            "states": states, "runs": runs, "users": users, "roles": ROLE_ZH, "on_duty": on_duty,
            "dead_posts": dead_posts, "dead_notes": dead_notes, "lags": lags,
            "now": rt.clock.now(), "flash": request.session.pop("flash", None), "errors": {}, "form": {}, **extra}


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
def admin_page(request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "admin")
    return templates.TemplateResponse(request, "admin.html", _context(request, user))


@router.get("/admin/preview", response_class=HTMLResponse, include_in_schema=False)
def preview(request: Request, q: str = "", user: CurrentUser = Depends(page_user)) -> Response:
    """Live preview of what an expression (or scheme) matches in the index: count and newest hits."""
    require(user, "admin")
    from web.views.search import params_of, run_search

    name = request.query_params.get("scheme", "")
    params = params_of(request)
    node = None
    if name:
        try:  # the scheme's own AST: a long scheme is not held to the length limit of a typed query
            node = scheme_to_ast(rt_of(request).settings.scheme(name))
            params["q"] = str(node)
        except KeyError:
            params["q"] = ""
    outcome = run_search(request, params, size=5, node=node) if params["q"] else {"result": None, "errors": {}}
    return templates.TemplateResponse(request, "admin_preview.html", {"user": user, "outcome": outcome,
                                                                      "q": params["q"]})


@router.post("/admin/users", include_in_schema=False, dependencies=[Depends(verify_csrf)])
async def create_user(request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "admin")
    form = {k: str(v) for k, v in (await request.form()).items()}
    errors = {}
    if not form.get("username", "").strip():
        errors["username"] = "请填写用户名"
    if len(form.get("password", "")) < 8:
        errors["password"] = "密码至少 8 位"
    if form.get("role") not in ROLE_ZH:
        errors["role"] = "请选择角色"
    if not errors:
        rt = rt_of(request)
        try:
            with rt.session() as s:
                add_user(s, form["username"], form["password"], form["role"], rt.clock.now(),
                         display_name=form.get("display_name", ""), actor=user.username)
        except YuqingError as exc:
            errors["username"] = str(exc)
    if errors:
        form.pop("password", None)
        return templates.TemplateResponse(request, "admin.html", _context(request, user, errors=errors, form=form),
                                          status_code=400)
    request.session["flash"] = f"已创建用户 {form['username']}"
    return RedirectResponse("/admin#users", status_code=303)


@router.post("/admin/users/{username}/{op}", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def toggle_user(username: str, op: str, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "admin")
    if op not in ("enable", "disable"):
        raise HTTPException(404, f"未知操作：{op[:40]}")
    rt = rt_of(request)
    if username == user.username and op == "disable":
        request.session["flash"] = "不能停用当前登录的账户"
    else:
        with rt.session() as s:
            set_active(s, username, op == "enable", rt.clock.now(), actor=user.username)
        request.session["flash"] = f"已{'启用' if op == 'enable' else '停用'}用户 {username}"
    return RedirectResponse("/admin#users", status_code=303)


@router.post("/admin/dead/requeue", include_in_schema=False, dependencies=[Depends(verify_csrf)])
async def requeue_dead_letter(request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    """重新排队: a dead post or notification back in its queue (attempts reset, audited)."""
    require(user, "admin")
    form = await request.form()
    rt = rt_of(request)
    try:
        with rt.session() as s:
            message = requeue(s, str(form.get("kind", "")), str(form.get("id", "")), user.username,
                              rt.clock.now())
    except YuqingError as exc:
        message = str(exc)
    request.session["flash"] = message
    return RedirectResponse("/admin#dead", status_code=303)


@router.post("/admin/channels/{name}/test", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def test_channel(name: str, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "admin")
    rt = rt_of(request)
    try:
        send_test_message(rt, name, user.username)
        request.session["flash"] = f"测试消息已发送到渠道 {name}"
    except Exception as exc:  # any delivery failure is reported to the administrator, not raised
        request.session["flash"] = f"渠道 {name} 测试失败：{exc}"
    return RedirectResponse("/admin#channels", status_code=303)


def send_test_message(rt: object, name: str, actor: str) -> None:
    """Send one test message straight through a configured channel (not through the outbox)."""
    from alerting.channels import Note, make_channel
    from yuqing import audit
    from yuqing.timeutil import iso_shanghai

    settings = rt.settings  # type: ignore[attr-defined]
    config = next((c for c in settings.channels if c.name == name), None)
    if config is None:
        raise YuqingError(f"未配置渠道 {name}")
    now = rt.clock.now()  # type: ignore[attr-defined]
    text = f"【测试消息】yuqing 舆情监测：渠道“{name}”配置正常（由 {actor} 于 {iso_shanghai(now)} 发送）。"
    note = Note(id=0, dedupe_key=f"test:{name}:{now.isoformat()}", kind="digest", channel=name,
                payload={"time": iso_shanghai(now), "kind": "digest", "incident_id": None, "category": None,
                         "severity": 0, "stage": None, "deadline": None, "text": text, "title": "测试消息"})
    channel = make_channel(config, settings)
    try:
        channel.send(note, now)
    finally:
        channel.close()
    with rt.session() as s:  # type: ignore[attr-defined]
        audit.record(s, actor=actor, action="channel.test", object_type="channel", object_id=name, at=now)
