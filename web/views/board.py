"""值班台: open incidents with the live 12-hour countdown, unacknowledged alerts first."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from web import actions
from web.deps import CurrentUser, csrf_token, page_user, require, rt_of, verify_csrf
from web.read_models import board_rows
from web.scope import require_visible, visible_ids
from web.templating import templates

router = APIRouter()


def _context(request: Request, user: CurrentUser) -> dict:
    rt = rt_of(request)
    with rt.session() as s:
        rows = board_rows(s, rt.clock.now())
    shown = visible_ids(request, user.username, [r.id for r in rows])  # the user's unit and those below
    rows = [r for r in rows if r.id in shown]
    settings = rt.settings  # 责任单位 column once units are configured
    unit_names = ({u.id: u.name for u in settings.units} | {None: next(u.name for u in settings.units if u.parent is None)}
                  if settings.units else None)
    return {"user": user, "rows": rows, "unit_names": unit_names, "now": rt.clock.now(), "csrf": csrf_token(request),
            "flash": request.session.pop("flash", None)}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def board(request: Request, user: CurrentUser = Depends(page_user)) -> HTMLResponse:
    refresh = request.query_params.get("refresh", "15000")
    ok = refresh.isascii() and refresh.isdigit() and len(refresh) <= 8
    ctx = _context(request, user) | {"refresh_ms": min(max(int(refresh), 1000), 3_600_000) if ok else 15000}
    return templates.TemplateResponse(request, "board.html", ctx)


@router.get("/board/table", response_class=HTMLResponse, include_in_schema=False)
def board_table(request: Request, user: CurrentUser = Depends(page_user)) -> HTMLResponse:
    return templates.TemplateResponse(request, "board_table.html", _context(request, user))


@router.post("/incidents/{incident_id}/ack", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def ack(incident_id: int, request: Request, user: CurrentUser = Depends(page_user)) -> RedirectResponse:
    require(user, "ack")
    require_visible(request, user.username, incident_id)
    actions.run(rt_of(request), "ack", incident_id, user.username, {})
    request.session["flash"] = f"已确认事件 #{incident_id}"
    return RedirectResponse(_back(request.headers.get("referer") or "", request), status_code=303)


def _back(referer: str, request: Request) -> str:
    """Back to the incident page the ack came from — only a path of this site, never another host."""
    from urllib.parse import urlsplit

    parts = urlsplit(referer)
    own = not parts.netloc or parts.netloc == request.url.netloc
    if own and parts.path.startswith("/incidents/") and "//" not in parts.path and "\\" not in parts.path:
        return parts.path
    return "/"
