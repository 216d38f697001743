"""Collect the figures of a report period from the database (the system of record).

Reports are made to be passed on, so everything a report shows is masked here, once, before any
format renders it (``yuqing.exits``): incident titles (the 专报 heading too), the top posts (title and
text masked together, author), stage reasons; a post URL is kept only if it is http(s). The renderers
cut the masked text (``preview``), never the reverse."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuqing.db.models import ChecklistItemRow, IncidentPostRow, IncidentRow, PostRow, StageHistoryRow
from yuqing.domain import Category, Stage
from yuqing.exits import masked_post, safe_url
from yuqing.privacy import mask
from yuqing.timeutil import SHANGHAI


@dataclass
class IncidentLine:
    id: int
    title: str
    category: str
    severity: int
    stage: str
    clock_started_at: datetime | None
    deadline: datetime | None
    first_response_at: datetime | None
    posts: int
    heat: float

    @property
    def response_hours(self) -> float | None:
        if self.first_response_at is None or self.clock_started_at is None:
            return None
        return (self.first_response_at - self.clock_started_at).total_seconds() / 3600

    @property
    def on_time(self) -> bool | None:
        if self.first_response_at is None or self.deadline is None:
            return None
        return self.first_response_at <= self.deadline


@dataclass
class ReportData:
    kind: str  # daily|weekly|monthly|incident
    title: str
    start: datetime
    end: datetime
    generated_at: datetime
    posts_total: int = 0
    posts_crisis: int = 0
    by_category: dict[str, int] = field(default_factory=dict)  # incidents active in period
    by_severity: dict[int, int] = field(default_factory=dict)
    posts_by_platform: dict[str, int] = field(default_factory=dict)
    new_incidents: list[IncidentLine] = field(default_factory=list)
    closed_incidents: list[IncidentLine] = field(default_factory=list)
    open_incidents: list[IncidentLine] = field(default_factory=list)
    responded: list[IncidentLine] = field(default_factory=list)
    overdue_items: list[dict] = field(default_factory=list)
    top_posts: list[dict] = field(default_factory=list)
    stage_history: list[dict] = field(default_factory=list)  # incident report only
    incident: IncidentLine | None = None

    @property
    def timely_rate(self) -> float | None:
        """及时率: share of first responses within the clock (seed 002 时效指标)."""
        judged = [i for i in self.responded if i.on_time is not None]
        if not judged:
            return None
        return sum(1 for i in judged if i.on_time) / len(judged)

    @property
    def mean_response_hours(self) -> float | None:
        hours = [i.response_hours for i in self.responded if i.response_hours is not None]
        return sum(hours) / len(hours) if hours else None


def period(kind: str, day: date) -> tuple[datetime, datetime, str]:
    """Start/end (aware) of the report period containing `day`, in Asia/Shanghai days."""
    start_day = day
    if kind == "daily":
        end_day = day + timedelta(days=1)
        title = f"舆情日报（{day:%Y年%m月%d日}）"
    elif kind == "weekly":
        start_day = day - timedelta(days=day.weekday())
        end_day = start_day + timedelta(days=7)
        title = f"舆情周报（{start_day:%Y年%m月%d日}—{end_day - timedelta(days=1):%m月%d日}）"
    elif kind == "monthly":
        start_day = day.replace(day=1)
        end_day = (start_day + timedelta(days=32)).replace(day=1)
        title = f"舆情月报（{start_day:%Y年%m月}）"
    else:
        raise ValueError(kind)
    start = datetime.combine(start_day, time(), SHANGHAI)
    end = datetime.combine(end_day, time(), SHANGHAI)
    return start, end, title


def _line(session: Session, row: IncidentRow) -> IncidentLine:
    count = session.scalar(select(func.count()).select_from(IncidentPostRow)
                           .where(IncidentPostRow.incident_id == row.id)) or 0
    return IncidentLine(row.id, mask(row.title or ""), row.category, row.severity, row.stage, row.clock_started_at,
                        row.deadline, row.first_response_at, count, row.heat)


def _top_posts(session: Session, where: list, limit: int = 10) -> list[dict]:
    engagement = (func.coalesce(PostRow.reposts, 0) + func.coalesce(PostRow.comments, 0)
                  + func.coalesce(PostRow.likes, 0))
    rows = session.execute(select(PostRow, engagement.label("eng")).where(*where)
                           .order_by(engagement.desc()).limit(limit)).all()
    return [masked_post({"id": p.id, "platform": p.platform, "author": p.author or "", "title": p.title or "",
                         "text": p.text or "", "url": safe_url(p.url) or "", "published_at": p.published_at,
                         "engagement": int(eng), "category": p.category, "severity": p.severity})
            for p, eng in rows]


def collect(session: Session, kind: str, day: date, now: datetime, units: set[str] | None = None) -> ReportData:
    """The period's figures; ``units`` (federation unit ids, None = all) keeps the incidents, their
    overdue items and the top posts to those units' incidents (a county sees its own subtree)."""
    start, end, title = period(kind, day)
    data = ReportData(kind=kind, title=title, start=start, end=end, generated_at=now)
    in_period = [PostRow.first_seen_at >= start, PostRow.first_seen_at < end]
    data.posts_total = session.scalar(select(func.count()).select_from(PostRow).where(*in_period)) or 0
    data.posts_crisis = session.scalar(select(func.count()).select_from(PostRow).where(
        *in_period, PostRow.category.is_not(None), PostRow.category != Category.none.value)) or 0
    data.posts_by_platform = dict(session.execute(
        select(PostRow.platform, func.count()).where(*in_period).group_by(PostRow.platform)).all())

    scoped = [IncidentRow.unit_id.in_(sorted(units))] if units is not None else []
    incidents = list(session.scalars(select(IncidentRow).where(IncidentRow.merged_into.is_(None), *scoped)))
    active = [i for i in incidents
              if i.detected_at < end and (i.closed_at is None or i.closed_at >= start)
              and i.stage != Stage.dismissed.value]
    data.by_category = dict(Counter(i.category for i in active))
    data.by_severity = dict(Counter(i.severity for i in active))
    data.new_incidents = [_line(session, i) for i in active if start <= i.detected_at < end]
    data.closed_incidents = [_line(session, i) for i in active
                             if i.closed_at is not None and start <= i.closed_at < end]
    data.open_incidents = [_line(session, i) for i in active if Stage(i.stage).is_open]
    data.responded = [_line(session, i) for i in active
                      if i.first_response_at is not None and start <= i.first_response_at < end]
    overdue = session.execute(select(ChecklistItemRow, IncidentRow.title).join(
        IncidentRow, IncidentRow.id == ChecklistItemRow.incident_id).where(
        ChecklistItemRow.status == "open", ChecklistItemRow.due_at.is_not(None),
        ChecklistItemRow.due_at < min(end, now), *scoped)).all()
    data.overdue_items = [{"incident_id": item.incident_id, "incident": mask(title or ""), "text": item.text,
                           "role": item.role, "due_at": item.due_at} for item, title in overdue]
    own_posts = [PostRow.id.in_(select(IncidentPostRow.post_id).join(
        IncidentRow, IncidentRow.id == IncidentPostRow.incident_id).where(*scoped))] if scoped else []
    data.top_posts = _top_posts(session, [*in_period, PostRow.category.is_not(None),
                                          PostRow.category != Category.none.value, *own_posts])
    return data


