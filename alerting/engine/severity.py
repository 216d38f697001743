"""An incident's severity from evidence, with the reason for its current level.

Guarantees: the severity is the highest severity among the incident's public crisis posts (each
post's classification already weighs that post's own spread, LABELS.md), raised by at most ONE
level, and only on incident-level evidence that no single post carries:

* 热搜: a matching weibo_hot topic at 1-based position ≤ ``raise_hot_rank`` (default 10), seen
  within ``hot_window_hours`` (default 6);
* independent pickup: ≥ ``raise_media_accounts`` (default 3) distinct media, official or verified
  accounts with an original post (not a repost or near-duplicate) in the last
  ``raise_window_hours`` (default 6);
* volume: ≥ ``raise_authors`` (default 20) distinct authors in the last ``raise_window_hours``.

The evidence is re-read at every refresh, so the raise falls away when the evidence does. Every
threshold is a key of ``engine.params`` (docs/heat.md). Never below 1, never above 4.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerting.engine.heat import hot_rank, is_official
from yuqing.db.models import IncidentRow, PostRow
from yuqing.settings import Settings

DEFAULTS: dict[str, float] = {
    "raise_hot_rank": 10.0,
    "raise_media_accounts": 3.0,
    "raise_authors": 20.0,
    "raise_window_hours": 6.0,
}
MAX_SEVERITY = 4


def param(settings: Settings, name: str) -> float:
    return float(settings.engine.params.get(name, DEFAULTS[name]))


@dataclass
class Assessment:
    severity: int
    post_max: int
    evidence: list[str] = field(default_factory=list)

    @property
    def raised(self) -> bool:
        return self.severity > max(1, self.post_max)

    @property
    def reason(self) -> str:
        """Chinese, e.g. '最高帖文等级 2；热搜第 3 位 → 3'."""
        base = f"最高帖文等级 {self.post_max}"
        if not self.evidence:
            return f"{base} → {self.severity}"
        note = "" if self.raised else "（已是最高等级，不再上调）"
        return f"{base}；{'、'.join(self.evidence)}{note} → {self.severity}"


def _published(post: PostRow) -> datetime:
    when = post.published_at or post.first_seen_at
    if post.first_seen_at and when > post.first_seen_at:
        when = post.first_seen_at
    return when


def _author_key(post: PostRow) -> str:
    author = (post.author or "").strip()
    return f"{post.platform}:{author}" if author else f"post:{post.id}"


def _is_original(post: PostRow) -> bool:
    return not (post.repost_of or post.near_dup_of or (post.extra or {}).get("repost_of"))


def assess(incident: IncidentRow, posts: Iterable[PostRow], now: datetime, settings: Settings) -> Assessment:
    """The severity ``incident`` has at ``now`` given its public ``posts`` (see the module docstring)."""
    posts = [p for p in posts if p.category and p.category != "none"]
    post_max = max((int(p.severity or 0) for p in posts), default=0)
    evidence: list[str] = []
    rank = hot_rank(incident, now, settings)
    if rank is not None and rank <= param(settings, "raise_hot_rank"):
        evidence.append(f"热搜第 {rank} 位")
    window_h = param(settings, "raise_window_hours")
    since = now - timedelta(hours=window_h)
    recent = [p for p in posts if since <= _published(p) <= now]
    media = {_author_key(p) for p in recent if _is_original(p) and (p.author_verified or is_official(p))}
    if len(media) >= param(settings, "raise_media_accounts"):
        evidence.append(f"{window_h:g} 小时内 {len(media)} 家媒体/认证账号独立报道")
    authors = {_author_key(p) for p in recent}
    if len(authors) >= param(settings, "raise_authors"):
        evidence.append(f"{window_h:g} 小时内 {len(authors)} 位不同作者发帖")
    base = max(1, post_max)
    severity = min(MAX_SEVERITY, base + 1) if evidence else base
    return Assessment(severity=severity, post_max=post_max, evidence=evidence)
