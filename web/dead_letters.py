"""Dead letters for 管理: posts the pipeline gave up on and notifications the sender gave up on.

A post is a dead letter when its status is ``dead`` (claimed ``MAX_ATTEMPTS`` times without
finishing: its worker kept dying, or the engine kept raising) or ``failed`` (bad data); a
notification when its status is ``dead``. :func:`requeue` puts one back in its queue with its
attempts reset, writes the audit log, and refuses anything that is not a dead letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing import audit
from yuqing.db.models import NotificationRow, PostRow
from yuqing.errors import YuqingError
from yuqing.platforms import platform_zh

DEAD_POST_STATUSES = ("dead", "failed")
LIMIT = 100


@dataclass
class DeadLetter:
    kind: str  # "post" | "notification"
    id: str
    what: str  # a short description (platform and text, or channel and notification kind)
    reason: str
    attempts: int
    at: datetime | None  # when it was given up (post) / its last attempt (notification)


def dead_letters(session: Session, limit: int = LIMIT) -> tuple[list[DeadLetter], list[DeadLetter]]:
    """The newest dead posts and dead notifications."""
    posts = [DeadLetter("post", r.id, f"{platform_zh(r.platform)}：{(r.title or r.text or '')[:60]}", r.error or "",
                        r.attempts or 0, r.processed_at)
             for r in session.scalars(select(PostRow).where(PostRow.status.in_(DEAD_POST_STATUSES))
                                      .order_by(PostRow.processed_at.desc(), PostRow.id).limit(limit))]
    notes = [DeadLetter("notification", str(r.id),
                        f"{r.channel} · {r.kind}" + (f" · 事件 #{r.incident_id}" if r.incident_id else ""),
                        r.last_error or "", r.attempts or 0, r.claimed_at or r.not_before)
             for r in session.scalars(select(NotificationRow).where(NotificationRow.status == "dead")
                                      .order_by(NotificationRow.claimed_at.desc(), NotificationRow.id.desc())
                                      .limit(limit))]
    return posts, notes


def requeue(session: Session, kind: str, object_id: str, actor: str, now: datetime) -> str:
    """Put one dead letter back in its queue (attempts 0); returns the Chinese confirmation."""
    if kind == "post":
        post = session.get(PostRow, object_id)
        if post is None or post.status not in DEAD_POST_STATUSES:
            raise YuqingError(f"帖子 {object_id} 不在死信中")
        before = {"status": post.status, "attempts": post.attempts, "error": post.error}
        post.status, post.attempts, post.claimed_at, post.error = "pending", 0, None, None
        audit.record(session, actor=actor, action="dead_letter.requeue", object_type="post",
                     object_id=object_id, at=now, before=before, after={"status": "pending"})
        return f"帖子 {object_id} 已重新排队"
    if kind == "notification":
        try:
            note = session.get(NotificationRow, int(object_id))
        except ValueError:
            note = None
        if note is None or note.status != "dead":
            raise YuqingError(f"通知 #{object_id} 不在死信中")
        before = {"status": note.status, "attempts": note.attempts, "last_error": note.last_error}
        note.status, note.attempts, note.claimed_by, note.claimed_at = "pending", 0, None, None
        note.not_before = now
        audit.record(session, actor=actor, action="dead_letter.requeue", object_type="notification",
                     object_id=object_id, at=now, before=before, after={"status": "pending"})
        return f"通知 #{object_id} 已重新排队"
    raise YuqingError(f"未知的死信类型：{kind}")
