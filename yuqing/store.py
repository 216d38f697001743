"""Store posts in the database: insert new ones, update engagement of known ones (with history).

Used by `yuqing ingest` and by the crawlers' storage pipeline, so both behave the same:
the same id never makes a second row; changed counts add an engagement sample and put the
post back in the pipeline queue so heat follows the spread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.db.models import EngagementRow, PostRow
from yuqing.domain import Post
from yuqing.timeutil import to_utc

COUNTS = ("reposts", "comments", "likes", "views")
_KNOWN = set(Post.model_fields)
_FILLABLE = ("url", "author", "author_id", "author_verified", "author_followers", "title",
             "published_at", "repost_of")


@dataclass
class StoreResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    new_ids: list[str] = field(default_factory=list)

    def __iadd__(self, other: StoreResult) -> StoreResult:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.new_ids += other.new_ids
        return self


def _extra(post: Post) -> dict:
    return {k: v for k, v in post.model_dump(mode="json").items() if k not in _KNOWN and v is not None}


def _row_from_post(post: Post, now: datetime, source: str | None) -> PostRow:
    return PostRow(
        id=post.id, platform=post.platform, url=post.url, author=post.author, author_id=post.author_id,
        author_verified=post.author_verified, author_followers=post.author_followers, title=post.title,
        text=post.text,
        published_at=to_utc(post.published_at) if post.published_at else None,
        fetched_at=to_utc(post.fetched_at) if post.fetched_at else None,
        first_seen_at=now, last_seen_at=now,
        reposts=post.reposts, comments=post.comments, likes=post.likes, views=post.views,
        keywords=list(post.keywords or []), repost_of=post.repost_of, source=source, extra=_extra(post),
        status="pending", attempts=0,
    )


def store_posts(session: Session, posts: Iterable[Post], now: datetime, source: str | None = None) -> StoreResult:
    """Upsert posts by id inside the caller's transaction. Idempotent for identical input."""
    result = StoreResult()
    batch = list(posts)  # in order: the same id twice in one batch is two sightings
    if not batch:
        return result
    ids = list({p.id for p in batch})
    existing = {row.id: row for row in session.scalars(select(PostRow).where(PostRow.id.in_(ids)))}
    now = to_utc(now)
    for post in batch:
        post_id = post.id
        seen_at = to_utc(post.fetched_at) if post.fetched_at else now
        row = existing.get(post_id)
        if row is None:
            row = existing[post_id] = _row_from_post(post, now, source)
            session.add(row)
            session.add(EngagementRow(post_id=post_id, seen_at=seen_at, reposts=post.reposts,
                                      comments=post.comments, likes=post.likes, views=post.views))
            result.new += 1
            result.new_ids.append(post_id)
            continue
        changed = False
        for name in COUNTS:
            value = getattr(post, name)
            if value is not None and value != getattr(row, name):
                setattr(row, name, value)
                changed = True
        for name in _FILLABLE:
            value = getattr(post, name)
            if value is not None and getattr(row, name) is None:
                setattr(row, name, to_utc(value) if isinstance(value, datetime) else value)
        if post.published_at and row.published_at and to_utc(post.published_at) < row.published_at:
            row.published_at = to_utc(post.published_at)
        merged = list(dict.fromkeys([*(row.keywords or []), *(post.keywords or [])]))
        if merged != list(row.keywords or []):
            row.keywords = merged
        if post.text and len(post.text) > len(row.text or ""):
            row.text = post.text  # a long-text fetch completes a truncated one
        row.last_seen_at = max(row.last_seen_at, now)
        if changed:
            session.add(EngagementRow(post_id=post_id, seen_at=seen_at, reposts=row.reposts,
                                      comments=row.comments, likes=row.likes, views=row.views))
            if row.status == "done":
                row.status = "pending"  # heat follows engagement: the pipeline looks again
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    return result
