"""FastAPI application: server-rendered pages (Jinja2) and the JSON API under /api/."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from web.auth import LoginLimiter
from web.deps import LoginRequired
from web.templating import templates
from yuqing.runtime import Runtime
from yuqing.settings import secret

STATIC = Path(__file__).resolve().parent / "static"


def _secret_key(rt: Runtime) -> str:
    """From the environment / secrets file, else a random key kept in the data dir (never in git)."""
    key = secret(rt.settings.web.secret_key_env, rt.settings)
    if key:
        return key
    path = rt.settings.data_path / "web_secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def create_app(rt: Runtime) -> FastAPI:
    from web.views import admin, api, board, incident, login, reports, search

    app = FastAPI(title="yuqing 舆情监测 API", version="0.1.0", docs_url="/api/docs",
                  openapi_url="/api/openapi.json", redoc_url=None, root_path=rt.settings.web.root_path)
    app.state.rt = rt
    app.state.limiter = LoginLimiter()
    app.add_middleware(SessionMiddleware, secret_key=_secret_key(rt), session_cookie="yuqing_session",
                       same_site="strict", https_only=rt.settings.web.cookie_secure, max_age=12 * 3600)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (login, board, incident, search, reports, admin, api):
        app.include_router(module.router)
    from alerting.slack_actions import router as slack_router

    # Slack's 确认 button: authenticated by Slack's request signature, not by our session/CSRF
    app.include_router(slack_router(rt), include_in_schema=False)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> HTMLResponse | JSONResponse:
        if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return templates.TemplateResponse(request, "error.html", {"status": exc.status_code, "detail": exc.detail,
                                                                  "user": None}, status_code=exc.status_code)

    return app
