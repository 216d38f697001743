"""Heat (热度) of an incident.

Heat at time *t* is computed from the incident's posts and their engagement history, every
contribution decaying with its age (half of it gone after ``τ·ln2``; τ = ``heat_tau_hours``,
default 12 h), so heat rises while an event spreads and falls when it calms down::

    w(p)  = 1 + 0.5·log10(1 + followers) + 1.5·[verified] + 1.5·[media/official account]
    P(t)  = Σ_posts w(p) · e^(−age(published_at)/τ)                         (volume × reach)
    G(t)  = Σ_samples Δengagement · e^(−age(seen_at)/τ)                      (engagement growth)
    V(t)  = Σ Δengagement seen in the last hour (not decayed)                (velocity)
    hot   = 10 + (51 − rank)/2   while a matching 热搜 topic was seen within 6 h (rank 1–50)
    heat  = 15·ln(1+P) + 8·ln(1+G/10) + 6·ln(1+V/10) + hot

engagement = reposts + comments + likes + views/100; the first sample of a post counts at its
publication time, later samples count their increase at the time they were seen.

Heat never sets the severity: an incident's severity comes from its posts and the incident-level
evidence of ``alerting.engine.severity``. Heat drives the stage automation (应对 → 善后) and the
displays. Every constant can be overridden in ``engine.params`` (see docs/heat.md).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.db.models import EngagementRow, IncidentPostRow, IncidentRow, PostRow
from yuqing.settings import Settings

DEFAULTS: dict[str, float] = {
    "heat_tau_hours": 12.0,
    "heat_w_posts": 15.0,
    "heat_w_growth": 8.0,
    "heat_w_velocity": 6.0,
    "heat_hot_base": 10.0,
    "hot_window_hours": 6.0,
}
MEDIA_PLATFORMS = {"news", "rss", "toutiao_news", "baidu_news", "people", "xinhua"}
_OFFICIAL = re.compile(r"(发布|公安|警方|妇联|日报|晚报|新闻|电视台|官方|政府|共青团|新华|人民网|央视|法院|检察)")


def param(settings: Settings, name: str) -> float:
    return float(settings.engine.params.get(name, DEFAULTS[name]))


def engagement_of(reposts: int | None, comments: int | None, likes: int | None, views: int | None) -> float:
    return (reposts or 0) + (comments or 0) + (likes or 0) + (views or 0) / 100.0


def is_official(post: PostRow) -> bool:
    return post.platform in MEDIA_PLATFORMS or bool(post.author and _OFFICIAL.search(post.author))


def reach_weight(post: PostRow) -> float:
    weight = 1.0 + 0.5 * math.log10(1 + (post.author_followers or 0))
    if post.author_verified:
        weight += 1.5
    if is_official(post):
        weight += 1.5
    return weight


@dataclass
class HeatReading:
    heat: float
    posts: int
    engagement: int
    velocity: float
    members: list[PostRow]  # the incident's posts already public at the reading's time


def _decay(age: timedelta, tau_h: float) -> float:
    hours = max(0.0, age.total_seconds() / 3600.0)
    return math.exp(-hours / tau_h)


def hot_rank(incident: IncidentRow, now: datetime, settings: Settings) -> int | None:
    """The 1-based 热搜 position of a matching topic seen within ``hot_window_hours``, else None.

    The weibo_hot spider emits ``rank`` as the 1-based place on the list (``realpos``); a missing,
    unreadable or non-positive rank is no evidence (never read as a default position)."""
    hot: dict[str, Any] = (incident.features or {}).get("hot") or {}
    raw = hot.get("realpos") if hot.get("realpos") is not None else hot.get("rank")
    if not hot.get("at") or raw is None:
        return None
    try:
        rank = int(raw)
        seen = datetime.fromisoformat(hot["at"])
    except (TypeError, ValueError):
        return None
    if rank < 1:
        return None
    if now - seen > timedelta(hours=param(settings, "hot_window_hours")) or seen > now + timedelta(minutes=1):
        return None
    return rank


def hot_bonus(incident: IncidentRow, now: datetime, settings: Settings) -> tuple[float, int | None]:
    """Bonus and rank while a matching 热搜 topic was seen recently (see grouping.match_hot_search)."""
    rank = hot_rank(incident, now, settings)
    if rank is None:
        return 0.0, None
    return param(settings, "heat_hot_base") + max(0, 51 - rank) / 2.0, rank


def load_samples(session: Session, post_ids: list[str]) -> dict[str, list[EngagementRow]]:
    """Engagement samples of the posts, oldest first, by post id (in chunks of 500 ids)."""
    samples: dict[str, list[EngagementRow]] = defaultdict(list)
    for start in range(0, len(post_ids), 500):
        for row in session.scalars(select(EngagementRow).where(EngagementRow.post_id.in_(post_ids[start:start + 500]))
                                   .order_by(EngagementRow.seen_at, EngagementRow.id)):
            samples[row.post_id].append(row)
    return samples


def compute(session: Session, incident: IncidentRow, now: datetime, settings: Settings, *,
            posts: list[PostRow] | None = None, samples: dict[str, list[EngagementRow]] | None = None
            ) -> HeatReading:
    """``posts``/``samples``: the incident's posts and their samples when the caller read them for
    many incidents at once (the engine's batch); else both are queried here."""
    tau = param(settings, "heat_tau_hours")
    if posts is None:
        posts = list(session.scalars(
            select(PostRow).join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
            .where(IncidentPostRow.incident_id == incident.id)))
    if samples is None:
        samples = load_samples(session, [p.id for p in posts])
    volume = growth = velocity = 0.0
    total_engagement = 0.0
    public: list[PostRow] = []
    hour_ago = now - timedelta(hours=1)
    for post in posts:
        published = post.published_at or post.first_seen_at
        if post.first_seen_at and published > post.first_seen_at:
            published = post.first_seen_at
        if published > now:
            continue  # not yet public at this (simulated) time
        volume += reach_weight(post) * _decay(now - published, tau)
        public.append(post)
        previous = 0.0
        for index, sample in enumerate(samples.get(post.id, [])):
            if sample.seen_at > now:
                break
            value = engagement_of(sample.reposts, sample.comments, sample.likes, sample.views)
            delta = value - previous
            previous = max(previous, value)
            if delta <= 0:
                continue
            at = published if index == 0 else sample.seen_at
            growth += delta * _decay(now - at, tau)
            if at >= hour_ago:
                velocity += delta
        total_engagement += previous
    bonus, _rank = hot_bonus(incident, now, settings)
    heat = (param(settings, "heat_w_posts") * math.log1p(volume)
            + param(settings, "heat_w_growth") * math.log1p(growth / 10.0)
            + param(settings, "heat_w_velocity") * math.log1p(velocity / 10.0)
            + bonus)
    return HeatReading(heat=round(heat, 2), posts=len(posts), engagement=int(total_engagement),
                       velocity=velocity, members=public)
