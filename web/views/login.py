"""Sign in and out (session cookie: HttpOnly, SameSite=strict; CSRF on every form)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from web.auth import authenticate
from web.deps import csrf_token, rt_of, verify_csrf
from web.templating import templates

router = APIRouter()


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"user": None, "csrf": csrf_token(request),
                                                              "next": _safe_next(next), "error": ""})


@router.post("/login", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")):
    rt = rt_of(request)
    now = rt.clock.now()
    client = request.client.host if request.client else "?"
    limiter = request.app.state.limiter
    error = ""
    if limiter.blocked(client, now):
        error = "尝试次数过多，请稍后再试"
    elif not username or not password:
        error = "请输入用户名和密码"
    else:
        web = rt.settings.web
        with rt.session() as s:
            user, error = authenticate(s, username, password, now, web.login_max_attempts, web.login_lock_minutes)
            role = user.role if user else None
        if user is not None:
            csrf = request.session.get("csrf")
            request.session.clear()
            request.session.update({"user": username.strip(), "role": role, "csrf": csrf or ""})
            csrf_token(request)
            return RedirectResponse(_safe_next(next), status_code=303)
        limiter.failed(client, now)
    return templates.TemplateResponse(request, "login.html", {"user": None, "csrf": csrf_token(request),
                                                              "next": _safe_next(next), "error": error,
                                                              "username": username}, status_code=400)


@router.post("/logout", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
