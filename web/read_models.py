"""Read models shared by pages and the API: board rows, incident detail.

Everything here is masked (``yuqing.exits``): incident titles, post titles and texts (masked
together, so a name found by its cue in the body is masked in the title too), authors; a post's URL
is kept only if it is http(s). The one way to the text as collected is :func:`original_post`, which
the views call only for a role with ``view_original`` and only after writing the audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuqing.db.models import (
    AuditRow,
    ChecklistItemRow,
    EngagementRow,
    HeatSampleRow,
    IncidentPostRow,
    IncidentRow,
    NotificationRow,
    PostRow,
    ResponseRow,
    StageHistoryRow,
)
from yuqing.domain import Stage
from yuqing.exits import masked_post, safe_url
from yuqing.places import Region
from yuqing.privacy import mask

OPEN_STAGES = [Stage.warning.value, Stage.response.value, Stage.aftermath.value]


@dataclass
class BoardRow:
    id: int
    title: str
    category: str
    severity: int
    stage: str
    heat: float
    deadline: datetime | None
    clock_started_at: datetime | None
    detected_at: datetime
    first_response_at: datetime | None
    acknowledged: bool
    unacked_alerts: int
    posts: int
    heat_series: list[float]
    region: dict[str, Any] | None = None  # {"code", "name", "level", "confidence"} (alerting.engine.region)
    unit_id: str | None = None  # the owner federation unit (incidents.unit_id; None = the root)

    @property
    def detection_lag_s(self) -> float | None:
        if self.clock_started_at is None:
            return None
        return max(0.0, (self.detected_at - self.clock_started_at).total_seconds())

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "category": self.category, "severity": self.severity,
                "stage": self.stage, "heat": self.heat,
                "deadline": self.deadline.isoformat() if self.deadline else None,
                "clock_started_at": self.clock_started_at.isoformat() if self.clock_started_at else None,
                "first_response_at": self.first_response_at.isoformat() if self.first_response_at else None,
                "acknowledged": self.acknowledged, "unacked_alerts": self.unacked_alerts, "posts": self.posts,
                "detection_lag_seconds": self.detection_lag_s, "region": self.region,
                "unit": self.unit_id}


SPARKLINE_WINDOW = timedelta(hours=48)


def _region(incident: IncidentRow) -> dict[str, Any] | None:
    if not incident.region_code:
        return None
    return Region(incident.region_code, incident.region_name or "", incident.region_level or "",
                  float(incident.region_confidence or 0.0)).to_json()


def board_rows(session: Session, now: datetime) -> list[BoardRow]:
    """Open incidents for the board; the heat sparkline shows the last 48 hours (the board refreshes
    every few seconds, so it never loads an incident's whole heat history)."""
    incidents = list(session.scalars(select(IncidentRow).where(
        IncidentRow.stage.in_(OPEN_STAGES), IncidentRow.merged_into.is_(None))))
    ids = [i.id for i in incidents]
    counts = dict(session.execute(select(IncidentPostRow.incident_id, func.count()).where(
        IncidentPostRow.incident_id.in_(ids)).group_by(IncidentPostRow.incident_id)).all()) if ids else {}
    unacked = dict(session.execute(select(NotificationRow.incident_id, func.count(func.distinct(
        NotificationRow.dedupe_key))).where(NotificationRow.incident_id.in_(ids), NotificationRow.acked_at.is_(None),
                                            NotificationRow.status == "sent").group_by(
        NotificationRow.incident_id)).all()) if ids else {}
    series: dict[int, list[float]] = {i: [] for i in ids}
    if ids:
        for inc_id, heat in session.execute(select(HeatSampleRow.incident_id, HeatSampleRow.heat).where(
                HeatSampleRow.incident_id.in_(ids), HeatSampleRow.at >= now - SPARKLINE_WINDOW)
                .order_by(HeatSampleRow.at)):
            series[inc_id].append(heat)
    rows = [BoardRow(i.id, mask(i.title or ""), i.category, i.severity, i.stage, i.heat, i.deadline, i.clock_started_at,
                     i.detected_at, i.first_response_at, i.acknowledged_at is not None,
                     0 if i.acknowledged_at else unacked.get(i.id, 0), counts.get(i.id, 0), series[i.id][-24:],
                     _region(i), i.unit_id)
             for i in incidents]
    # unacknowledged first, then severity, then the nearest deadline
    far = datetime.max.replace(tzinfo=None)
    rows.sort(key=lambda r: (r.acknowledged, -r.severity,
                             r.deadline.replace(tzinfo=None) if r.deadline and not r.first_response_at else far))
    return rows


@dataclass
class PostView:
    id: str
    platform: str
    author: str
    title: str
    text: str
    url: str
    published_at: datetime | None
    reposts: int
    comments: int
    likes: int
    growth: int  # engagement gained since first seen
    category: str | None
    severity: int | None
    reason: str


def incident_detail(session: Session, incident_id: int) -> dict[str, Any] | None:
    """The incident workspace, masked for every role (``title`` is the masked incident title)."""
    inc = session.get(IncidentRow, incident_id)
    if inc is None:
        return None
    links = {ip.post_id: ip for ip in session.scalars(select(IncidentPostRow).where(
        IncidentPostRow.incident_id == incident_id))}
    posts = list(session.scalars(select(PostRow).where(PostRow.id.in_(list(links))).order_by(PostRow.published_at)))
    first_eng: dict[str, int] = {}
    for post_id, r, c, likes in session.execute(select(EngagementRow.post_id, EngagementRow.reposts,
                                                       EngagementRow.comments, EngagementRow.likes).where(
            EngagementRow.post_id.in_(list(links))).order_by(EngagementRow.seen_at)):
        first_eng.setdefault(post_id, (r or 0) + (c or 0) + (likes or 0))
    views = []
    for p in posts:
        total = (p.reposts or 0) + (p.comments or 0) + (p.likes or 0)
        shown = masked_post({"title": p.title, "text": p.text, "author": p.author})
        views.append(PostView(p.id, p.platform, shown["author"], shown["title"], shown["text"], safe_url(p.url) or "",
                              p.published_at, p.reposts or 0, p.comments or 0, p.likes or 0,
                              total - first_eng.get(p.id, total), p.category, p.severity, links[p.id].reason))
    heat = [(h.at, h.heat) for h in session.scalars(select(HeatSampleRow).where(
        HeatSampleRow.incident_id == incident_id).order_by(HeatSampleRow.at))]
    checklist = list(session.scalars(select(ChecklistItemRow).where(
        ChecklistItemRow.incident_id == incident_id).order_by(ChecklistItemRow.stage, ChecklistItemRow.position)))
    stages = list(session.scalars(select(StageHistoryRow).where(
        StageHistoryRow.incident_id == incident_id).order_by(StageHistoryRow.at)))
    responses = list(session.scalars(select(ResponseRow).where(
        ResponseRow.incident_id == incident_id).order_by(ResponseRow.at)))
    audit = list(session.scalars(select(AuditRow).where(
        AuditRow.object_type.in_(("incident", "checklist")), AuditRow.object_id.in_(
            [str(incident_id)] + [str(c.id) for c in checklist])).order_by(AuditRow.at.desc()).limit(200)))
    evidence = {
        "posts": len(views),
        "max_post_severity": max((v.severity or 0 for v in views), default=0),
        "total_engagement": sum(v.reposts + v.comments + v.likes for v in views),
        "verified_authors": sum(1 for p in posts if p.author_verified),
        "hot_search_rank": inc.hot_search_rank,
        "features": inc.features or {},
    }
    return {"incident": inc, "title": mask(inc.title or ""), "posts": views, "heat": heat, "checklist": checklist, "stages": stages,
            "responses": responses, "audit": audit, "evidence": evidence}


def original_post(session: Session, post_id: str) -> dict[str, Any] | None:
    """The post as collected (unmasked): only for ``view_original``, after the audit entry is written."""
    p = session.get(PostRow, post_id)
    if p is None:
        return None
    return {"id": p.id, "platform": p.platform, "author": p.author or "", "title": p.title or "",
            "text": p.text or "", "url": safe_url(p.url), "raw_url": p.url or "",
            "published_at": p.published_at.isoformat() if p.published_at else None}
