"""Freshness figures (crawlers/freshness.py) on a real SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawlers.freshness import (
    hot_keywords,
    lag_by_source,
    merge_schedules,
    open_incident_interval_minutes,
    poll_lags,
    quantile,
)
from yuqing.db.models import IncidentPostRow, IncidentRow
from yuqing.domain import Post
from yuqing.store import store_posts

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _post(pid: str, text: str, published: datetime, keywords: list[str] | None = None) -> Post:
    return Post(id=pid, platform="weibo", text=text, published_at=published, keywords=keywords or [])


def test_lag_by_source_reads_publication_to_first_sighting(runtime):
    with runtime.session() as s:
        # weibo: 2, 4, 6, 8, 30 minutes late; rss: 60 minutes; ingest is not a crawl source
        for n, late in enumerate([2, 4, 6, 8, 30]):
            store_posts(s, [_post(f"w{n}", "x", T0)], T0 + timedelta(minutes=late), source="weibo_search")
        store_posts(s, [_post("r1", "x", T0)], T0 + timedelta(minutes=60), source="rss")
        store_posts(s, [_post("i1", "x", T0)], T0 + timedelta(days=3), source="ingest")
        store_posts(s, [_post("f1", "x", T0 + timedelta(minutes=5))], T0, source="rss")  # clock skew → 0
    with runtime.session() as s:
        lags = {lag.source: lag for lag in lag_by_source(s)}
    assert set(lags) == {"weibo_search", "rss"}
    assert (lags["weibo_search"].posts, lags["weibo_search"].p50_minutes, lags["weibo_search"].p90_minutes) == \
        (5, 6.0, 30.0)
    assert (lags["rss"].p50_minutes, lags["rss"].p90_minutes) == (0.0, 60.0)


def test_hot_keywords_come_from_open_incidents_only(runtime):
    now = T0
    with runtime.session() as s:
        store_posts(s, [_post("p1", "某县女子遭家暴，家暴者被拘", now, ["家暴"]),
                        _post("p2", "某县家暴事件后续：妇联介入", now, ["家暴", "妇联"]),
                        _post("p3", "某小学发生踩踏事故", now, ["儿童安全"])], now, source="weibo_search")
        open_one = IncidentRow(title="某县家暴", category="家暴", severity=3, stage="warning", detected_at=now,
                               created_at=now, updated_at=now, features={"ents": ["某县", "x"]})
        closed = IncidentRow(title="踩踏", category="儿童", severity=2, stage="closed", detected_at=now,
                             created_at=now, updated_at=now, features={})
        s.add_all([open_one, closed])
        s.flush()
        s.add_all([IncidentPostRow(incident_id=open_one.id, post_id="p1", added_at=now),
                   IncidentPostRow(incident_id=open_one.id, post_id="p2", added_at=now),
                   IncidentPostRow(incident_id=closed.id, post_id="p3", added_at=now)])
    with runtime.session() as s:
        words = hot_keywords(s, runtime.settings)
    # 家暴 and 某县 are in both posts; 妇联 (a subject scheme, its word in one post); nothing of the closed one
    assert words[:2] == ["家暴", "某县"] and "妇联" in words
    assert not {"踩踏", "事故", "x"} & set(words)


def test_poll_schedule_replay():
    start = T0
    published = [start + timedelta(minutes=m) for m in (0.5, 7, 14.5, 15)]
    assert poll_lags(published, start, timedelta(minutes=15), 30) == [15.0, 8.5, 1.0, 0.5]
    # an open-incident keyword polled every 5 minutes: the earliest storage wins
    assert merge_schedules(published, start, [(timedelta(minutes=15), 30), (timedelta(minutes=5), 30)]) == \
        [5.0, 3.5, 1.0, 0.5]
    assert quantile([3, 1, 2], 0.5) == 2 and quantile([1, 2, 3, 4], 0.9) == 4


def test_open_incident_interval_default(runtime):
    assert open_incident_interval_minutes(runtime.settings) == 5


def test_hot_crawl_targets_keyword_search_sources_and_needs_open_incidents(runtime):
    from crawlers.freshness import crawl_hot, hot_sources

    # default config: every enabled search source (bilibili too, without being listed anywhere);
    # weibo_hot/rss read fixed lists, the disabled ones are not polled
    assert hot_sources(runtime.settings) == ["weibo_search", "baidu_news", "sogou_weixin", "bilibili"]
    assert crawl_hot(runtime) == []  # no open incident: nothing is crawled
