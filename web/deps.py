"""Request dependencies: the runtime, the signed-in user, permissions and CSRF protection."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from sqlalchemy import select

from web.auth import ROLE_ZH, Role, can
from yuqing.db.models import UserRow
from yuqing.runtime import Runtime

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class CurrentUser:
    username: str
    display_name: str
    role: str

    @property
    def role_zh(self) -> str:
        return ROLE_ZH[Role(self.role)]

    def can(self, permission: str) -> bool:
        return can(self.role, permission)


class LoginRequired(Exception):
    """Raised for pages: the app turns it into a redirect to /login."""


def rt_of(request: Request) -> Runtime:
    return request.app.state.rt


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def verify_csrf(request: Request) -> None:
    """Every state-changing request carries the session's token (form field or X-CSRF-Token header)."""
    if request.method not in UNSAFE:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(expected, sent):
        raise HTTPException(status_code=403, detail="CSRF 校验失败：请刷新页面后重试")


def _load_user(request: Request) -> CurrentUser | None:
    username = request.session.get("user")
    if not username:
        return None
    with rt_of(request).session() as s:
        row = s.scalar(select(UserRow).where(UserRow.username == username))
        if row is None or not row.active:
            request.session.clear()
            return None
        return CurrentUser(row.username, row.display_name, row.role)


def page_user(request: Request) -> CurrentUser:
    user = _load_user(request)
    if user is None:
        raise LoginRequired()
    return user


def api_user(request: Request) -> CurrentUser:
    user = _load_user(request)
    if user is None:
        raise HTTPException(status_code=401, detail="未登录")
    return user


def require(user: CurrentUser, permission: str) -> None:
    if not user.can(permission):
        raise HTTPException(status_code=403, detail=f"当前角色（{user.role_zh}）无权执行此操作")
