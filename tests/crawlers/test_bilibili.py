"""The bilibili spider through real Scrapy crawls of a local site that checks the wbi signature.

The site stands in for www.bilibili.com + api.bilibili.com: ``/`` sets ``buvid3`` (without it the
search answers -412, as Bilibili does), ``/x/web-interface/nav`` serves the keys, and the search
API recomputes ``w_rid`` from the received parameters and answers Bilibili's ``-403 非法访问`` to
an unsigned or wrongly signed call. Items come only through correctly signed calls.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from crawlers import wbi
from crawlers.testing.site import FixtureSite, Reply, SiteRequest
from tests.crawlers.conftest import FAST, CrawlResult

FIX = Path(__file__).parent / "fixtures" / "bilibili"
DOC_IMG = "7cd084941338484aae1ad9425b84077c"
DOC_SUB = "4932caff0ff746eab6f01bf08b70ac45"
NEW_IMG, NEW_SUB = "a" * 32, "b" * 32  # the keys after a (simulated) daily change
NOW = "2020-05-11T12:00:00+08:00"
PAGES = {("少年", "1"): "search-shaonian-p1.json", ("少年", "2"): "search-shaonian-p2.json",
         ("少年", "3"): "search-shaonian-p3.json"}


def _json(name: str, status: int = 200) -> Reply:
    return Reply((FIX / name).read_bytes(), status, {"Content-Type": "application/json; charset=utf-8"})


@dataclass
class BiliSite:
    """Counts what the API refused; `rotate` serves the documented keys first, then new ones."""

    rotate: bool = False
    refused: int = 0
    nav_calls: int = 0
    searches: list[dict[str, str]] = field(default_factory=list)
    site: FixtureSite | None = None

    def keys(self) -> tuple[str, str]:
        return (NEW_IMG, NEW_SUB) if self.rotate else (DOC_IMG, DOC_SUB)

    def home(self, req: SiteRequest) -> Reply:
        return Reply("<html><title>哔哩哔哩</title></html>", 200, {
            "Content-Type": "text/html; charset=utf-8", "Set-Cookie": "buvid3=F00D-CAFE-infoc; Path=/"})

    def nav(self, req: SiteRequest) -> Reply:
        self.nav_calls += 1
        if self.rotate and self.nav_calls > 1:
            body = json.loads((FIX / "nav-not-logged-in.json").read_text(encoding="utf-8"))
            body["data"]["wbi_img"] = {"img_url": f"https://i0.hdslb.com/bfs/wbi/{NEW_IMG}.png",
                                       "sub_url": f"https://i0.hdslb.com/bfs/wbi/{NEW_SUB}.png"}
            return Reply(json.dumps(body), 200, {"Content-Type": "application/json"})
        return _json("nav-not-logged-in.json")

    def search(self, req: SiteRequest) -> Reply:
        if "buvid3=" not in req.headers.get("Cookie", ""):
            return _json("banned-412.json", 412)
        if not wbi.check(req.query, *self.keys()):
            self.refused += 1
            return _json("illegal-403.json")
        self.searches.append(dict(req.query))
        keyword, page = req.query.get("keyword", ""), req.query.get("page", "1")
        if keyword == "风控":
            return _json("risk-352.json")
        if keyword == "拦截":
            return _json("banned-412.json", 412)
        if keyword == "验证":
            return _json("v_voucher.json")
        return _json(PAGES.get((keyword, page), "search-empty.json"))

    def start(self) -> BiliSite:
        self.site = FixtureSite(handlers={"/": self.home, "/x/web-interface/nav": self.nav,
                                          "/x/web-interface/wbi/search/type": self.search}).start()
        return self

    @property
    def url(self) -> str:
        assert self.site is not None
        return self.site.url


JOBS: dict[str, tuple[dict[str, Any], bool]] = {
    "main": ({"keywords": "少年,冷门"}, False),
    "since": ({"keywords": "少年", "since": "2020-04-20T00:00:00+08:00"}, False),
    "rotated": ({"keywords": "少年", "max_pages": "1"}, True),
    "risk": ({"keywords": "风控"}, False),
    "banned": ({"keywords": "拦截"}, False),
    "voucher": ({"keywords": "验证"}, False),
}


@dataclass
class Crawled:
    result: CrawlResult
    site: BiliSite


@pytest.fixture(scope="module")
def bili(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Crawled]]:
    from crawlers.testing.batch import BatchJob, run_batch
    from tests.conftest import write_config

    tmp = tmp_path_factory.mktemp("bili")
    config = write_config(tmp)
    sites = {name: BiliSite(rotate=rotate).start() for name, (_args, rotate) in JOBS.items()}
    jobs = [BatchJob(spider="bilibili", output=str(tmp / f"{name}.jsonl"), summary_file=str(tmp / f"{name}.json"),
                     args={"base_url": sites[name].url, "keep_all": "1", **args},
                     settings={**FAST, "YUQING_STORE": "0", "YUQING_NOW": NOW}, env={"YUQING_CONFIG": str(config)})
            for name, (args, _rotate) in JOBS.items()]
    summaries = run_batch(jobs, tmp, env={"YUQING_CONFIG": str(config)})
    out = {}
    for (name, site), job, summary in zip(sites.items(), jobs, summaries, strict=True):
        path = Path(job.output)
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
        out[name] = Crawled(CrawlResult(summary, items, ""), site)
    yield out
    for site in sites.values():
        assert site.site is not None
        site.site.stop()


def test_documented_wbi_example_is_reproduced():
    assert wbi.mixin_key(DOC_IMG, DOC_SUB) == "ea1db124af3c7062474693fa704f4ff8"
    signed = wbi.sign({"foo": "114", "bar": "514", "zab": 1919810}, DOC_IMG, DOC_SUB, now=1702204169)
    assert signed["wts"] == "1702204169" and signed["w_rid"] == "8f6f2b5b3d485fe1886cec6a0be8c5d4"
    # upper-case hex, space as %20; !'()* are dropped before signing
    assert wbi.encode_query({"foo": "one one four", "bar": "五一四", "baz": 1919810}) == (
        "bar=%E4%BA%94%E4%B8%80%E5%9B%9B&baz=1919810&foo=one%20one%20four")
    assert wbi.sign({"keyword": "(少年)!*'"}, DOC_IMG, DOC_SUB, now=1)["keyword"] == "少年"
    assert wbi.keys_from_nav(json.loads((FIX / "nav-not-logged-in.json").read_text(encoding="utf-8"))) == (
        DOC_IMG, DOC_SUB)


def test_unsigned_and_wrongly_signed_calls_are_refused():
    site = BiliSite().start()
    try:
        base = f"{site.url}/x/web-interface/wbi/search/type?search_type=video&keyword={quote('少年')}&page=1"
        good = wbi.sign({"search_type": "video", "keyword": "少年", "page": 1}, DOC_IMG, DOC_SUB, now=1589169600)
        for query in ("", "&wts=1589169600&w_rid=00000000000000000000000000000000",
                      f"&wts=1589169601&w_rid={good['w_rid']}"):  # no signature, a wrong one, another wts
            req = urllib.request.Request(base + query, headers={"Cookie": "buvid3=x"})
            assert json.loads(urllib.request.urlopen(req, timeout=5).read())["code"] == -403
        assert site.refused == 3
        req = urllib.request.Request(f"{site.url}/x/web-interface/wbi/search/type?{wbi.encode_query(good)}",
                                     headers={"Cookie": "buvid3=x"})
        assert json.loads(urllib.request.urlopen(req, timeout=5).read())["code"] == 0
    finally:
        assert site.site is not None
        site.site.stop()


def test_bilibili_videos_field_by_field(bili):
    result, site = bili["main"].result, bili["main"].site
    assert result.summary.status == "ok" and site.refused == 0
    items = result.by_id()
    assert sorted(items) == sorted(["bilibili:BV1yuqing001", "bilibili:BV1xk4y1k7aw", "bilibili:BV1De411p77r",
                                    "bilibili:BV1Ug4y1z7oN", "bilibili:BV1Hp4y1y7iQ", "bilibili:BV1AZ4y1j7t6",
                                    "bilibili:BV1B7411R7a8", "bilibili:BV1K4411i7mw"])
    daju = items["bilibili:BV1De411p77r"]
    assert daju == {
        "id": "bilibili:BV1De411p77r", "platform": "bilibili", "url": "https://www.bilibili.com/video/BV1De411p77r",
        "title": "梦然-《少年》官方版",  # <em class="keyword"> stripped
        "text": "https://www.ixigua.com/i6822128361129640462/?logTag=EBTB5DTpBmxcfK1GYOOea\n梦然老师《少年》MV官方版,"
                "原版:西瓜视频搜索“抖音梦然-《少年》” 抖音搜索 “《少年》MV梦然。",
        "author": "大橘爱吃猫", "author_id": "178932626",
        "published_at": "2020-05-02T16:10:50+08:00",  # pubdate 1588407050, Beijing time
        "views": 1037655, "comments": 1265, "danmaku": 2616, "favorites": 27341, "bvid": "BV1De411p77r",
        "aid": "243082173", "category": "MV", "tags": ["华语MV", "国语MV", "梦然", "少年", "梦想", "成长", "循环", "热歌"],
        "fetched_at": "2020-05-11T12:00:00+08:00", "keywords": ["少年"]}
    assert items["bilibili:BV1AZ4y1j7t6"]["text"] == "BGM:少年——梦然\n花了好多心思的作品,求个三连呀φ(>ω<*)"  # entities decoded
    assert items["bilibili:BV1B7411R7a8"]["text"] == "你还是从前的那个少年吗?来自元气少女超甜的《少年》"  # no description
    ours = items["bilibili:BV1yuqing001"]
    assert (ours["likes"], ours["danmaku"], ours["views"]) == (860, 35, 12000)  # `danmaku` before video_review
    assert ours["text"] == "author-written 条目(非抓取):加粗 简介"
    assert "likes" not in daju  # the 2020 payload has no `like`
    assert result.summary.errors == {}
    # every call signed, newest first, paging to numPages; the empty keyword ends at once
    assert sorted((q["keyword"], q["page"], q["order"], q["search_type"]) for q in site.searches) == [
        ("冷门", "1", "pubdate", "video"), ("少年", "1", "pubdate", "video"), ("少年", "2", "pubdate", "video"),
        ("少年", "3", "pubdate", "video")]
    assert all(q["wts"] == "1589169600" for q in site.searches)  # the crawl time (YUQING_NOW)


def test_bilibili_since_stops_paging(bili):
    result, site = bili["since"].result, bili["since"].site
    assert sorted(i["id"] for i in result.items) == sorted([
        "bilibili:BV1yuqing001", "bilibili:BV1xk4y1k7aw", "bilibili:BV1De411p77r", "bilibili:BV1Ug4y1z7oN"])
    assert [q["page"] for q in site.searches] == ["1", "2"]  # page 2 is all older than since: no page 3


def test_bilibili_rereads_changed_keys_once(bili):
    result, site = bili["rotated"].result, bili["rotated"].site
    assert result.summary.status == "ok"
    assert site.refused == 1 and site.nav_calls == 2  # -403 with the old keys, nav again, then accepted
    assert len(result.items) == 4


@pytest.mark.parametrize(("job", "reason"), [
    ("risk", "B站风控校验失败（code=-352，风控校验失败）: https://api.bilibili.com/x/web-interface/wbi/search/type?"),
    ("banned", "B站请求被拦截（HTTP 412）: https://api.bilibili.com/x/web-interface/wbi/search/type?"),
    ("voucher", "B站风控：返回 v_voucher 而非结果（需要验证）: https://api.bilibili.com/x/web-interface/wbi/search/type?"),
])
def test_bilibili_risk_control_pauses_the_source(bili, job, reason):
    summary = bili[job].result.summary
    assert summary.status == "banned" and bili[job].result.items == []
    assert summary.ban_reason.startswith(reason)


def test_bilibili_stored_posts_stop_the_next_run_and_risk_control_pauses(crawl_seq, runtime):
    from yuqing.db.models import SourceStateRow

    site = BiliSite().start()
    try:
        args = {"keywords": "少年", "base_url": site.url, "keep_all": "1"}
        first, second, risk, paused = crawl_seq(
            ("bilibili", args, {"YUQING_NOW": NOW}),
            ("bilibili", args, {"YUQING_NOW": NOW}),
            ("bilibili", {**args, "keywords": "风控"}, {"YUQING_NOW": NOW}),
            ("bilibili", args, {"YUQING_NOW": NOW}),
        )
    finally:
        assert site.site is not None
        site.site.stop()
    assert (first.summary.status, first.summary.new) == ("ok", 8)
    assert (second.summary.status, second.summary.new) == ("ok", 0)
    assert [q["page"] for q in site.searches if q["keyword"] == "少年"] == ["1", "2", "3", "1"]  # run 2: page 1 only
    assert risk.summary.status == "banned" and "风控校验失败" in risk.summary.ban_reason
    assert paused.summary.status == "paused" and paused.items == []
    with runtime.session() as s:
        state = s.get(SourceStateRow, "bilibili")
        assert state.backoff_level == 1 and "code=-352" in state.last_ban_reason
