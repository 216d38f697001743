"""The toutiao spider through real Scrapy crawls of a local copy of www.toutiao.com/api/search/content/.

Page 1 is a search reply captured in 2017 (three entries verbatim); page 2 is author-written in the
shown-time forms of today's pages (3小时前, 昨天 12:30, a bare date), with a nested jump link, an ad
and a user card (provenance: fixtures/README.md, toutiao).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from crawlers.spiders.toutiao import strip_jump
from crawlers.testing.site import FixtureSite
from tests.crawlers.conftest import FAST, CrawlResult
from yuqing.validation import post_from_obj

FIX = Path(__file__).parent / "fixtures" / "toutiao"
NOW = "2017-11-29T16:00:00+08:00"  # the capture's request_id starts 20171129155024
JOBS: dict[str, dict[str, Any]] = {
    "main": {"keywords": "谷阿莫"},
    "since": {"keywords": "谷阿莫", "since": "2017-11-28T00:00:00+08:00"},
    "verify": {"keywords": "验证"},
    "redirect": {"keywords": "跳转"},
}


@pytest.fixture(scope="module")
def tt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[CrawlResult, FixtureSite]]]:
    from crawlers.testing.batch import BatchJob, run_batch
    from tests.conftest import write_config

    tmp = tmp_path_factory.mktemp("toutiao")
    config = write_config(tmp)
    sites = {name: FixtureSite(FIX).start() for name in JOBS}
    jobs = [BatchJob(spider="toutiao", output=str(tmp / f"{name}.jsonl"), summary_file=str(tmp / f"{name}.json"),
                     args={"base_url": sites[name].url, "keep_all": "1", **args},
                     settings={**FAST, "YUQING_STORE": "0", "YUQING_NOW": NOW}, env={"YUQING_CONFIG": str(config)})
            for name, args in JOBS.items()]
    summaries = run_batch(jobs, tmp, env={"YUQING_CONFIG": str(config)})
    out = {}
    for (name, site), job, summary in zip(sites.items(), jobs, summaries, strict=True):
        path = Path(job.output)
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
        out[name] = (CrawlResult(summary, items, ""), site)
    yield out
    for site in sites.values():
        site.stop()


def test_jump_links_are_stripped_recursively():
    inner = "https://sou.toutiao.com/search/jump?url=https%3A%2F%2Fnews.example.cn%2Fa.html&aid=4916&jtoken="
    outer = "https://so.toutiao.com/search/jump?url=" + quote(inner, safe="") + "&aid=4916"
    assert strip_jump(outer) == "https://news.example.cn/a.html"
    assert strip_jump("//www.toutiao.com/article/1/") == "https://www.toutiao.com/article/1/"
    assert strip_jump("https://news.example.cn/search/jump?url=x") == "https://news.example.cn/search/jump?url=x"


def test_toutiao_results_field_by_field(tt):
    result, site = tt["main"]
    assert result.summary.status == "ok"
    for item in result.items:
        post_from_obj(item)
    items = result.by_id()
    assert sorted(items) == ["toutiao:6491925294352450061", "toutiao:6492559558207078925",
                             "toutiao:6493043548240216590", "toutiao:7364000000000000001",
                             "toutiao:7364000000000000002", "toutiao:7364000000000000003"]
    assert items["toutiao:6493043548240216590"] == {
        "id": "toutiao:6493043548240216590", "platform": "toutiao",
        "url": "https://www.toutiao.com/group/6493043548240216590/",
        "title": "谷阿莫:5分钟看完2017男主角崩坏的电影《天才枪手》", "text": "谷阿莫:5分钟看完2017男主角崩坏的电影《天才枪手》",
        "author": "谷阿莫AmoGood", "published_at": "2017-11-27T18:45:09+08:00",  # publish_time, not "18:47"
        "comments": 133, "likes": 1223, "views": 85881, "media_id": "6147028852", "has_video": True,
        "fetched_at": NOW, "keywords": ["谷阿莫"]}
    assert items["toutiao:6492559558207078925"]["author"] == "下决心实现自己的目标"
    fresh = items["toutiao:7364000000000000001"]
    assert (fresh["title"], fresh["published_at"], fresh["views"], fresh["author"]) == (
        "谷阿莫新片解说上线 谷阿莫", "2017-11-29T13:00:00+08:00", 12000, "某地晚报")  # 3小时前, "1.2万"
    jumped = items["toutiao:7364000000000000002"]
    assert jumped["url"] == "https://www.toutiao.com/article/7364000000000000002/"  # nested jump link stripped
    assert (jumped["published_at"], jumped["text"], jumped["author"], jumped["comments"]) == (
        "2017-11-28T12:30:00+08:00", "谷阿莫回应争议", "新京报", 0)  # 昨天 12:30; no abstract: the title
    dated = items["toutiao:7364000000000000003"]
    assert (dated["published_at"], dated["url"], dated["comments"]) == (
        "2017-05-01T00:00:00+08:00", "https://www.toutiao.com/article/7364000000000000003/", 3)
    assert [(r.query["keyword"], r.query["offset"], r.query["pd"]) for r in site.requests] == [
        ("谷阿莫", "0", "synthesis"), ("谷阿莫", "20", "synthesis")]  # has_more 0 on page 2: no page 3


def test_toutiao_since_stops_paging(tt):
    result, site = tt["since"]
    assert result.items == []  # page 1 is all older than since
    assert [r.query["offset"] for r in site.requests] == ["0"]


@pytest.mark.parametrize(("job", "reason"), [
    ("verify", "今日头条返回验证码页面（HTTP 200）: https://www.toutiao.com/api/search/content/?"),
    ("redirect", "今日头条跳转到验证页面: https://verify.snssdk.com/verify?fp=verify_x"),
])
def test_toutiao_verification_pauses_the_source(tt, job, reason):
    result, _site = tt[job]
    assert result.summary.status == "banned" and result.items == []
    assert result.summary.ban_reason.startswith(reason)
