"""Read side of the integrator API: the incident list and an incident's posts, as pydantic models.

Guarantees: every time is ISO 8601 in Beijing time (``+08:00``); incident titles, post titles and
texts (masked together) and authors are masked; a post URL is given only when it is http(s);
platform, category, severity and stage come with their Chinese names. Which incidents a caller may
read is decided by :func:`incidents_query` alone — the one place to add a visibility filter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from web.deps import CurrentUser
from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow
from yuqing.domain import Category, Stage, category_zh, severity_zh, stage_zh
from yuqing.exits import masked_post, safe_url
from yuqing.platforms import platform_zh
from yuqing.privacy import mask
from yuqing.timeutil import iso_shanghai, parse_datetime, to_shanghai

OPEN = "open"
MAX_LIMIT = 200


class RegionOut(BaseModel):
    code: str = Field(description="行政区划代码（12 位；镇街、村居为“县级代码/名称”）")
    name: str
    level: str = Field(description="province / city / county / town / village")
    confidence: float


class IncidentOut(BaseModel):
    id: int
    title: str = Field(description="事件标题（已去标识化）")
    category: str
    category_zh: str
    severity: int = Field(description="舆情等级 0–4")
    severity_zh: str
    stage: str
    stage_zh: str
    heat: float
    posts: int = Field(description="帖子数")
    detected_at: datetime | None = Field(description="发现时间（北京时间）")
    clock_started_at: datetime | None = Field(description="12小时响应计时起点：最早帖子发布时间（北京时间）")
    deadline: datetime | None = Field(description="回应时限（北京时间）")
    first_response_at: datetime | None
    acknowledged_at: datetime | None
    last_post_at: datetime | None
    closed_at: datetime | None
    region: RegionOut | None = Field(default=None, description="事发地：帖子一致指向的最具体地点（行政区划代码）；未识别为 null")
    unit: str | None = Field(default=None, description="责任单位 id（units 配置）；未配置单位或归顶级单位研判时为 null")
    web_url: str = Field(description="网页上的事件工作台（相对地址）")


class IncidentPage(BaseModel):
    total: int = Field(description="符合条件的事件总数")
    limit: int
    offset: int
    incidents: list[IncidentOut]


class PostOut(BaseModel):
    id: str
    platform: str
    platform_zh: str
    author: str = Field(description="作者（已去标识化）")
    title: str
    text: str = Field(description="正文（已去标识化）")
    url: str | None = Field(description="原文链接（仅 http/https）")
    published_at: datetime | None = Field(description="发布时间（北京时间）")
    reposts: int
    comments: int
    likes: int
    category: str | None
    category_zh: str
    severity: int | None
    reason: str = Field(description="归入事件的原因：opened / repost / near_dup / similar / manual")
    added_at: datetime | None = Field(description="归入事件的时间（北京时间）")


class PostPage(BaseModel):
    incident_id: int
    total: int
    limit: int
    offset: int
    posts: list[PostOut]


class IncidentFilters(BaseModel):
    """Already checked filters of ``GET /api/incidents``."""

    stages: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    severity_min: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str = ""


def _bj(value: datetime | None) -> datetime | None:
    return None if value is None else to_shanghai(value)


def parse_filters(stage: str, category: str, severity_min: str, since: str, until: str, q: str) -> \
        tuple[IncidentFilters, dict[str, str]]:
    """The filters, or field errors in Chinese (never an exception)."""
    errors: dict[str, str] = {}
    stages = [v.strip() for v in stage.split(",") if v.strip()]
    known_stages = {s.value for s in Stage}
    if any(v not in known_stages | {OPEN} for v in stages):
        errors["stage"] = f"阶段只能是 {' / '.join([OPEN, *known_stages])}（可逗号分隔）"
    if OPEN in stages:
        stages = sorted({*(v for v in stages if v != OPEN), *(s.value for s in Stage if s.is_open)})
    categories = [v.strip() for v in category.split(",") if v.strip()]
    if any(v not in {c.value for c in Category} for v in categories):
        errors["category"] = f"类别只能是 {' / '.join(c.value for c in Category)}（可逗号分隔）"
    sev = None
    if severity_min.strip():
        if severity_min.strip().isdigit() and 0 <= int(severity_min) <= 4:
            sev = int(severity_min)
        else:
            errors["severity_min"] = "最低等级应为 0–4"
    times: dict[str, datetime | None] = {}
    for name, value in (("since", since), ("until", until)):
        times[name] = None
        if value.strip():
            try:
                parsed = parse_datetime(value.strip()[:64])
                if not 1900 <= parsed.year <= 2199:
                    raise ValueError
                times[name] = parsed
            except (ValueError, OverflowError):
                errors[name] = "时间应为 ISO 8601，如 2026-03-02 或 2026-03-02T09:15+08:00（无时区按北京时间）"
    if times["since"] and times["until"] and times["since"] >= times["until"]:
        errors["until"] = "结束时间必须晚于起始时间"
    if len(q) > 200 or "\x00" in q:
        errors["q"] = "关键词过长（最多 200 字）或含有无效字符"
    return IncidentFilters(stages=stages, categories=categories, severity_min=sev, since=times["since"],
                           until=times["until"], q=q.strip()), errors


def incidents_query(user: CurrentUser) -> Select[tuple[IncidentRow]]:
    """The incidents ``user`` may read through the API (merged ones included: the list leaves them out).

    Every incident-reading path of the API starts here: a visibility filter goes in this one place.
    A user of a federation unit reads its unit's incidents and those below it (web.scope); the
    others answer as if they did not exist.
    """
    query = select(IncidentRow)
    if user.scope is not None:
        query = query.where(IncidentRow.unit_id.in_(sorted(user.scope)))
    return query


def _post_counts(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(session.execute(select(IncidentPostRow.incident_id, func.count()).where(
        IncidentPostRow.incident_id.in_(ids)).group_by(IncidentPostRow.incident_id)).all())


def incident_out(row: IncidentRow, posts: int) -> IncidentOut:
    return IncidentOut(
        id=row.id, title=mask(row.title or ""), category=row.category, category_zh=category_zh(row.category),
        severity=row.severity, severity_zh=severity_zh(row.severity), stage=row.stage, stage_zh=stage_zh(row.stage),
        heat=round(row.heat or 0.0, 2), posts=posts, detected_at=_bj(row.detected_at),
        clock_started_at=_bj(row.clock_started_at), deadline=_bj(row.deadline),
        first_response_at=_bj(row.first_response_at), acknowledged_at=_bj(row.acknowledged_at),
        last_post_at=_bj(row.last_post_at), closed_at=_bj(row.closed_at), region=_region(row),
        unit=row.unit_id, web_url=f"/incidents/{row.id}")


def _region(row: IncidentRow) -> RegionOut | None:
    from alerting.engine.region import region_json

    data = region_json(row)
    return RegionOut(**data) if data else None


def list_incidents(session: Session, user: CurrentUser, filters: IncidentFilters, limit: int,
                   offset: int) -> IncidentPage:
    """One page of incidents, newest first (by 发现时间), with the total matching the filters."""
    query = incidents_query(user).where(IncidentRow.merged_into.is_(None))  # merged ones live on in their target
    if filters.stages:
        query = query.where(IncidentRow.stage.in_(filters.stages))
    if filters.categories:
        query = query.where(IncidentRow.category.in_(filters.categories))
    if filters.severity_min is not None:
        query = query.where(IncidentRow.severity >= filters.severity_min)
    if filters.since is not None:
        query = query.where(IncidentRow.detected_at >= filters.since)
    if filters.until is not None:
        query = query.where(IncidentRow.detected_at < filters.until)
    if filters.q:
        like = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(IncidentRow.title.ilike(like, escape="\\"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(IncidentRow.detected_at.desc(), IncidentRow.id.desc())
                                .limit(limit).offset(offset)))
    counts = _post_counts(session, [r.id for r in rows])
    return IncidentPage(total=total, limit=limit, offset=offset,
                        incidents=[incident_out(r, counts.get(r.id, 0)) for r in rows])


def find_incident(session: Session, user: CurrentUser, incident_id: int) -> IncidentRow | None:
    return session.scalar(incidents_query(user).where(IncidentRow.id == incident_id))


def incident_posts(session: Session, user: CurrentUser, incident_id: int, limit: int, offset: int) -> PostPage | None:
    """One page of an incident's posts in order of publication; None when the incident is not readable."""
    if find_incident(session, user, incident_id) is None:
        return None
    base = (select(PostRow, IncidentPostRow).join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
            .where(IncidentPostRow.incident_id == incident_id))
    total = session.scalar(select(func.count()).select_from(IncidentPostRow).where(
        IncidentPostRow.incident_id == incident_id)) or 0
    rows = session.execute(base.order_by(PostRow.published_at.is_(None), PostRow.published_at, PostRow.id)
                           .limit(limit).offset(offset)).all()
    posts = []
    for post, link in rows:
        shown = masked_post({"title": post.title, "text": post.text, "author": post.author})
        posts.append(PostOut(
            id=post.id, platform=post.platform, platform_zh=platform_zh(post.platform), author=shown["author"],
            title=shown["title"], text=shown["text"], url=safe_url(post.url), published_at=_bj(post.published_at),
            reposts=post.reposts or 0, comments=post.comments or 0, likes=post.likes or 0, category=post.category,
            category_zh=category_zh(post.category), severity=post.severity, reason=link.reason,
            added_at=_bj(link.added_at)))
    return PostPage(incident_id=incident_id, total=total, limit=limit, offset=offset, posts=posts)


def beijing_hits(data: dict[str, Any]) -> dict[str, Any]:
    """Search JSON with every ``*_at`` time of a hit in Beijing time and the platform's Chinese name."""
    for hit in data.get("hits", []):
        for key, value in list(hit.items()):
            if key.endswith("_at") and isinstance(value, str) and value:
                try:
                    hit[key] = iso_shanghai(parse_datetime(value))
                except ValueError:
                    pass
        if "platform" in hit:
            hit["platform_zh"] = platform_zh(hit.get("platform"))
    return data


__all__ = ["IncidentOut", "IncidentPage", "PostOut", "PostPage", "incidents_query", "list_incidents",
           "incident_posts", "parse_filters", "beijing_hits"]
