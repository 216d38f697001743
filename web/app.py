"""FastAPI application: server-rendered pages (Jinja2) and the JSON API under /api/.

Guarantees on every response: security headers (Content-Security-Policy for our own static files,
X-Frame-Options DENY, nosniff, Referrer-Policy). Malformed input never ends in a 500: FastAPI's
validation errors, numbers beyond 64 bits in the path or query, undecodable or too deeply nested
bodies, and input errors raised below the views are answered 4xx with a Chinese message. The API
description (/api/docs, /api/openapi.json) needs a signed-in user.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import StatementError
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.auth import LoginBackoff, LoginLimiter
from web.deps import CurrentUser, LoginRequired, api_user, page_user
from web.templating import templates
from yuqing.errors import InputError
from yuqing.runtime import Runtime
from yuqing.settings import secret

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)
INT64_MAX = 2**63 - 1

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
# Swagger UI is served from the fastapi-offline package (no CDN); its start-up script is inline, so
# only /api/docs gets this policy.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"cross-origin-opener-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """Pure ASGI middleware: adds the security headers to every HTTP response (errors included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = (DOCS_CSP if scope.get("path", "").endswith("/api/docs") else CSP).encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS.items() if k not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", csp))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _too_big(value: str) -> bool:
    text = value.strip().lstrip("#")
    digits = text[1:] if text[:1] in "+-" else text
    return digits.isascii() and digits.isdigit() and (len(digits) > 19 or int(digits) > INT64_MAX)


class NumberBounds:
    """Pure ASGI middleware: a path segment or query value that is an integer beyond 64 bits is a 400
    before any view sees it (such numbers reach the database as ids and crash its driver)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            from urllib.parse import parse_qsl

            path = scope.get("path", "")
            query = scope.get("query_string", b"").decode("latin-1")
            values = [*path.split("/"), *(v for _, v in parse_qsl(query, keep_blank_values=True))]
            if any(_too_big(v) for v in values if len(v) <= 10_000):
                response = JSONResponse({"detail": "数值超出范围（最大 9223372036854775807）"}, status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


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


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _error(request: Request, status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    return templates.TemplateResponse(request, "error.html", {"status": status, "detail": detail, "user": None},
                                      status_code=status, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    """FastAPI's validation errors as one Chinese sentence naming the fields."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form"))
        kind = str(err.get("type", ""))
        what = {"missing": "缺少", "int_parsing": "应为整数", "json_invalid": "不是有效的 JSON",
                "string_type": "应为文本", "int_type": "应为整数", "model_attributes_type": "格式不对",
                "dict_type": "应为 JSON 对象"}.get(kind, "无效")
        parts.append(f"{loc or '请求'}{what}")
    return "请求参数有误：" + "；".join(parts or ["格式不对"])


def _docs(app: FastAPI) -> None:
    """/api/openapi.json and /api/docs behind login or a token (the description lists every route);
    Swagger UI's files come from the installed fastapi-offline package, never from a CDN."""
    import fastapi_offline

    assets = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount("/api/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(user: CurrentUser = Depends(api_user)) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False)
    def docs(request: Request, user: CurrentUser = Depends(page_user)) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=f"{root}/api/openapi.json", title="yuqing 舆情监测 API",
                                   swagger_js_url=f"{root}/api/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}/api/docs-assets/swagger-ui.css",
                                   swagger_favicon_url=f"{root}/api/docs-assets/favicon.png",
                                   swagger_ui_parameters={"validatorUrl": None})


def create_app(rt: Runtime) -> FastAPI:
    from web.views import admin, api, board, incident, login, reports, search, tokens

    web = rt.settings.web
    app = FastAPI(title="yuqing 舆情监测 API", version="0.1.0", docs_url=None, openapi_url=None, redoc_url=None,
                  root_path=web.root_path)
    app.state.rt = rt
    app.state.limiter = LoginLimiter()
    app.state.backoff = LoginBackoff(free_attempts=web.login_max_attempts,
                                     cap=timedelta(minutes=web.login_lock_minutes))
    app.add_middleware(SessionMiddleware, secret_key=_secret_key(rt), session_cookie="yuqing_session",
                       same_site="strict", https_only=web.cookie_secure, max_age=int(web.session_hours * 3600))
    app.add_middleware(NumberBounds)
    from web.config_reload import ConfigReload

    app.add_middleware(ConfigReload, rt=rt)  # the configuration version in force, checked every 20 s
    app.add_middleware(SecurityHeaders)  # outermost: every response, errors included
    from web.views import charts as chart_views

    chart_views.mount_vendor(app)  # ECharts from node_modules, before /static (first match wins)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _docs(app)
    for module in (login, board, incident, search, reports, admin, api, tokens):
        app.include_router(module.router)
    app.include_router(chart_views.router)
    from alerting.slack_actions import router as slack_router

    # Slack's 确认 button: authenticated by Slack's request signature, not by our session/CSRF
    app.include_router(slack_router(rt), include_in_schema=False)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> RedirectResponse:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error(request, 422, _validation_detail(exc))

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> Response:
        return _error(request, 400, str(exc))

    async def _malformed(request: Request, exc: Exception) -> Response:
        """Malformed input that got past the views' own checks: a 400, logged for a later fix."""
        log.warning("请求 %s %s 的输入无法处理: %r", request.method, request.url.path, exc)
        return _error(request, 400, "请求内容无法处理（数值超出范围、编码无效或嵌套过深）")

    for kind in (OverflowError, RecursionError, UnicodeError):
        app.add_exception_handler(kind, _malformed)

    @app.exception_handler(StatementError)
    async def _statement(request: Request, exc: StatementError) -> Response:
        if isinstance(exc.orig, OverflowError | UnicodeError | ValueError):
            return await _malformed(request, exc)
        raise exc

    return app
