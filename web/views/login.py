"""Sign in and out (session cookie: HttpOnly, SameSite=strict; CSRF on every form).

A successful login starts a fresh session: new CSRF token, the user's session generation.
Logout ends every session of the user. Refusals: one generic message (web.auth).
"""

from __future__ import annotations

import math
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from web.auth import GENERIC_FAILURE, authenticate, revoke_sessions, session_generation
from web.deps import client_address, csrf_token, rt_of, verify_csrf
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
    client = client_address(request)
    limiter, backoff = request.app.state.limiter, request.app.state.backoff
    username = username.strip()[:128]
    error = ""
    wait = backoff.wait_seconds(username, client, now) if username else 0.0
    if limiter.blocked(client, now):
        error = "尝试次数过多，请稍后再试"
    elif not username or not password:
        error = "请输入用户名和密码"
    elif wait > 0:
        error = f"{GENERIC_FAILURE}；尝试过于频繁，请 {math.ceil(wait)} 秒后再试"
    else:
        with rt.session() as s:
            user, error = authenticate(s, username, password[:1024], now)
            role = user.role if user else None
            gen = session_generation(s, username) if user else None
        if user is not None:
            backoff.succeeded(username, client)
            request.session.clear()  # nothing of the anonymous session survives, its CSRF token included
            request.session.update({"user": username, "role": role, "gen": gen,
                                    "csrf": secrets.token_urlsafe(32)})
            return RedirectResponse(_safe_next(next), status_code=303)
        backoff.failed(username, client, now)
        limiter.failed(client, now)
    return templates.TemplateResponse(request, "login.html", {"user": None, "csrf": csrf_token(request),
                                                              "next": _safe_next(next), "error": error,
                                                              "username": username}, status_code=400)


@router.post("/logout", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def logout(request: Request) -> RedirectResponse:
    username = request.session.get("user")
    if isinstance(username, str) and username:
        rt = rt_of(request)
        with rt.session() as s:
            if request.session.get("gen") == session_generation(s, username):
                revoke_sessions(s, username)  # this cookie, and any copy of it, ends here
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
