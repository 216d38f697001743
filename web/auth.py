"""Accounts: roles, argon2 password hashes, login with rate limiting, user management."""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing import audit
from yuqing.db.models import UserRow
from yuqing.errors import InputError

_HASHER = PasswordHasher()
MIN_PASSWORD = 8


class Role(StrEnum):
    duty = "duty"  # 值班员
    responder = "responder"  # 应对
    analyst = "analyst"  # 分析
    admin = "admin"  # 管理员

    @property
    def zh(self) -> str:
        return ROLE_ZH[self]


ROLE_ZH = {Role.duty: "值班员", Role.responder: "应对人员", Role.analyst: "分析员", Role.admin: "管理员"}

# What each role may do. Viewing the board, incidents and reports is open to every role.
PERMISSIONS: dict[str, set[Role]] = {
    "ack": {Role.duty, Role.responder, Role.admin},
    "respond": {Role.responder, Role.admin},  # checklist, drafts, record response, stage changes
    "search": {Role.analyst, Role.responder, Role.admin, Role.duty},
    "export": {Role.analyst, Role.admin},
    "unmasked": {Role.responder, Role.admin},  # may see personal data in posts
    "admin": {Role.admin},
}


def can(role: str, permission: str) -> bool:
    return Role(role) in PERMISSIONS[permission]


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"密码至少 {MIN_PASSWORD} 位")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(session: Session, username: str, password: str, role: str, now: datetime,
             display_name: str = "", actor: str = "system") -> UserRow:
    username = username.strip()
    if not username or len(username) > 64:
        raise InputError("用户名不能为空，且不超过 64 个字符")
    if role not in {r.value for r in Role}:
        raise InputError(f"角色必须是 {', '.join(r.value for r in Role)} 之一（{', '.join(ROLE_ZH.values())}）")
    if session.scalar(select(UserRow).where(UserRow.username == username)):
        raise InputError(f"用户 {username} 已存在")
    user = UserRow(username=username, display_name=display_name or username, role=role,
                   password_hash=hash_password(password), active=True, failed_logins=0, created_at=now)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.add", object_type="user", object_id=username, at=now,
                 after={"role": role, "active": True})
    return user


def get_user(session: Session, username: str) -> UserRow:
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None:
        raise InputError(f"用户 {username} 不存在")
    return user


def set_password(session: Session, username: str, password: str, now: datetime, actor: str = "system") -> None:
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor=actor, action="user.passwd", object_type="user", object_id=username, at=now)


def set_active(session: Session, username: str, active: bool, now: datetime, actor: str = "system") -> None:
    user = get_user(session, username)
    before = user.active
    user.active = active
    audit.record(session, actor=actor, action="user.enable" if active else "user.disable", object_type="user",
                 object_id=username, at=now, before={"active": before}, after={"active": active})


class LoginLimiter:
    """Per-client sliding window (in memory) on top of the per-account lock in the database."""

    def __init__(self, max_attempts: int = 10, window: timedelta = timedelta(minutes=5)) -> None:
        self.max_attempts = max_attempts
        self.window = window
        self._hits: dict[str, deque[datetime]] = defaultdict(deque)

    def blocked(self, client: str, now: datetime) -> bool:
        hits = self._hits[client]
        while hits and now - hits[0] > self.window:
            hits.popleft()
        return len(hits) >= self.max_attempts

    def failed(self, client: str, now: datetime) -> None:
        self._hits[client].append(now)


def authenticate(session: Session, username: str, password: str, now: datetime, max_attempts: int,
                 lock_minutes: float) -> tuple[UserRow | None, str]:
    """Returns (user, "") on success or (None, Chinese reason). Failed attempts lock the account."""
    user = session.scalar(select(UserRow).where(UserRow.username == username.strip()))
    generic = "用户名或密码错误"
    if user is None:
        _HASHER.hash(password or "x")  # equalise timing a little
        return None, generic
    if not user.active:
        return None, "该账户已停用，请联系管理员"
    if user.locked_until and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        return None, f"登录失败次数过多，账户已锁定，请 {minutes} 分钟后再试"
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_attempts:
            user.locked_until = now + timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            audit.record(session, actor=username, action="user.locked", object_type="user",
                         object_id=username, at=now, detail="登录失败次数过多")
        return None, generic
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, actor=username, action="user.login", object_type="user", object_id=username, at=now)
    return user, ""