def collect_incident(session: Session, incident_id: int, now: datetime) -> ReportData:
    from yuqing.errors import InputError

    row = session.get(IncidentRow, incident_id)
    if row is None:
        raise InputError(f"事件 {incident_id} 不存在")
    line = _line(session, row)
    start = row.clock_started_at or row.detected_at
    data = ReportData(kind="incident", title=f"舆情专报：{mask(row.title or '') or f'事件#{row.id}'}", start=start,
                      end=now, generated_at=now, incident=line)
    data.by_category = {row.category: 1}
    data.by_severity = {row.severity: 1}
    post_ids = select(IncidentPostRow.post_id).where(IncidentPostRow.incident_id == incident_id)
    data.posts_total = line.posts
    data.posts_by_platform = dict(session.execute(select(PostRow.platform, func.count()).where(
        PostRow.id.in_(post_ids)).group_by(PostRow.platform)).all())
    data.responded = [line] if row.first_response_at else []
    data.top_posts = _top_posts(session, [PostRow.id.in_(post_ids)])
    data.stage_history = [{"at": h.at, "from": h.from_stage, "to": h.to_stage, "actor": h.actor,
                           "reason": mask(h.reason or "")}
                          for h in session.scalars(select(StageHistoryRow).where(
                              StageHistoryRow.incident_id == incident_id).order_by(StageHistoryRow.at))]
    overdue = session.scalars(select(ChecklistItemRow).where(
        ChecklistItemRow.incident_id == incident_id, ChecklistItemRow.status == "open",
        ChecklistItemRow.due_at.is_not(None), ChecklistItemRow.due_at < now))
    data.overdue_items = [{"incident_id": incident_id, "incident": mask(row.title or ""), "text": i.text, "role": i.role,
                           "due_at": i.due_at} for i in overdue]
    return data

