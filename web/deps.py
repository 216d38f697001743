"""Request dependencies: the runtime, the signed-in user, permissions, CSRF protection, client address.

A session is valid only while its user exists, is active and still has the session generation
the session was issued under (web.auth.revoke_sessions ends older ones). The client address is
the TCP peer; X-Forwarded-For counts only when the peer is one of ``web.trusted_proxies``.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from functools import lru_cache

from fastapi import HTTPException, Request
from sqlalchemy import select

from web.auth import ROLE_ZH, Role, can, session_generation
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
    if not username or not isinstance(username, str):
        return None
    with rt_of(request).session() as s:
        row = s.scalar(select(UserRow).where(UserRow.username == username))
        if row is None or not row.active or request.session.get("gen") != session_generation(s, username):
            request.session.clear()
            return None
        return CurrentUser(row.username, row.display_name, row.role)


@lru_cache(maxsize=32)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Request) -> str:
    """The client's address: the peer, or — behind a trusted proxy — the nearest untrusted hop of
    X-Forwarded-For (read right to left, so a client cannot choose it by prepending entries)."""
    peer = request.client.host if request.client else "?"
    networks = _networks(tuple(rt_of(request).settings.web.trusted_proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    address = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a malformed hop: keep the last address we could check
        address = hop
        if not _trusted(hop, networks):
            break
    return address


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
