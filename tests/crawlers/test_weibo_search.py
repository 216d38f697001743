"""weibo_search against a local copy of the m.weibo.cn JSON API."""

from __future__ import annotations

from sqlalchemy import func, select

from yuqing.db.models import CrawlRunRow, EngagementRow, PostRow, SourceStateRow
from yuqing.validation import post_from_obj

EXPECTED = {
    "weibo:5001": {
        "id": "weibo:5001", "platform": "weibo", "url": "https://m.weibo.cn/detail/5001",
        "text": "警方通报一起家暴案件[允悲]\n请大家关注 #反家暴#",
        "published_at": "2025-06-14T12:00:00+08:00", "fetched_at": "2025-06-14T14:00:00+08:00",
        "reposts": 12, "comments": 3, "likes": 45, "author": "平安北京", "author_id": "1001",
        "author_verified": True, "author_followers": 123000, "author_verified_type": 1,
        "author_verified_label": "蓝V", "bid": "PaAaA1",
        "region": "北京", "client": "iPhone客户端", "keywords": ["家暴"],
    },
    "weibo:5002": {  # long text from /statuses/extend, every count form
        "id": "weibo:5002", "platform": "weibo", "url": "https://m.weibo.cn/detail/5002",
        "text": "长文 家暴 受害者讲述:第一段。\n第二段,完整版。",
        "published_at": "2025-06-14T13:55:00+08:00", "fetched_at": "2025-06-14T14:00:00+08:00",
        "reposts": 12000, "comments": 1000000, "likes": 300000000, "author": "小红", "author_id": "1002",
        "author_verified": False, "author_followers": 88, "author_verified_type": -1, "bid": "PaAaA2",
        "keywords": ["家暴"],
    },
    "weibo:5003": {  # a repost: its text lacks the keyword, the original has it
        "id": "weibo:5003", "platform": "weibo", "url": "https://m.weibo.cn/detail/5003",
        "text": "转发微博 //@某人:必须零容忍", "published_at": "2025-06-14T12:30:00+08:00",
        "fetched_at": "2025-06-14T14:00:00+08:00", "reposts": 0, "comments": 0, "likes": 1,
        "author": "路人甲", "author_id": "1003", "author_verified": False, "author_followers": 100,
        "author_verified_type": -1, "repost_of": "weibo:5004", "keywords": ["家暴"],
    },
    "weibo:5004": {  # the retweeted original, emitted as a post of its own
        "id": "weibo:5004", "platform": "weibo", "url": "https://m.weibo.cn/detail/5004",
        "text": "反家暴法实施十年,人身安全保护令签发数量持续上升", "published_at": "2025-06-13T08:00:00+08:00",
        "fetched_at": "2025-06-14T14:00:00+08:00", "reposts": 500, "comments": 60, "likes": 25000,
        "author": "人民日报", "author_id": "1004", "author_verified": True, "author_followers": 150000000,
        "author_verified_type": 3, "author_verified_label": "蓝V", "bid": "PaAaA4", "keywords": ["家暴"],
    },
    "weibo:5005": {  # optional fields missing; "06-13" is this year
        "id": "weibo:5005", "platform": "weibo", "url": "https://m.weibo.cn/detail/5005", "text": "关于家暴的讨论",
        "published_at": "2025-06-13T00:00:00+08:00", "fetched_at": "2025-06-14T14:00:00+08:00",
        "keywords": ["家暴"],
    },
    "weibo:5009": {  # page 2
        "id": "weibo:5009", "platform": "weibo", "url": "https://m.weibo.cn/detail/5009", "text": "第二页:家暴求助热线",
        "published_at": "2025-06-14T12:00:00+08:00", "fetched_at": "2025-06-14T14:00:00+08:00",
        "reposts": 1, "comments": 2, "likes": 3, "author": "妇联热线", "author_id": "1009",
        "author_verified": True, "author_followers": 5000, "author_verified_type": 1,
        "author_verified_label": "蓝V", "keywords": ["家暴"],
    },
}


def test_search_items_paging_and_bad_data(crawled):
    result, site = crawled["ws_main"].result, crawled["ws_main"].site
    assert result.by_id() == EXPECTED
    assert len(result.items) == len(EXPECTED)
    for item in result.items:
        post_from_obj(item)
    ids = [item["id"] for item in result.items]
    assert ids.index("weibo:5004") < ids.index("weibo:5003")  # original before its repost
    s = result.summary
    assert s.status == "ok"
    assert s.fetched == 6
    assert s.dropped == {"bad_date": 1, "bad_count": 1, "no_keyword": 1}
    assert s.errors == {"bad_card": 1, "malformed_response": 1}  # card without id; 性侵 page is broken JSON
    pages = [r.query.get("page") for r in site.requests if r.path == "/api/container/getIndex"
             and r.query["containerid"].endswith("家暴")]
    assert pages == ["1", "2", "3"]  # stops at {"ok":0}


