"""Personal API tokens: create (shown once), list, revoke, and authenticate a ``Bearer`` token.

Guarantees:

* a token is ``yq_`` + 43 URL-safe characters (256 random bits); only its SHA-256 is stored, with
  its first 10 characters (``prefix``) to name it in lists — the token itself is never stored or logged;
* :func:`authenticate` accepts a token only while it is not revoked and its user exists and is
  active; a disabled user's tokens stop working at once and work again only if the user is re-enabled;
* a token carries its user's role as it is now (a role change applies to every token of the user);
* creating and revoking are written to the audit log (without the token).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from yuqing import audit
from yuqing.db.models import ApiTokenRow, UserRow
from yuqing.errors import InputError

TOKEN_PREFIX = "yq_"
PREFIX_LEN = 10
MAX_LABEL = 128
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token


@dataclass(frozen=True)
class NewToken:
    id: int
    username: str
    label: str
    prefix: str
    token: str  # shown once, never stored


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, username: str, label: str, now: datetime, actor: str) -> NewToken:
    """A new token for an existing, active user; returns the token text (the only time it exists)."""
    label = (label or "").strip()
    if not label:
        raise InputError("令牌用途（label）不能为空，例如：数据平台对接")
    if len(label) > MAX_LABEL:
        raise InputError(f"令牌用途（label）不超过 {MAX_LABEL} 个字符")
    user = session.scalar(select(UserRow).where(UserRow.username == username.strip()))
    if user is None:
        raise InputError(f"用户 {username} 不存在")
    if not user.active:
        raise InputError(f"用户 {username} 已停用，不能创建令牌")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(username=user.username, label=label, prefix=token[:PREFIX_LEN], token_hash=token_hash(token),
                      created_at=now, created_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="token.create", object_type="api_token", object_id=row.id, at=now,
                 after={"username": user.username, "label": label, "prefix": row.prefix})
    return NewToken(row.id, user.username, label, row.prefix, token)


def list_tokens(session: Session, username: str | None = None) -> list[ApiTokenRow]:
    """Tokens of one user (or of everyone), newest first; revoked ones included."""
    query = select(ApiTokenRow).order_by(ApiTokenRow.created_at.desc(), ApiTokenRow.id.desc())
    if username is not None:
        query = query.where(ApiTokenRow.username == username)
    return list(session.scalars(query))


def find_token(session: Session, ref: str) -> ApiTokenRow:
    """A token by its number or by the start of the token text (at least its 10-character prefix)."""
    ref = (ref or "").strip()
    if ref.isascii() and ref.isdigit() and len(ref) <= 18:
        row = session.get(ApiTokenRow, int(ref))
        if row is None:
            raise InputError(f"令牌 {ref} 不存在")
        return row
    if len(ref) < PREFIX_LEN or not ref.startswith(TOKEN_PREFIX):
        raise InputError(f"请给出令牌编号，或令牌开头至少 {PREFIX_LEN} 个字符（如 yq_AbCdEfG）")
    rows = list(session.scalars(select(ApiTokenRow).where(or_(
        ApiTokenRow.prefix == ref[:PREFIX_LEN], ApiTokenRow.token_hash == token_hash(ref)))))
    if len(ref) > PREFIX_LEN:  # a longer reference: the rows whose token really starts with it can't be told
        exact = [r for r in rows if r.token_hash == token_hash(ref)]
        rows = exact or rows
    if not rows:
        raise InputError(f"没有以 {ref[:PREFIX_LEN]} 开头的令牌")
    if len(rows) > 1:
        raise InputError(f"以 {ref[:PREFIX_LEN]} 开头的令牌有 {len(rows)} 个，请用令牌编号："
                         + "、".join(str(r.id) for r in rows))
    return rows[0]


def revoke_token(session: Session, row: ApiTokenRow, now: datetime, actor: str) -> bool:
    """Revoke one token; False if it was already revoked (nothing changes)."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now
    row.revoked_by = actor
    audit.record(session, actor=actor, action="token.revoke", object_type="api_token", object_id=row.id, at=now,
                 before={"revoked": False}, after={"revoked": True, "username": row.username, "label": row.label,
                                                    "prefix": row.prefix})
    return True


def authenticate(session: Session, token: str, now: datetime) -> UserRow | None:
    """The active user a live token belongs to, else None; notes when the token was last used."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = token_hash(token)
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
        return None
    user = session.scalar(select(UserRow).where(UserRow.username == row.username))
    if user is None or not user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
    return user
