"""Previews of the notifications an incident sent, rendered the way the chat robots render them.

The incident page lists its notifications with a preview of the robot markdown
(:func:`alerting.messages.markdown`, the text 企业微信/钉钉/飞书 receive) rendered to HTML by
markdown-it (CommonMark, raw HTML off). Guarantees: the HTML comes only from markdown-it with raw HTML
disabled, and a link is made only for an http(s) URL (``validateLink``); so what a crawled post could
turn into a live link in a robot message shows up here as a live link, and a test in real Chromium can
check that none points anywhere foreign.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import messages
from yuqing.db.models import NotificationRow
from yuqing.exits import safe_url

PREVIEW_LIMIT = 30


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.validateLink = lambda url: safe_url(url) is not None  # type: ignore[method-assign]
    return md


_MD = _renderer()


def robot_html(payload: dict[str, Any], now: datetime) -> str:
    """The robot markdown of one notification payload, rendered to (safe) HTML."""
    return _MD.render(messages.markdown(payload, now))


def notification_previews(session: Session, incident_id: int, now: datetime) -> list[dict[str, Any]]:
    """The incident's latest notifications (one per dedupe key), newest first, with their preview."""
    rows = session.scalars(select(NotificationRow).where(NotificationRow.incident_id == incident_id)
                           .order_by(NotificationRow.created_at.desc(), NotificationRow.id.desc())
                           .limit(PREVIEW_LIMIT * 4))
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        key = row.dedupe_key.rsplit(":", 1)[0]
        if key in seen:
            continue
        seen.add(key)
        payload = dict(row.payload or {})
        out.append({"id": row.id, "kind": messages.kind_zh(payload), "channel": row.channel,
                    "status": row.status, "created_at": row.created_at, "html": robot_html(payload, now)})
        if len(out) >= PREVIEW_LIMIT:
            break
    return out
