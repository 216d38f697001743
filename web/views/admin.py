"""Administration: keyword schemes with live preview, sources and their health, roster, channels, users,
dead letters (posts and notifications given up after their attempts, with 重新排队), and the
configuration editor: each editable section (yuqing.config_store.EDITABLE_SECTIONS) as a form built
from its schema, saved as a new version (who, when, diff, comment) that is in force in this process
at once and in a running `yuqing run` within a minute; version history with rollback. Nothing is
saved when the form does not validate: the errors are shown next to their fields."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from web import config_form
from web.auth import ROLE_ZH, add_user, set_active
from web.dead_letters import dead_letters, requeue
from web.deps import CurrentUser, csrf_token, page_user, require, rt_of, verify_csrf
from web.templating import templates
from yuqing import audit, config_store
from yuqing.db.models import CrawlRunRow, SourceStateRow, UserRow
from yuqing.errors import YuqingError
from yuqing.query import scheme_to_ast
from yuqing.settings import KeywordScheme
from yuqing.timeutil import fmt_local

router = APIRouter()


def _context(request: Request, user: CurrentUser, **extra: object) -> dict:
    rt = rt_of(request)
    config_store.reload(rt)  # `yuqing serve` has no reload job: the administrator sees the latest version
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
        if settings.units:  # each federation unit's duty roster (alerting.units)
            from alerting import units

            on_duty = [f"{u.name}：{roster.names(r, roster.on_duty(r, rt.clock.now()))}"
                       for u in settings.units if (r := units.roster_of(settings, u)).people]
    except (ImportError, AttributeError):
        on_duty = []
    schemes = [(sc, str(scheme_to_ast(sc))) for sc in settings.keyword_schemes]
    sections = [(name, config_store.SECTION_ZH.get(name, name)) for name in config_store.EDITABLE_SECTIONS]
    return {"user": user, "csrf": csrf_token(request), "settings": settings, "schemes": schemes,
            "sections": sections, "config_version": rt.config_version,
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
    draft = {k[2:]: v for k, v in request.query_params.items() if k.startswith("s.")}
    if draft:  # a scheme being edited, not saved yet: its groups one entry per line
        fields = {k: [w.strip() for w in v.splitlines() if w.strip()] for k, v in draft.items()
                  if k in ("subject", "region", "person", "event", "exclude")}
        try:
            node = scheme_to_ast(KeywordScheme(name="预览", expression=draft.get("expression", "").strip() or None,
                                               **fields))
            params["q"] = str(node)
        except (ValueError, YuqingError) as exc:
            reason = (exc.errors()[0]["msg"].removeprefix("Value error, ") if isinstance(exc, ValidationError)
                      else str(exc))
            outcome = {"result": None, "errors": {"q": reason}}
            return templates.TemplateResponse(request, "admin_preview.html",
                                              {"user": user, "outcome": outcome, "q": ""})
    elif name:
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


# -- the configuration editor -----------------------------------------------------------------
def _section_or_404(section: str) -> str:
    if section not in config_store.EDITABLE_SECTIONS:
        raise HTTPException(404, "没有这一配置部分")
    return section


def _editor(request: Request, user: CurrentUser, section: str, data: object, errors: dict[str, str],
            comment: str = "", status_code: int = 200, base_version: str | None = None) -> Response:
    rt = rt_of(request)
    root, rest = config_form.render(section, data, errors)
    sections = [(name, config_store.SECTION_ZH.get(name, name)) for name in config_store.EDITABLE_SECTIONS]
    return templates.TemplateResponse(request, "admin_config.html", {
        "user": user, "csrf": csrf_token(request), "section": section, "sections": sections,
        "title": config_store.SECTION_ZH.get(section, section), "root": root, "top_errors": rest,
        "comment": comment, "config_version": rt.config_version, "invalid": bool(errors),
        "option_zh": config_form.OPTION_ZH, "base_version": base_version,
        "flash": request.session.pop("flash", None)}, status_code=status_code)


def _conflict(rt: object, section: str, base: str) -> str | None:
    """A message when someone else changed this section since the form was opened (else None)."""
    with rt.session() as s:  # type: ignore[attr-defined]
        latest = config_store.latest(s)
        base_id = int(base) if base.isdigit() else None
        if latest is None or latest.id == base_id:
            return None
        seed = config_store.seed_of(rt)
        try:
            before = config_store.compose(seed, config_store.get(s, base_id).sections) if base_id else seed
            now = config_store.compose(seed, latest.sections)
        except YuqingError:
            return None
    if config_store.section_data(before, section) == config_store.section_data(now, section):
        return None
    return (f"打开此页后，{latest.username} 已保存了配置版本 {latest.id}（{fmt_local(latest.created_at)}），"
            "修改了这一部分：为免覆盖他人的修改，本次未保存。请重新打开本页再修改。")


@router.get("/admin/config/history", response_class=HTMLResponse, include_in_schema=False)
def config_history(request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "admin")
    rt = rt_of(request)
    with rt.session() as s:
        versions = config_store.history(s, limit=200)
    return templates.TemplateResponse(request, "admin_history.html", {
        "user": user, "csrf": csrf_token(request), "versions": versions, "zh": config_store.SECTION_ZH,
        "config_version": rt.config_version, "source_path": config_store.seed_of(rt).source_path,
        "flash": request.session.pop("flash", None)})


@router.post("/admin/config/rollback/{version_id}", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def config_rollback(version_id: int, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "admin")
    rt = rt_of(request)
    now = rt.clock.now()
    try:
        with rt.session() as s:
            version = config_store.rollback(s, config_store.seed_of(rt), version_id, user.username, now)
            if version is not None:
                audit.record(s, actor=user.username, action="config.rollback", object_type="config",
                             object_id=version.id, at=now, after={"rollback_of": version_id})
        config_store.reload(rt)
        request.session["flash"] = (f"已回滚到版本 {version_id}（新版本 {version.id}），立即生效"
                                    if version else "当前配置已与该版本相同，未记录新版本")
    except YuqingError as exc:
        request.session["flash"] = f"回滚失败：{exc}"
    return RedirectResponse("/admin/config/history", status_code=303)


@router.get("/admin/config/{section}", response_class=HTMLResponse, include_in_schema=False)
def config_edit(section: str, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    require(user, "admin")
    section = _section_or_404(section)
    rt = rt_of(request)
    config_store.reload(rt)  # edit the version in force, even one recorded by another process
    return _editor(request, user, section, config_store.section_data(rt.settings, section), {})


@router.post("/admin/config/{section}", include_in_schema=False, dependencies=[Depends(verify_csrf)])
async def config_save(section: str, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    """Save one section as a new version; invalid: the form again with the errors, nothing saved."""
    require(user, "admin")
    section = _section_or_404(section)
    form = {k: str(v) for k, v in (await request.form()).multi_items()}
    comment = form.get("__comment", "")[:500]
    data, errors = config_form.parse(section, form)
    rt = rt_of(request)
    now = rt.clock.now()
    version = None
    conflict = _conflict(rt, section, form.get("__base_version", ""))
    if conflict:
        errors = {"": conflict}
    if not errors:
        try:
            with rt.session() as s:
                version = config_store.save(s, config_store.seed_of(rt), {section: data}, user.username, now,
                                            comment=comment)
                if version is not None:
                    audit.record(s, actor=user.username, action="config.save", object_type="config",
                                 object_id=version.id, at=now, after={"changed": version.changed})
        except config_store.ConfigInvalid as exc:
            errors = exc.errors
    if errors:
        return _editor(request, user, section, data, errors, comment=comment, status_code=400,
                       base_version=form.get("__base_version", "")[:20])
    config_store.reload(rt)
    request.session["flash"] = (f"已保存为配置版本 {version.id}：本页立即生效，运行中的服务一分钟内生效，无需重启"
                                if version else "配置未变化，未记录新版本")
    return RedirectResponse(f"/admin/config/{section}", status_code=303)
