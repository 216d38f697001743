"""Freshness: detection lag (publication → stored) per source, and the keywords to poll more often.

* :func:`lag_by_source` reads the database: for every post first stored by a crawl source,
  ``first_seen_at − published_at`` in minutes; p50/p90 per source (posts published in the future
  of their sighting, i.e. clock skew, count as 0). The same figures feed `bench/crawl_bench.py`
  and 管理 → 数据源.
* :func:`hot_keywords` gives the search words of the open incidents — the crawl words of the
  keyword schemes their posts matched and the entities the grouping recorded
  (``features["ents"]``), ranked by how many of the incidents' posts contain them — for the
  scheduler to search every ``crawl.open_incident_interval_minutes`` (default 5) with time-sorted
  search and the incremental stop at the newest stored post.
* :func:`poll_lags` replays a publication stream against a poll schedule (the lag a source has
  at a given interval and crawl duration), for the bench.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow
from yuqing.query.normalize import normalize
from yuqing.query.scheme import crawl_keywords
from yuqing.timeutil import as_aware_utc

OPEN_STAGES = ("warning", "response", "aftermath")  # as alerting.engine.stages.OPEN_STAGES
DEFAULT_OPEN_INCIDENT_INTERVAL_MINUTES = 5


def open_incident_interval_minutes(settings: Any) -> int:
    """`crawl.open_incident_interval_minutes` when the configuration has it, else 5."""
    crawl = getattr(settings, "crawl", None)
    value = getattr(crawl, "open_incident_interval_minutes", None) if crawl is not None else None
    return int(value or DEFAULT_OPEN_INCIDENT_INTERVAL_MINUTES)


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of sorted-or-not values (q in [0, 1])."""
    if not values:
        raise ValueError("quantile of no values")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 1))))
    return ordered[rank - 1]


@dataclass
class Lag:
    source: str
    posts: int
    p50_minutes: float
    p90_minutes: float


def summarise(lags: dict[str, list[float]]) -> list[Lag]:
    return [Lag(source, len(v), quantile(v, 0.5), quantile(v, 0.9)) for source, v in sorted(lags.items()) if v]


def lag_by_source(session: Session, since: datetime | None = None) -> list[Lag]:
    """Detection lag per source from the database (posts with a publication time)."""
    query = select(PostRow.source, PostRow.published_at, PostRow.first_seen_at).where(
        PostRow.published_at.is_not(None), PostRow.source.is_not(None), PostRow.source != "ingest")
    if since is not None:
        query = query.where(PostRow.first_seen_at >= since)
    lags: dict[str, list[float]] = defaultdict(list)
    for source, published, seen in session.execute(query):
        minutes = (as_aware_utc(seen) - as_aware_utc(published)).total_seconds() / 60
        lags[source].append(max(0.0, minutes))
    return summarise(lags)


def hot_keywords(session: Session, settings: Any, limit: int = 10) -> list[str]:
    """Search words of the open incidents, most present in their posts first (see module doc)."""
    schemes = {s.name: s for s in settings.keyword_schemes}
    rows = session.execute(
        select(IncidentRow.id, IncidentRow.features, PostRow.title, PostRow.text, PostRow.keywords)
        .join(IncidentPostRow, IncidentPostRow.incident_id == IncidentRow.id)
        .join(PostRow, PostRow.id == IncidentPostRow.post_id)
        .where(IncidentRow.stage.in_(OPEN_STAGES), IncidentRow.merged_into.is_(None)))
    candidates: dict[int, set[str]] = defaultdict(set)
    texts: dict[int, list[str]] = defaultdict(list)
    for incident_id, features, title, text, keywords in rows:
        for name in keywords or []:
            scheme = schemes.get(name)
            candidates[incident_id].update(crawl_keywords([scheme]) if scheme else [str(name)])
        candidates[incident_id].update(str(e) for e in (features or {}).get("ents") or [] if len(str(e)) >= 2)
        texts[incident_id].append(normalize(f"{title or ''}\n{text or ''}"))
    score: Counter[str] = Counter()
    for incident_id, words in candidates.items():
        for word in words:
            folded = normalize(word)
            hits = sum(1 for t in texts[incident_id] if folded and folded in t)
            if hits:
                score[word] += hits
    return [word for word, _n in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def poll_lags(published: Iterable[datetime], start: datetime, interval: timedelta,
              crawl_seconds: float) -> list[float]:
    """Minutes from publication to storage when a source is polled at start + k·interval and each
    poll stores what was published before it after `crawl_seconds`."""
    out = []
    for at in published:
        k = max(0, -(-(at - start) // interval))  # the first poll at or after publication
        out.append(((start + k * interval - at).total_seconds() + crawl_seconds) / 60)
    return out


def merge_schedules(published: Sequence[datetime], start: datetime, schedules: Sequence[tuple[timedelta, float]],
                    ) -> list[float]:
    """Lag when several schedules poll the same posts (the regular one and the open-incident one):
    the earliest storage wins."""
    per = [poll_lags(published, start, interval, crawl) for interval, crawl in schedules]
    return [min(values) for values in zip(*per, strict=True)]


# spiders that read fixed lists or feeds; every other spider searches by keyword (so a new
# search spider is polled for the open incidents without being listed anywhere)
FIXED_LIST_SPIDERS = ("weibo_hot", "rss", "web_list")


def is_keyword_search(spider: str) -> bool:
    return spider not in FIXED_LIST_SPIDERS
HOT_MAX_PAGES = 2  # newest first, stopped earlier at the newest stored post


def hot_sources(settings: Any) -> list[str]:
    """Enabled keyword-search sources, the ones the open-incident keywords are searched on."""
    return [s.name for s in settings.sources if s.enabled and is_keyword_search(s.spider)]


def crawl_hot(rt: Any, limit: int = 5) -> list[Any]:
    """One crawl of every keyword-search source for the open incidents' keywords (the scheduler
    calls this every `open_incident_interval_minutes`). Each runs in its own process with the
    source's own delay, cookies and ban pause; at most HOT_MAX_PAGES newest-first pages per word."""
    from crawlers.runner import run_source

    with rt.session() as session:
        words = hot_keywords(session, rt.settings, limit=limit)
    if not words:
        return []
    return [run_source(rt.settings, name, {"keywords": ",".join(words), "max_pages": HOT_MAX_PAGES})
            for name in hot_sources(rt.settings)]


__all__ = ["FIXED_LIST_SPIDERS", "crawl_hot", "hot_sources", "is_keyword_search", "Lag", "hot_keywords", "lag_by_source", "merge_schedules", "open_incident_interval_minutes",
           "poll_lags", "quantile"]
