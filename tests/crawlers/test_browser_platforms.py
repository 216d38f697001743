"""kuaishou and xiaohongshu through real Chromium against local sites that sign like the real pages.

Each local search page signs its API call in JavaScript (Kuaishou: ``__NS_hxfalcon`` over the
GraphQL body and the ``did`` cookie; 小红书: ``x-s`` / ``x-t`` headers over path, body and the
``a1`` cookie); the API refuses anything else with 403. Payloads are in the real reply formats
(tests/crawlers/fixtures/README.md); paging is by scrolling the same page.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from crawlers.browser import chromium_path
from crawlers.testing.signing_site import KuaishouSearch, SignedSite, XhsSearch

FIXTURES = Path(__file__).parent / "fixtures"
KS_PAGES = {"": "search_p1.json", "1": "search_p2.json"}
XHS_PAGES = {1: "search_notes_p1.json", 2: "search_notes_p2.json"}


def kuaishou_payload(keyword: str, pcursor: str) -> dict:
    if keyword == "验证":  # captcha reply (format: see fixtures/README.md, kuaishou)
        return {"data": {"result": 400002, "url": "https://captcha.zt.kuaishou.com/iframe/index.html?captchaSession=x",
                         "bizName": "ANTICRAWL_DEFAULT"}}
    if keyword != "家暴" or pcursor not in KS_PAGES:
        return {"data": {"visionSearchPhoto": {"result": 1, "feeds": [], "pcursor": "no_more"}}}
    return json.loads((FIXTURES / "kuaishou" / KS_PAGES[pcursor]).read_text(encoding="utf-8"))


def xhs_payload(keyword: str, page: int) -> dict:
    if keyword == "登录":
        return {"code": -100, "success": False, "msg": "登录已过期", "data": {}}
    if keyword != "家暴" or page not in XHS_PAGES:
        return {"code": 0, "success": True, "msg": "成功", "data": {"has_more": False, "items": []}}
    return json.loads((FIXTURES / "xiaohongshu" / XHS_PAGES[page]).read_text(encoding="utf-8"))


@pytest.fixture
def site() -> Iterator[SignedSite]:
    if not shutil.which("chromium") and not Path(chromium_path()).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    redirect = {"扫码": "/website-login/captcha?redirectPath=/search_result"}
    signed = SignedSite(KuaishouSearch(kuaishou_payload), XhsSearch(xhs_payload, redirect=redirect.get))
    signed.start()
    yield signed
    signed.stop()


def use_source(config_file: Path, monkeypatch: pytest.MonkeyPatch, name: str, cookie: str) -> None:
    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    data["sources"] = [{"name": name, "spider": name, "download_delay": 0, "cookie_env": "YUQING_TEST_COOKIE"}]
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("YUQING_TEST_COOKIE", cookie)


def api_calls(site: SignedSite, path: str) -> list:
    return [r for r in site.requests if r.path == path]


def test_unsigned_calls_are_refused(site):
    body = json.dumps({"operationName": "visionSearchPhoto", "variables": {"keyword": "家暴", "pcursor": ""}}).encode()
    for url, headers in ((f"{site.url}/graphql?__NS_hxfalcon=00000000", {"Cookie": "did=forged"}),
                         (f"{site.url}/api/sns/web/v1/search/notes", {"x-s": "XYW_00000000", "x-t": "1", "Cookie": "a1=x"})):
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        assert err.value.code == 403
    assert site.refused == 2


def test_kuaishou_search_through_the_page(site, crawl, config_file, monkeypatch):
    use_source(config_file, monkeypatch, "kuaishou", "kuaishou.server.web_st=secret-st; userId=270932146")
    result = crawl("kuaishou", keywords="家暴", base_url=site.url, keep_all="1")
    assert result.summary.status == "ok", result.log[-3000:]
    items = result.by_id()
    assert sorted(items) == ["kuaishou:3x5mt4c7yq8w2ve", "kuaishou:3xk9hq2gbr6e3ns", "kuaishou:3xq7ur8d2mw2y4a"]
    first = items["kuaishou:3xk9hq2gbr6e3ns"]
    assert first["platform"] == "kuaishou"
    assert first["url"] == "https://www.kuaishou.com/short-video/3xk9hq2gbr6e3ns"
    assert first["text"] == "女子遭家暴报警后 民警上门调解 妇联跟进帮扶 #反家暴"
    assert (first["author"], first["author_id"]) == ("某地融媒", "3xabc123def")
    assert first["published_at"] == "2025-06-14T13:30:00+08:00"  # timestamp in ms → Beijing time
    assert (first["likes"], first["comments"], first["views"]) == (15320, 842, 231000)  # realLikeCount wins
    assert first["tags"] == ["反家暴"] and "reposts" not in first  # the search feed has no share count
    second = items["kuaishou:3xq7ur8d2mw2y4a"]
    assert (second["likes"], second["views"], second["published_at"]) == (986, 12000, "2025-06-14T11:05:12+08:00")
    scrolled = items["kuaishou:3x5mt4c7yq8w2ve"]  # page 2, asked for by the page with pcursor "1"
    assert (scrolled["author"], scrolled["published_at"]) == ("某县妇联", "2025-06-13T20:40:00+08:00")
    calls = [c for c in api_calls(site, "/graphql") if json.loads(c.body)["operationName"] == "visionSearchPhoto"]
    assert len(api_calls(site, "/graphql")) == 3  # the page's other GraphQL call is not taken for the search
    assert [json.loads(c.body)["variables"]["pcursor"] for c in calls] == ["", "1"]
    assert json.loads(calls[1].body)["variables"]["searchSessionId"].startswith("MTRf")  # fed back by the page
    assert "kuaishou.server.web_st=secret-st" in calls[0].header("Cookie") and site.refused == 0
    assert "secret-st" not in result.log


def test_kuaishou_captcha_pauses_the_source(site, crawl, config_file, monkeypatch):
    use_source(config_file, monkeypatch, "kuaishou", "userId=1")
    result = crawl("kuaishou", keywords="验证", base_url=site.url, keep_all="1")
    assert result.summary.status == "banned", result.log[-3000:]
    assert result.summary.ban_reason == "快手接口要求滑块验证（result=400002，ANTICRAWL_DEFAULT）"


def test_xiaohongshu_search_through_the_page(site, crawl, config_file, monkeypatch):
    use_source(config_file, monkeypatch, "xiaohongshu", "web_session=secret-ws; webId=w1")
    result = crawl("xiaohongshu", keywords="家暴", base_url=site.url, keep_all="1")
    assert result.summary.status == "ok", result.log[-3000:]
    items = result.by_id()
    assert sorted(items) == ["xiaohongshu:66580c3d000000000d00b7f2", "xiaohongshu:6659a0f1000000001b01a2e3",
                             "xiaohongshu:6659a1b2000000001e03c4d1"]  # the rec_query slot is not a post
    first = items["xiaohongshu:6659a1b2000000001e03c4d1"]
    assert first["url"] == ("https://www.xiaohongshu.com/explore/6659a1b2000000001e03c4d1"
                            "?xsec_token=ABx6659a1b200=&xsec_source=pc_search")
    assert first["title"] == first["text"] == "被家暴后我是怎么申请到人身安全保护令的"
    assert (first["author"], first["author_id"]) == ("清醒的阿月", "5f1e2d3c000000000101abcd")
    assert first["published_at"] == "2025-06-14T13:35:00+08:00"  # "25分钟前" at 14:00 Beijing time
    assert (first["likes"], first["comments"], first["reposts"], first["collects"]) == (12000, 865, 210, 3420)
    video = items["xiaohongshu:6659a0f1000000001b01a2e3"]
    assert video["author"] == "小城日记"  # given as nick_name
    assert video["published_at"] == "2025-06-13T21:30:00+08:00" and video["note_type"] == "video"  # 昨天 21:30
    older = items["xiaohongshu:66580c3d000000000d00b7f2"]  # page 2, reached by scrolling
    assert older["published_at"] == "2025-06-10T00:00:00+08:00" and older["likes"] == 23000  # "06-10"
    calls = api_calls(site, "/api/sns/web/v1/search/notes")
    assert [json.loads(c.body)["page"] for c in calls] == [1, 2] and site.refused == 0
    assert calls[0].header("x-s").startswith("XYW_") and calls[0].header("x-t")
    assert "web_session=secret-ws" in calls[0].header("Cookie")
    assert "secret-ws" not in result.log


def test_xiaohongshu_login_wall_and_verify_page_pause_the_source(site, crawl, config_file, monkeypatch):
    use_source(config_file, monkeypatch, "xiaohongshu", "a1=x")
    expired = crawl("xiaohongshu", keywords="登录", base_url=site.url, keep_all="1")
    assert expired.summary.status == "banned", expired.log[-3000:]
    assert expired.summary.ban_reason == "小红书搜索接口返回 code=-100：登录已过期或未登录（需要更新登录 Cookie）（登录已过期）"
    verify = crawl("xiaohongshu", keywords="扫码", base_url=site.url, keep_all="1")
    assert verify.summary.status == "banned", verify.log[-3000:]
    assert verify.summary.ban_reason.startswith("小红书搜索页跳转到登录/验证页面：https://www.xiaohongshu.com/website-login/captcha")


def test_doctor_lists_the_browser_sources_and_names_a_missing_chromium(runtime, monkeypatch):
    from crawlers import browser
    from crawlers.cli import check_sources

    results = {r.name: r for r in check_sources(runtime)}
    for name in ("数据源 kuaishou", "数据源 xiaohongshu"):  # in the default config, disabled (cookie needed)
        assert results[name].ok and results[name].detail == "已停用"
    runtime.settings.sources = [s.model_copy(update={"enabled": True}) for s in runtime.settings.sources
                                if s.name in ("kuaishou", "xiaohongshu")]
    monkeypatch.setattr(browser, "chromium_path", lambda settings=None: "/nonexistent/chromium")
    results = {r.name: r for r in check_sources(runtime)}
    assert not results["数据源 kuaishou"].ok and "找不到 Chromium" in results["数据源 kuaishou"].detail
    assert not results["数据源 xiaohongshu"].ok
