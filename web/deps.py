"""Request dependencies: the runtime, the signed-in user, permissions, CSRF protection, client address.

A session is valid only while its user exists, is active and still has the session generation
the session was issued under (web.auth.revoke_sessions ends older ones). The client address is
the TCP peer; X-Forwarded-For counts only when the peer is one of ``web.trusted_proxies``.

API requests may instead send ``Authorization: Bearer <personal token>`` (web.api_tokens): such a
request is authenticated by the token alone (a session cookie sent with it is ignored), carries the
token user's role, and needs no CSRF token (a browser never adds that header across sites); an
unknown or revoked token, or one of a disabled user, is a 401. Pages accept only the session.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from functools import lru_cache

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
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
    unit_id: str | None = None  # the federation unit (users.unit_id); None = the root
    scope: frozenset[str] | None = None  # unit ids whose incidents the user sees (web.scope); None = all

    @property
    def role_zh(self) -> str:
        return ROLE_ZH[Role(self.role)]

    def can(self, permission: str) -> bool:
        return can(self.role, permission)


def _current(rt: Runtime, row: UserRow) -> CurrentUser:
    from web.scope import scope_for

    scope = scope_for(rt.settings, row.unit_id)
    return CurrentUser(row.username, row.display_name, row.role, row.unit_id,
                       frozenset(scope) if scope is not None else None)


class LoginRequired(Exception):
    """Raised for pages: the app turns it into a redirect to /login."""


def rt_of(request: Request) -> Runtime:
    return request.app.state.rt


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def _app_path(request: Request) -> str:
    """The request's path inside the app (without web.root_path, when served under a prefix)."""
    path, root = request.scope.get("path", ""), request.scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


async def verify_csrf(request: Request) -> None:
    """Every state-changing request carries the session's token (form field or X-CSRF-Token header),
    unless it is authenticated by a personal API token (then the token must be valid: else 401)."""
    if request.method not in UNSAFE:
        return
    if bearer_token(request) is not None and _app_path(request).startswith("/api/"):
        token_user(request)
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
        return _current(rt_of(request), row)


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


BEARER_REFUSED = "API 令牌无效、已撤销，或其用户已停用"


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, else None."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def token_user(request: Request) -> CurrentUser:
    """The user of the request's bearer token (checked once per request); 401 when it is not valid."""
    cached = getattr(request.state, "token_user", None)
    if cached is not None:
        return cached
    from web.api_tokens import authenticate

    rt = rt_of(request)
    with rt.session() as s:
        row = authenticate(s, bearer_token(request) or "", rt.clock.now())
        if row is None:
            raise HTTPException(status_code=401, detail=BEARER_REFUSED,
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        user = _current(rt, row)
    request.state.token_user = user
    return user


# documented in OpenAPI only (web.deps reads the header and the cookie itself)
BEARER_SCHEME = HTTPBearer(auto_error=False, scheme_name="bearerToken", bearerFormat="yq_…",
                           description="个人 API 令牌（yuqing token create 或网页“API 令牌”页创建）："
                                       "Authorization: Bearer yq_…；不需要 CSRF 令牌")
COOKIE_SCHEME = APIKeyCookie(name="yuqing_session", auto_error=False, scheme_name="sessionCookie",
                             description="网页登录会话；改变状态的请求须带 X-CSRF-Token（GET /api/me 提供）")


def api_user(request: Request,
             _bearer: HTTPAuthorizationCredentials | None = Security(BEARER_SCHEME),
             _cookie: str | None = Security(COOKIE_SCHEME)) -> CurrentUser:
    """The API caller: by bearer token when the request has one, else by the signed-in session."""
    if bearer_token(request) is not None:
        return token_user(request)
    user = _load_user(request)
    if user is None:
        raise HTTPException(status_code=401, detail="未登录")
    return user


def require(user: CurrentUser, permission: str) -> None:
    if not user.can(permission):
        raise HTTPException(status_code=403, detail=f"当前角色（{user.role_zh}）无权执行此操作")
