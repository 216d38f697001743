"""SQLAlchemy 2 models: the system of record. Change them only together with a migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime()}


class PostRow(Base):
    """One collected post. ``status`` drives the pipeline: pending → done (or failed)."""

    __tablename__ = "posts"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(255), index=True)
    author_id: Mapped[str | None] = mapped_column(String(255))
    author_verified: Mapped[bool | None] = mapped_column(Boolean)
    author_followers: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    fetched_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    reposts: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    likes: Mapped[int | None] = mapped_column(Integer)
    views: Mapped[int | None] = mapped_column(Integer)
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    repost_of: Mapped[str | None] = mapped_column(String(255), index=True)
    near_dup_of: Mapped[str | None] = mapped_column(String(255), index=True)
    source: Mapped[str | None] = mapped_column(String(64))  # spider name or "ingest"
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # unknown wire fields, kept
    # current classification (history in classifications)
    category: Mapped[str | None] = mapped_column(String(16), index=True)
    severity: Mapped[int | None] = mapped_column(Integer)
    # pipeline state
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None]
    indexed_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]  # pipeline claim (status 'processing'); stale claims are retaken

    engagement: Mapped[list[EngagementRow]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="EngagementRow.seen_at"
    )


class EngagementRow(Base):
    """Engagement counts each time a post is seen: how we see it spread."""

    __tablename__ = "post_engagement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    seen_at: Mapped[datetime]
    reposts: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    likes: Mapped[int | None] = mapped_column(Integer)
    views: Mapped[int | None] = mapped_column(Integer)

    post: Mapped[PostRow] = relationship(back_populates="engagement")


class ClassificationRow(Base):
    __tablename__ = "classifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    severity: Mapped[int] = mapped_column(Integer)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    model_version: Mapped[str] = mapped_column(String(64), default="")
    by_user: Mapped[str | None] = mapped_column(String(64))  # set when a person relabelled
    created_at: Mapped[datetime]


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[int] = mapped_column(Integer, index=True)
    peak_severity: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(16), index=True)
    heat: Mapped[float] = mapped_column(Float, default=0.0)
    peak_heat: Mapped[float] = mapped_column(Float, default=0.0)
    clock_started_at: Mapped[datetime | None]  # earliest published_at among its posts
    deadline: Mapped[datetime | None]
    detected_at: Mapped[datetime]  # when we first saw it
    first_response_at: Mapped[datetime | None]
    first_response_url: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    stage_entered_at: Mapped[datetime | None]
    last_post_at: Mapped[datetime | None]
    hot_search_rank: Mapped[int | None] = mapped_column(Integer)
    dismissed_reason: Mapped[str | None] = mapped_column(Text)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # grouping fingerprint
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0)
    # the owning federation unit (settings ``units``; migration 0010); unit_manual: moved by a person
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    unit_manual: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # where it is (alerting.engine.region, migration 0011): region code, full name, level, 0-1
    region_code: Mapped[str | None] = mapped_column(String(96), index=True)
    region_name: Mapped[str | None] = mapped_column(String(128))
    region_level: Mapped[str | None] = mapped_column(String(16))
    region_confidence: Mapped[float | None] = mapped_column(Float)

    posts: Mapped[list[IncidentPostRow]] = relationship(
        back_populates="incident", cascade="all, delete-orphan"
    )
    stages: Mapped[list[StageHistoryRow]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="StageHistoryRow.at"
    )


class IncidentPostRow(Base):
    __tablename__ = "incident_posts"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(32), default="similar")  # opened|repost|near_dup|similar|manual
    score: Mapped[float | None] = mapped_column(Float)

    incident: Mapped[IncidentRow] = relationship(back_populates="posts")


class HeatSampleRow(Base):
    __tablename__ = "incident_heat"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    heat: Mapped[float] = mapped_column(Float)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    engagement: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[int] = mapped_column(Integer, default=0)


class StageHistoryRow(Base):
    __tablename__ = "stage_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))  # a username or "system"
    reason: Mapped[str] = mapped_column(Text, default="")

    incident: Mapped[IncidentRow] = relationship(back_populates="stages")


class ResponseRow(Base):
    """Public responses (首次回应, 情况通报) and drafts (回应口径) of an incident."""

    __tablename__ = "incident_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # draft|first|update|review
    at: Mapped[datetime]
    url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(64))
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ChecklistItemRow(Base):
    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("incident_id", "stage", "item_id", name="uq_checklist_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    guidance: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    due_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|done|skipped
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(64))
    skip_reason: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class NotificationRow(Base):
    """Transactional outbox: written with the change that causes it, sent by a worker."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[Any]] = mapped_column(JSON, default=list)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    not_before: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|sending|sent|dead|suppressed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    external_id: Mapped[str | None] = mapped_column(String(255))  # e.g. Slack ts (thread root)
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[str | None] = mapped_column(String(64))  # the federation unit it went to (0010)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16))  # duty|responder|analyst|admin
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # raised by logout, a password change and disabling: every older session cookie stops working
    session_gen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unit_id: Mapped[str | None] = mapped_column(String(64))  # NULL = the root unit (sees everything)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(255))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text, default="")


class CrawlRunRow(Base):
    """One run of one source: counts, stats and the reason of any ban or captcha."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|ok|banned|failed
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    dropped: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # reason -> count
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ban_reason: Mapped[str | None] = mapped_column(Text)


class SourceStateRow(Base):
    """Per-source health and back-off (a banned source pauses with growing back-off)."""

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused_until: Mapped[datetime | None]
    backoff_level: Mapped[int] = mapped_column(Integer, default=0)
    last_ban_reason: Mapped[str | None] = mapped_column(Text)
    last_run_at: Mapped[datetime | None]
    last_ok_at: Mapped[datetime | None]
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # incremental paging state


class SavedSearchRow(Base):
    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(128))
    query: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


class LeaseRow(Base):
    """A named lease so that two `yuqing run` on one database never both send."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class KeyValueRow(Base):
    """Small runtime state (last digest sent, last tick, ...)."""

    __tablename__ = "kv_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class ConfigVersionRow(Base):
    """One version of the configuration edited in the web (yuqing/config_store.py): the complete
    document of the sections overridden in the database, who, when, why and the readable diff."""

    __tablename__ = "config_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime]
    username: Mapped[str] = mapped_column(String(128))
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    sections: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed: Mapped[list[Any]] = mapped_column(JSON)
    diff: Mapped[str] = mapped_column(Text, default="", server_default="")
    rollback_of: Mapped[int | None] = mapped_column(Integer)

class ApiTokenRow(Base):
    """A personal API token (migration 0009): only its SHA-256 is stored; ``prefix`` names it in lists."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_api_tokens_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(128), default="", server_default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))


Index("ix_posts_status_first_seen", PostRow.status, PostRow.first_seen_at)
Index("ix_notifications_due", NotificationRow.status, NotificationRow.not_before)
