"""Accounts: roles, argon2 password hashes, login with back-off, revocable sessions, user management.

Guarantees:

* one failure message for every refused login (wrong password, unknown user, disabled user):
  :data:`GENERIC_FAILURE` — nothing tells an outsider whether an account exists;
* failures slow down the (account, client address) pair that made them — after
  ``login_max_attempts`` failures each further attempt must wait 1 s, 2 s, 4 s … up to
  ``login_lock_minutes`` — so nobody can lock the owner out from elsewhere; the wait applies to
  unknown user names too (no enumeration by timing of the refusal);
* a per-client window (:class:`LoginLimiter`) bounds password spraying across accounts;
* every session carries its user's session generation; logout, a password change and
  disabling the user increase it (:func:`revoke_sessions`), ending every older session.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from yuqing import audit
from yuqing.db.models import UserRow
from yuqing.errors import InputError

_HASHER = PasswordHasher()
MIN_PASSWORD = 8
GENERIC_FAILURE = "用户名或密码错误"


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
    # 查看原文: every page and API answer is masked for every role; a role with this permission gets an
    # explicit per-post "查看原文" action (page and API), and each such view is written to the audit log
    "view_original": {Role.analyst, Role.admin},
    "admin": {Role.admin},
}
PERMISSION_ZH = {"ack": "确认告警", "respond": "处置应对", "search": "检索", "export": "导出",
                 "view_original": "查看原文", "admin": "系统管理"}


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
    """New password; every existing session of the user ends (session generation + 1)."""
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    revoke_sessions(session, username)
    audit.record(session, actor=actor, action="user.passwd", object_type="user", object_id=username, at=now)


def set_active(session: Session, username: str, active: bool, now: datetime, actor: str = "system") -> None:
    user = get_user(session, username)
    before = user.active
    user.active = active
    if not active:
        revoke_sessions(session, username)
    audit.record(session, actor=actor, action="user.enable" if active else "user.disable", object_type="user",
                 object_id=username, at=now, before={"active": before}, after={"active": active})


# --- revocable sessions ------------------------------------------------------------------------
# users.session_gen (migration 0007). Read and written with SQL text until yuqing/db/models.py
# maps the column on UserRow.

def session_generation(session: Session, username: str) -> int | None:
    """The user's current session generation; None when the user does not exist."""
    value = session.execute(text("SELECT session_gen FROM users WHERE username = :u"), {"u": username}).scalar()
    return None if value is None else int(value)


def revoke_sessions(session: Session, username: str) -> None:
    """End every session of the user issued so far (logout, password change, disable)."""
    session.flush()
    session.execute(text("UPDATE users SET session_gen = session_gen + 1 WHERE username = :u"), {"u": username})


# --- login throttling --------------------------------------------------------------------------

class LoginLimiter:
    """Per-client sliding window (in memory): bounds attempts from one address across all accounts."""

    def __init__(self, max_attempts: int = 30, window: timedelta = timedelta(minutes=5),
                 max_clients: int = 10_000) -> None:
        self.max_attempts = max_attempts
        self.window = window
        self.max_clients = max_clients
        self._hits: dict[str, deque[datetime]] = defaultdict(deque)

    def blocked(self, client: str, now: datetime) -> bool:
        hits = self._hits.get(client)
        if hits is None:
            return False
        while hits and now - hits[0] > self.window:
            hits.popleft()
        if not hits:
            del self._hits[client]
            return False
        return len(hits) >= self.max_attempts

    def failed(self, client: str, now: datetime) -> None:
        if len(self._hits) >= self.max_clients and client not in self._hits:
            self._hits.pop(next(iter(self._hits)))  # memory bound: forget the oldest client
        self._hits[client].append(now)


@dataclass
class _Backoff:
    failures: int = 0
    last: datetime | None = None
    until: datetime | None = None


class LoginBackoff:
    """Exponential back-off per (user name as typed, client address), in memory, bounded in size."""

    def __init__(self, free_attempts: int = 5, cap: timedelta = timedelta(minutes=15),
                 forget_after: timedelta = timedelta(hours=24), max_pairs: int = 50_000) -> None:
        self.free_attempts = free_attempts
        self.cap = cap
        self.forget_after = forget_after
        self.max_pairs = max_pairs
        self._pairs: OrderedDict[tuple[str, str], _Backoff] = OrderedDict()

    @staticmethod
    def _key(username: str, client: str) -> tuple[str, str]:
        return (username.strip().casefold()[:64], client)

    def wait_seconds(self, username: str, client: str, now: datetime) -> float:
        """Seconds this pair must still wait before an attempt is checked (0: go ahead)."""
        state = self._pairs.get(self._key(username, client))
        if state is None or state.until is None:
            return 0.0
        return max(0.0, (state.until - now).total_seconds())

    def failed(self, username: str, client: str, now: datetime) -> None:
        key = self._key(username, client)
        state = self._pairs.pop(key, None) or _Backoff()
        if state.last is not None and now - state.last > self.forget_after:
            state = _Backoff()
        state.failures += 1
        state.last = now
        extra = state.failures - self.free_attempts
        if extra >= 0:
            delay = min(self.cap.total_seconds(), float(2 ** min(extra, 30)))
            state.until = now + timedelta(seconds=delay)
        self._pairs[key] = state
        while len(self._pairs) > self.max_pairs:
            self._pairs.popitem(last=False)

    def succeeded(self, username: str, client: str) -> None:
        self._pairs.pop(self._key(username, client), None)


def authenticate(session: Session, username: str, password: str, now: datetime, max_attempts: int = 5,
                 lock_minutes: float = 15) -> tuple[UserRow | None, str]:
    """Returns (user, "") on success or (None, GENERIC_FAILURE) — the same reason for every refusal.

    Accounts are never locked here (see :class:`LoginBackoff` for the slow-down);
    ``max_attempts``/``lock_minutes`` are kept for callers of the old signature.
    """
    user = session.scalar(select(UserRow).where(UserRow.username == username.strip()))
    if user is None:
        _HASHER.hash(password or "x")  # about the time a verify takes
        return None, GENERIC_FAILURE
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        return None, GENERIC_FAILURE
    if not user.active:
        return None, GENERIC_FAILURE
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, actor=user.username, action="user.login", object_type="user", object_id=user.username,
                 at=now)
    return user, ""
