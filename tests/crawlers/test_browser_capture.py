"""The browser-backed download (crawlers/browser.py) and the douyin spider, through real Chromium.

The local site's search page signs its API call in JavaScript with a per-page nonce; the API
answers 403 to anything the page did not sign. The spider gets the items only through the page.
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

FIXTURE = Path(__file__).parent / "fixtures" / "douyin" / "search_single.json"


@pytest.fixture
def signing_site() -> Iterator[SigningSite]:
    if not shutil.which("chromium") and not Path(chromium_path()).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    payload = json.loads(FIXTURE.read_text(encoding="utf-8"))
    site = SigningSite(SEARCH_API, lambda keyword: payload if keyword == "家暴" else {"status_code": 0, "data": []})
    site.start()
    yield site
    site.stop()


def test_unsigned_api_call_is_refused(signing_site):
    url = f"{signing_site.url}{SEARCH_API}?keyword=%E5%AE%B6%E6%9A%B4&offset=0&count=10&nonce=x&a_bogus=00000000"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, timeout=5)
    assert err.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as err:  # no signature at all
        urllib.request.urlopen(f"{signing_site.url}{SEARCH_API}?keyword=x", timeout=5)
    assert err.value.code == 403


def test_douyin_spider_gets_items_through_the_page(signing_site, crawl, config_file, monkeypatch):
    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    data["sources"] = [{"name": "douyin", "spider": "douyin", "download_delay": 0, "cookie_env": "YUQING_TEST_DY"}]
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("YUQING_TEST_DY", "sessionid=abc123; ttwid=t1")
    result = crawl("douyin", keywords="家暴", base_url=signing_site.url, keep_all="1",
                   settings={"YUQING_NOW": "2024-06-14T14:00:00+08:00"})
    assert result.summary.status == "ok", result.log[-3000:]
    items = result.by_id()
    assert sorted(items) == ["douyin:7380123456780000001", "douyin:7380123456789012345", "douyin:7380123456789099999"]
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
    api_calls = [r for r in signing_site.requests if r.path == SEARCH_API]
    assert len(api_calls) == 1 and signing_site.refused == 0  # the page's own signed call, accepted
    assert "sessionid=abc123" in api_calls[0].headers.get("Cookie", "")  # the cookie_env reached the browser


def test_doctor_names_a_missing_chromium(monkeypatch):
    from crawlers import browser

    assert browser.browser_problem() is None  # this machine has Debian chromium and playwright
    monkeypatch.setattr(browser, "chromium_path", lambda settings=None: "/nonexistent/chromium")
    assert browser.browser_problem() == ("找不到 Chromium（/nonexistent/chromium）：请安装 Debian chromium"
                                         "（apt-get install -y chromium，或 make browser）")