def test_max_pages_and_since_stop_paging(crawled):
    result, site = crawled["ws_since"].result, crawled["ws_since"].site
    assert sorted(result.by_id()) == ["weibo:5002", "weibo:5003"]
    # every post of page 2 is older than `since`: no page 3
    pages = [r.query.get("page") for r in site.requests if r.path == "/api/container/getIndex"]
    assert pages == ["1", "2"]
    limited = crawled["ws_max"].result
    assert "weibo:5009" not in limited.by_id()


def test_captcha_json_pauses_source_with_growing_backoff(crawl_seq, site_for, runtime):
    site = site_for("weibo_search")
    first, paused, again = crawl_seq(
        ("weibo_search", {"keywords": "验证", "base_url": site.url}),
        # still paused at the same crawl time: skipped without a request
        ("weibo_search", {"keywords": "家暴", "base_url": site.url}),
        # forced while paused and banned again (HTTP 418): the back-off doubles
        ("weibo_search", {"keywords": "限流", "base_url": site.url, "force": "1"}),
    )
    assert first.summary.status == "banned"
    assert "验证码" in first.summary.ban_reason
    assert first.summary.paused_until.startswith("2025-06-14T06:30")  # 14:00+08:00 + 30 min
    assert paused.summary.status == "paused"
    assert paused.items == []
    assert not any(r.query.get("containerid", "").endswith("家暴") for r in site.requests)
    assert again.summary.status == "banned" and "418" in again.summary.ban_reason
    with runtime.session() as s:
        state = s.get(SourceStateRow, "weibo_search")
        assert state.backoff_level == 2
        assert state.paused_until.isoformat().startswith("2025-06-14T07:00")  # 30 min doubled
        assert "418" in state.last_ban_reason
        runs = s.scalars(select(CrawlRunRow).order_by(CrawlRunRow.id)).all()
        assert [r.status for r in runs] == ["banned", "paused", "banned"]
        assert "验证码" in runs[0].ban_reason
        assert runs[0].stats["finish_reason"] == "banned"


def test_storage_and_rerun_do_not_duplicate(crawl_seq, site_for, runtime):
    site = site_for("weibo_search")
    job = ("weibo_search", {"keywords": "家暴", "base_url": site.url})
    first, second, copies = crawl_seq(job, job, ("weibo_search", {"keywords": "保护令", "base_url": site.url}))
    assert (first.summary.new, first.summary.updated) == (6, 0)
    # incremental: every post of page 1 was seen by the first run, so the second stops there
    assert (second.summary.new, second.summary.updated, second.summary.unchanged) == (0, 0, 5)
    assert sorted(i["id"] for i in second.items) == sorted(set(EXPECTED) - {"weibo:5009"})  # still exported
    pages = [r.query["page"] for r in site.requests if r.query.get("containerid", "").endswith("家暴")]
    assert pages == ["1", "2", "3", "1"]
    with runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(PostRow)) == 9
        assert s.scalar(select(func.count()).select_from(EngagementRow)) == 9
        repost = s.get(PostRow, "weibo:5003")
        assert repost.repost_of == "weibo:5004" and repost.source == "weibo_search"
        assert repost.keywords == ["家暴"]
        runs = s.scalars(select(CrawlRunRow).order_by(CrawlRunRow.id)).all()
        assert [(r.status, r.fetched, r.new) for r in runs] == [("ok", 6, 6), ("ok", 5, 0), ("ok", 3, 3)]
        assert runs[0].dropped == {"bad_date": 1, "bad_count": 1, "no_keyword": 1}
        assert runs[0].stats["item_scraped_count"] == 6
        state = s.get(SourceStateRow, "weibo_search")
        assert {"weibo:5001", "weibo:5006", "weibo:5009"} <= set(state.cursor["seen_ids"])
        # a reposted copy with a few characters changed is linked to the first one (MinHash LSH)
        assert s.get(PostRow, "weibo:6002").near_dup_of == "weibo:6001"
        assert s.get(PostRow, "weibo:6001").near_dup_of is None
        assert s.get(PostRow, "weibo:6003").near_dup_of is None
    assert {i["id"]: i.get("near_dup_of") for i in copies.items} == {
        "weibo:6001": None, "weibo:6002": "weibo:6001", "weibo:6003": None}


def test_slow_response_times_out(crawled):
    result = crawled["ws_slow"].result
    assert result.summary.status == "ok"
    assert result.summary.errors.get("timeout") == 1
    assert len(result.items) == 6  # the other keyword is still collected
