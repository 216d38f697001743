"""The browser-backed download (crawlers/browser.py) and the douyin spider, through real Chromium.

The local site's search page signs its API call in JavaScript with a per-page nonce; the API
answers 403 to anything the page did not sign. The spider gets the items only through the page,
and further pages by scrolling that same page (the page asks for offset=cursor itself).
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
from crawlers.spiders.douyin import SEARCH_API
from crawlers.testing.signing_site import SigningSite

FIXTURES = Path(__file__).parent / "fixtures" / "douyin"
PAGES = {0: "search_single.json", 10: "search_single_p2.json", 20: "search_single_p3.json"}


def douyin_payload(keyword: str, offset: int) -> dict:
    if keyword == "风控":  # a reply that is not a result page (ours: the code is not Douyin's documented one)
        return {"status_code": 2483, "status_msg": "请先登录", "data": None}
    if keyword != "家暴" or offset not in PAGES:
        return {"status_code": 0, "data": [], "has_more": 0, "cursor": offset}
    return json.loads((FIXTURES / PAGES[offset]).read_text(encoding="utf-8"))


@pytest.fixture
def signing_site() -> Iterator[SigningSite]:
    if not shutil.which("chromium") and not Path(chromium_path()).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    site = SigningSite(SEARCH_API, douyin_payload)
    site.start()
    yield site
    site.stop()


def douyin_source(config_file, monkeypatch) -> None:
    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    data["sources"] = [{"name": "douyin", "spider": "douyin", "download_delay": 0, "cookie_env": "YUQING_TEST_DY"}]
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("YUQING_TEST_DY", "sessionid=abc123; ttwid=t1")


def test_unsigned_api_call_is_refused(signing_site):
    url = f"{signing_site.url}{SEARCH_API}?keyword=%E5%AE%B6%E6%9A%B4&offset=0&count=10&nonce=x&a_bogus=00000000"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, timeout=5)
    assert err.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as err:  # no signature at all
        urllib.request.urlopen(f"{signing_site.url}{SEARCH_API}?keyword=x", timeout=5)
    assert err.value.code == 403


def test_douyin_spider_gets_items_through_the_page_and_scrolls_for_more(signing_site, crawl, config_file,
                                                                        monkeypatch):
    douyin_source(config_file, monkeypatch)
    result = crawl("douyin", keywords="家暴", base_url=signing_site.url, keep_all="1",
                   settings={"YUQING_NOW": "2024-06-14T14:00:00+08:00"})
    assert result.summary.status == "ok", result.log[-3000:]
    items = result.by_id()
    assert sorted(items) == ["douyin:7378000000000000031", "douyin:7379000000000000021", "douyin:7379000000000000022",
                             "douyin:7380123456780000001", "douyin:7380123456789012345", "douyin:7380123456789099999"]
    first = items["douyin:7380123456789012345"]
    assert first["url"] == "https://www.douyin.com/video/7380123456789012345"
    assert first["text"].startswith("女子遭家暴后报警")
    assert first["author"] == "某地新闻" and first["author_id"] == "93847261530"
    assert first["author_verified"] is True  # enterprise_verify_reason
    assert first["published_at"].startswith("2024-06-14T14:00:00+08:00")
    assert (first["likes"], first["comments"], first["reposts"]) == (15230, 842, 311)
    assert first["region"] == "湖南"
    assert items["douyin:7380123456789099999"]["author_verified"] is False
    assert items["douyin:7380123456780000001"]["author"] == "普法栏目"  # from aweme_mix_info.mix_items
    second_page = items["douyin:7379000000000000022"]  # reached by scrolling the page once
    assert second_page["published_at"].startswith("2024-06-13T08:53:20+08:00")
    assert (second_page["likes"], second_page["comments"], second_page["reposts"]) == (2210, 180, 95)
    assert second_page["region"] == "广东" and second_page["author"] == "律师老陈"
    api_calls = [r for r in signing_site.requests if r.path == SEARCH_API]
    assert [r.query["offset"] for r in api_calls] == ["0", "10", "20"]  # the page's own calls, one page load
    assert len([r for r in signing_site.requests if r.path.startswith("/search/")]) == 1
    assert signing_site.refused == 0
    assert "sessionid=abc123" in api_calls[0].headers.get("Cookie", "")  # the cookie_env reached the browser
    assert "abc123" not in result.log  # and was never logged


def test_douyin_paging_stops_at_since(signing_site, crawl, config_file, monkeypatch):
    douyin_source(config_file, monkeypatch)
    result = crawl("douyin", keywords="家暴", base_url=signing_site.url, keep_all="1",
                   since="2024-06-13T15:00:00+08:00", settings={"YUQING_NOW": "2024-06-14T14:00:00+08:00"})
    assert result.summary.status == "ok", result.log[-3000:]
    assert sorted(result.by_id()) == ["douyin:7380123456789012345", "douyin:7380123456789099999"]
    offsets = [r.query["offset"] for r in signing_site.requests if r.path == SEARCH_API]
    assert offsets == ["0", "10"]  # page 2 is all older than since: page 3 is never asked for


def test_douyin_login_wall_pauses_the_source(signing_site, crawl, config_file, monkeypatch):
    douyin_source(config_file, monkeypatch)
    result = crawl("douyin", keywords="风控,家暴", base_url=signing_site.url, keep_all="1",
                   settings={"YUQING_NOW": "2024-06-14T14:00:00+08:00", "CONCURRENT_REQUESTS": 1})
    assert result.summary.status == "banned", result.log[-3000:]
    assert "status_code=2483" in result.summary.ban_reason and "请先登录" in result.summary.ban_reason
    assert result.summary.ban_reason.startswith("抖音搜索接口拒绝请求")


def test_doctor_names_a_missing_chromium(monkeypatch):
    from crawlers import browser

    assert browser.browser_problem() is None  # this machine has Debian chromium and playwright
    monkeypatch.setattr(browser, "chromium_path", lambda settings=None: "/nonexistent/chromium")
    assert browser.browser_problem() == ("找不到 Chromium（/nonexistent/chromium）：请安装 Debian chromium"
                                         "（apt-get install -y chromium，或 make browser）")


def test_login_cookie_covers_the_whole_site():
    from crawlers.browser import cookies_for

    jar = cookies_for("https://www.xiaohongshu.com/search_result?keyword=x", "a1=abc; web_session=s1")
    assert jar == [{"name": "a1", "value": "abc", "domain": ".xiaohongshu.com", "path": "/"},
                   {"name": "web_session", "value": "s1", "domain": ".xiaohongshu.com", "path": "/"}]
    assert cookies_for("https://news.example.com.cn/a", "k=v")[0]["domain"] == ".example.com.cn"
    assert cookies_for("http://127.0.0.1:8080/search/x", "k=v") == [{"name": "k", "value": "v",
                                                                      "url": "http://127.0.0.1:8080"}]
    assert cookies_for("https://www.douyin.com/", None) == []
