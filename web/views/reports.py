"""报告: daily / weekly / monthly briefs and the special report of one incident (HTML, Markdown, .docx),
and the 各级妇联通报 (kind ``unit``, ``period`` month/quarter/year; HTML, Markdown, .docx). A user of a
federation unit gets reports of their unit's incidents and those below it only (web.scope); the
专报 of an incident outside them answers 404."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from reports import build, build_data
from reports.render import to_html
from web.deps import CurrentUser, csrf_token, page_user, rt_of
from web.scope import require_visible
from web.templating import templates
from yuqing.errors import YuqingError

router = APIRouter()
MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def _day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise HTTPException(400, "日期格式应为 2026-03-02") from None


@router.get("/reports", response_class=HTMLResponse, include_in_schema=False)
def reports_page(request: Request, kind: str = "daily", day: str | None = None, incident: int | None = None,
                 period: str = "month", user: CurrentUser = Depends(page_user)) -> Response:
    rt = rt_of(request)
    _visible(request, user, kind, incident)
    try:
        if kind == "unit":
            body = _unit_body(request, user, period, _day(day), "html").decode("utf-8")
        else:
            body = to_html(build_data(kind, rt, _day(day), incident, units=_units(user)), standalone=False)
    except YuqingError as exc:
        raise HTTPException(400, str(exc)) from None
    return templates.TemplateResponse(request, "reports.html", {
        "user": user, "csrf": csrf_token(request), "kind": kind, "day": day or "", "incident": incident or "",
        "body": body})


def _units(user: CurrentUser) -> set[str] | None:
    """The federation units whose incidents the user's reports cover (web.scope; None = all)."""
    return set(user.scope) if user.scope is not None else None


def _visible(request: Request, user: CurrentUser, kind: str, incident: int | None) -> None:
    if kind == "incident" and incident is not None:  # 专报 of an incident outside the user's units: 404
        require_visible(request, user.username, incident)


def _unit_body(request: Request, user: CurrentUser, period: str, day: date | None, fmt: str) -> bytes:
    """各级妇联通报 for the user's own unit and those below it."""
    from reports import units as unit_report
    from yuqing.timeutil import to_shanghai

    rt = rt_of(request)
    now = rt.clock.now()
    with rt.session() as s:
        data = unit_report.collect(s, rt.settings, period, day or to_shanghai(now).date(), now, scope=_units(user))
    if fmt == "docx":
        return unit_report.to_docx(data)
    if fmt == "md":
        return unit_report.to_markdown(data).encode("utf-8")
    return unit_report.to_html(data, standalone=fmt == "html").encode("utf-8")


@router.get("/reports/{kind}.{fmt}", include_in_schema=False)
def download(kind: str, fmt: str, request: Request, day: str | None = None, incident: int | None = None,
             period: str = "month", user: CurrentUser = Depends(page_user)) -> Response:
    if fmt not in MEDIA:
        raise HTTPException(404, "不支持的格式")
    _visible(request, user, kind, incident)
    try:
        body = _unit_body(request, user, period, _day(day), fmt) if kind == "unit" else \
            build(kind, rt_of(request), fmt, _day(day), incident, units=_units(user))
    except YuqingError as exc:
        raise HTTPException(400, str(exc)) from None
    name = f"yuqing-{kind}{'-' + str(incident) if incident else ''}{'-' + day if day else ''}.{fmt}"
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": f"attachment; filename={name}"})
