"""报告: daily / weekly / monthly briefs and the special report of one incident (HTML, Markdown, .docx)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from reports import build, build_data
from reports.render import to_html
from web.deps import CurrentUser, csrf_token, page_user, rt_of
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
                 user: CurrentUser = Depends(page_user)) -> Response:
    rt = rt_of(request)
    try:
        data = build_data(kind, rt, _day(day), incident)
    except YuqingError as exc:
        raise HTTPException(400, str(exc)) from None
    return templates.TemplateResponse(request, "reports.html", {
        "user": user, "csrf": csrf_token(request), "kind": kind, "day": day or "", "incident": incident or "",
        "body": to_html(data, standalone=False)})


@router.get("/reports/{kind}.{fmt}", include_in_schema=False)
def download(kind: str, fmt: str, request: Request, day: str | None = None, incident: int | None = None,
             user: CurrentUser = Depends(page_user)) -> Response:
    if fmt not in MEDIA:
        raise HTTPException(404, "不支持的格式")
    try:
        body = build(kind, rt_of(request), fmt, _day(day), incident)
    except YuqingError as exc:
        raise HTTPException(400, str(exc)) from None
    name = f"yuqing-{kind}{'-' + str(incident) if incident else ''}{'-' + day if day else ''}.{fmt}"
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": f"attachment; filename={name}"})
