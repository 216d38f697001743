"""The index document of a post: the same JSON-ready dict for every backend.

``folded`` is title + text folded exactly as the in-memory matcher folds it
(:func:`yuqing.query.normalize`), so a term matches in the index iff it matches in memory.
``published_at`` is the time field (falls back to fetched_at, then first_seen_at, so every
document has one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from search.sortkeys import ENGAGEMENT_KEY, TIME_KEY, engagement_key, time_key
from yuqing.db.models import PostRow
from yuqing.query import SchemeMatcher, normalize

# fields returned in hits (everything but the internal folded text)
POST_FIELDS = (
    "id", "platform", "url", "author", "author_id", "author_verified", "author_followers", "title", "text",
    "published_at", "fetched_at", "first_seen_at", "reposts", "comments", "likes", "views", "engagement",
    "keywords", "repost_of", "near_dup_of", "source", "category", "severity", "incident_ids",
)
FOLDED = "folded"


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def folded_text(title: str | None, text: str | None) -> str:
    """Exactly what :meth:`yuqing.query.Matcher.matches` folds."""
    return normalize(f"{title or ''}\n{text or ''}")


def doc_from_row(post_row: PostRow, incident_ids: list[int] | None = None,
                 schemes: SchemeMatcher | None = None) -> dict[str, Any]:
    """Build the index document; with ``schemes`` the matching scheme names join ``keywords``."""
    row = post_row
    folded = folded_text(row.title, row.text)
    keywords = [str(k) for k in (row.keywords or [])]
    if schemes is not None:
        for name, matcher in schemes.matchers:
            if name not in keywords and matcher.matches_text(folded):
                keywords.append(name)
    when = row.published_at or row.fetched_at or row.first_seen_at
    engagement = (row.reposts or 0) + (row.comments or 0) + (row.likes or 0)
    return {
        "id": row.id,
        "platform": row.platform,
        "url": row.url,
        "author": row.author,
        "author_id": row.author_id,
        "author_verified": row.author_verified,
        "author_followers": row.author_followers,
        "title": row.title,
        "text": row.text,
        "published_at": iso(when),
        "fetched_at": iso(row.fetched_at),
        "first_seen_at": iso(row.first_seen_at),
        "reposts": row.reposts,
        "comments": row.comments,
        "likes": row.likes,
        "views": row.views,
        "engagement": engagement,
        "keywords": keywords,
        "repost_of": row.repost_of,
        "near_dup_of": row.near_dup_of,
        "source": row.source,
        "category": row.category,
        "severity": row.severity,
        "incident_ids": sorted({int(i) for i in (incident_ids or [])}),
        FOLDED: folded,
        TIME_KEY: time_key(row.id, when),
        ENGAGEMENT_KEY: engagement_key(row.id, engagement),
    }


def post_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The post fields of a stored document, as hits return them."""
    return {k: doc.get(k) for k in POST_FIELDS}
