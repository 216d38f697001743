"""The crawler's store step: one item the database refuses, or that is not a valid post, never costs
the rest of its batch; the refused item is logged with its id and reason."""

from __future__ import annotations

import logging

import pytest
from scrapy.exceptions import DropItem
from sqlalchemy import select, text

from yuqing.db.models import PostRow
from yuqing.runtime import Runtime


def _pipeline(batch: int):
    from scrapy.utils.test import get_crawler

    from crawlers.pipelines import StorePipeline
    from crawlers.spiders.weibo_hot import WeiboHotSpider

    crawler = get_crawler(WeiboHotSpider, {"YUQING_STORE": "1", "YUQING_NOW": "2025-06-14T14:00:00+08:00",
                                           "YUQING_STORE_BATCH": str(batch)})
    crawler.spider = WeiboHotSpider.from_crawler(crawler)
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    return crawler, store


def _item(i: int | str, **kw: object) -> dict:
    return {"id": f"p:{i}", "platform": "weibo", "text": f"第{i}条帖子，妇联介入", **kw}


def test_one_refused_item_does_not_drop_its_batch(runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    with runtime.session() as s:  # the real database refuses one row (as PostgreSQL would a bad value)
        s.execute(text("CREATE TRIGGER refuse_one BEFORE INSERT ON posts WHEN NEW.id = 'p:57' "
                       "BEGIN SELECT RAISE(ABORT, '拒绝写入的测试行'); END;"))
    crawler, store = _pipeline(batch=100)
    with caplog.at_level(logging.ERROR, logger="crawlers.pipelines"):
        for i in range(100):  # the 100th item flushes the batch
            store.process_item(_item(i, near_dup_of="p:0") if i == 3 else _item(i))
    with runtime.session() as s:
        ids = set(s.scalars(select(PostRow.id)))
        assert s.get(PostRow, "p:3").near_dup_of == "p:0"  # the link of a retried item is kept
    assert len(ids) == 99 and "p:57" not in ids
    stats = crawler.stats
    assert stats.get_value("yuqing/store/new") == 99 and stats.get_value("yuqing/store/rejected") == 1
    assert any("p:57" in r.getMessage() and "拒绝写入的测试行" in r.getMessage() for r in caplog.records)
    assert "p:57" not in crawler.spider.ctx.stored_ids and len(crawler.spider.ctx.stored_ids) == 99


def test_invalid_item_is_dropped_alone(runtime: Runtime) -> None:
    crawler, store = _pipeline(batch=10)
    for bad in (_item("x", likes=2**40), _item("y", published_at="0001-01-01T00:00:00+08:00"),
                _item("z" * 300), _item("s", text="lone \ud800 kept")):
        try:
            store.process_item(bad)
        except DropItem as exc:
            assert "不符合帖子格式" in str(exc)
    for i in range(5):
        store.process_item(_item(i))
    store.close_spider()
    with runtime.session() as s:
        ids = set(s.scalars(select(PostRow.id)))
        assert "\ufffd" in s.get(PostRow, "p:s").text  # cleaned, not dropped
    assert ids == {"p:s", *(f"p:{i}" for i in range(5))}
    assert crawler.stats.get_value("yuqing/dropped/invalid") == 3
