"""Date, count and HTML normalisation used by every spider (pure functions, no crawl)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.parsing import (
    date_window,
    html_to_text,
    iso,
    parse_count,
    parse_date,
    refine_with_mid,
    weibo_mid_time,
)
from crawlers.testing.site import FixtureSite, Reply

NOW = datetime(2025, 6, 14, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai


@pytest.mark.parametrize(("raw", "expected"), [
    ("刚刚", "2025-06-14T14:00:00+08:00"),
    ("30秒前", "2025-06-14T13:59:30+08:00"),
    ("5分钟前", "2025-06-14T13:55:00+08:00"),
    ("2小时前", "2025-06-14T12:00:00+08:00"),
    ("3天前", "2025-06-11T14:00:00+08:00"),
    ("今天 12:30", "2025-06-14T12:30:00+08:00"),
    ("今天12:30", "2025-06-14T12:30:00+08:00"),
    ("昨天 08:00", "2025-06-13T08:00:00+08:00"),
    ("前天 23:59", "2025-06-12T23:59:00+08:00"),
    ("06-14", "2025-06-14T00:00:00+08:00"),
    ("06-14 09:05", "2025-06-14T09:05:00+08:00"),
    ("12-31", "2024-12-31T00:00:00+08:00"),  # later than now this year: last year
    ("06月13日 08:00", "2025-06-13T08:00:00+08:00"),
    ("2024年12月31日 23:59", "2024-12-31T23:59:00+08:00"),
    ("2025年6月10日", "2025-06-10T00:00:00+08:00"),
    ("2025-06-14 10:00:05", "2025-06-14T10:00:05+08:00"),
    ("2025/06/14 10:00", "2025-06-14T10:00:00+08:00"),
    ("发布于 2025-06-14 08:00", "2025-06-14T08:00:00+08:00"),
    ("发布时间：2025-06-14 09:30", "2025-06-14T09:30:00+08:00"),
    ("Sat Jun 14 12:00:00 +0800 2025", "2025-06-14T12:00:00+08:00"),
    ("Sat, 14 Jun 2025 02:30:00 GMT", "2025-06-14T10:30:00+08:00"),
    ("Fri, 13 Jun 2025 10:00:00 +0800", "2025-06-13T10:00:00+08:00"),
    ("2025-06-14T05:00:00Z", "2025-06-14T13:00:00+08:00"),
    ("2025-06-14T09:15:00", "2025-06-14T09:15:00+08:00"),  # naive: Shanghai
    ("1749866400", "2025-06-14T10:00:00+08:00"),
    ("1749866400000", "2025-06-14T10:00:00+08:00"),
    (1749866400, "2025-06-14T10:00:00+08:00"),
    # forms seen in real Baidu / RSS / Weibo payloads (fixtures/README.md)
    ("昨天", "2025-06-13T00:00:00+08:00"),
    ("今天", "2025-06-14T00:00:00+08:00"),
    ("前天", "2025-06-12T00:00:00+08:00"),
    ("发布于：2小时前", "2025-06-14T12:00:00+08:00"),
    ("发布于:5分钟前", "2025-06-14T13:55:00+08:00"),
    ("半小时前", "2025-06-14T13:30:00+08:00"),
    ("Sat, 14 Jun 2025 08:30:00 CST", "2025-06-14T08:30:00+08:00"),  # China Standard Time, not US Central
    ("Sat, 14 Jun 2025 10:00:00", "2025-06-14T10:00:00+08:00"),  # zone-less pubDate: Beijing time
    ("2025-06-13 16:45:00", "2025-06-13T16:45:00+08:00"),
])
def test_every_date_form(raw, expected):
    assert iso(parse_date(raw, NOW)) == expected


@pytest.mark.parametrize("raw", ["上个礼拜某天", "", None, "2025-13-40", "99:99"])
def test_bad_dates_raise_a_chinese_reason(raw):
    with pytest.raises(ValueError, match="时间"):
        parse_date(raw, NOW)


@pytest.mark.parametrize(("raw", "expected"), [
    (12, 12), ("12", 12), ("1,234", 1234), ("1.2万", 12000), ("12.3万", 123000), ("3亿", 300000000),
    ("1.5亿", 150000000), ("100万+", 1000000), ("转发", 0), ("评论", 0), ("赞", 0), ("", 0),
    ("转发 1.2万", 12000), ("评论 3", 3), ("1.2w", 12000), ("99+", 99), ("１２", 12), (None, 0),
])
def test_every_count_form(raw, expected):
    assert parse_count(raw) == expected


@pytest.mark.parametrize("raw", ["1.2.3万", "-5", -1, True, "12 34"])
def test_bad_counts_raise(raw):
    with pytest.raises(ValueError, match="计数"):
        parse_count(raw)


def test_html_to_text_keeps_emoticons_and_lines():
    html = ('警方通报<span class="url-icon"><img alt="[允悲]" src="x"/></span><br />第二行&nbsp;&nbsp;'
            '<a href="/n/x">@某人</a><!--s-text--><p>段落　全角</p><script>var x=1</script>')
    assert html_to_text(html) == "警方通报[允悲]\n第二行 @某人\n段落 全角"
    assert html_to_text("Ａ＋Ｂ，你好") == "A+B,你好"  # NFKC
    assert html_to_text(None) == ""


def test_fixture_site_routes_files_and_callables(tmp_path):
    (tmp_path / "a.json").write_text('{"ok": 1}', encoding="utf-8")
    (tmp_path / "routes.json").write_text(
        '[{"path": "/api", "query": {"page": "2"}, "file": "a.json"},'
        ' {"path": "/api", "status": 418, "body": "teapot"}]', encoding="utf-8")
    import urllib.error
    import urllib.request

    with FixtureSite(tmp_path, {"/dyn": lambda req: Reply(f"hi {req.query['x']}")}) as site:
        assert urllib.request.urlopen(f"{site.url}/api?page=2").read() == b'{"ok": 1}'
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{site.url}/api?page=3")
        assert err.value.code == 418
        assert urllib.request.urlopen(f"{site.url}/dyn?x=1").read() == b"hi 1"
        assert urllib.request.urlopen(f"{site.url}/a.json").read() == b'{"ok": 1}'
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{site.url}/../etc/passwd")
    assert [r.path for r in site.requests][:2] == ["/api", "/api"]


def test_source_settings_become_scrapy_settings_below_the_command_line(monkeypatch):
    from types import SimpleNamespace

    from scrapy.settings import Settings as ScrapySettings

    from crawlers.context import CrawlContext
    from yuqing.settings import Settings, SourceSettings

    source = SourceSettings(name="wb", spider="weibo_search", download_delay=3, concurrency=2,
                            cookie_env="YUQING_TEST_COOKIE", proxy_env="YUQING_TEST_PROXY")
    ctx = CrawlContext(settings=Settings(sources=[source]), source_name="wb", source=source, now=NOW)
    scrapy_settings = ScrapySettings({"DOWNLOAD_DELAY": 2.0})
    scrapy_settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 8, priority="cmdline")
    ctx.apply_source_settings(SimpleNamespace(settings=scrapy_settings))
    assert scrapy_settings.getfloat("DOWNLOAD_DELAY") == 3
    assert scrapy_settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 8  # -s on the command line wins
    monkeypatch.setenv("YUQING_TEST_COOKIE", "SUB=x")
    monkeypatch.setenv("YUQING_TEST_PROXY", "http://127.0.0.1:3128")
    assert (ctx.cookie, ctx.proxy) == ("SUB=x", "http://127.0.0.1:3128")


def test_invalid_items_are_dropped_and_counted(config_file):
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from crawlers.pipelines import NormalizePipeline, ValidatePipeline
    from crawlers.spiders.weibo_hot import WeiboHotSpider

    crawler = get_crawler(WeiboHotSpider, {"YUQING_STORE": "0", "YUQING_NOW": "2025-06-14T14:00:00+08:00"})
    crawler.spider = WeiboHotSpider.from_crawler(crawler)
    normalize, validate = NormalizePipeline.from_crawler(crawler), ValidatePipeline.from_crawler(crawler)
    good = validate.process_item(normalize.process_item({"id": "x:1", "platform": "web", "text": "<b>好</b>",
                                                         "likes": "1.2万"}))
    assert good == {"id": "x:1", "platform": "web", "text": "好", "likes": 12000,
                    "fetched_at": "2025-06-14T14:00:00+08:00"}
    for bad in ({"id": "", "platform": "web", "text": "空 id"}, {"id": "x:2", "text": "没有 platform"},
                {"id": "x:3", "platform": "web", "text": "t", "url": 5}):
        with pytest.raises(DropItem, match="不符合帖子格式"):
            validate.process_item(normalize.process_item(bad))
    assert crawler.stats.get_value("yuqing/dropped/invalid") == 3


@pytest.mark.parametrize(("raw", "earliest", "latest"), [
    ("06-13", "2025-06-13T00:00:00+08:00", "2025-06-14T00:00:00+08:00"),  # the whole day
    ("昨天", "2025-06-13T00:00:00+08:00", "2025-06-14T00:00:00+08:00"),
    ("2小时前", "2025-06-14T11:00:00+08:00", "2025-06-14T12:00:00+08:00"),
    ("今天 12:30", "2025-06-14T12:30:00+08:00", "2025-06-14T12:31:00+08:00"),
    ("2025-06-14 10:00:05", "2025-06-14T10:00:05+08:00", "2025-06-14T10:00:05+08:00"),
])
def test_date_window_is_the_span_a_shown_date_stands_for(raw, earliest, latest):
    assert tuple(iso(d) for d in date_window(raw, NOW)) == (earliest, latest)


def test_weibo_mid_encodes_the_creation_time():
    # /statuses/show 4383411844046171 says "Sat Jun 15 11:44:46 +0800 2019"
    assert iso(weibo_mid_time("4383411844046171")) == "2019-06-15T11:44:46+08:00"
    assert weibo_mid_time("5001") is None and weibo_mid_time("HyZVegYAP") is None
    crawl = datetime(2019, 7, 16, 2, 0, tzinfo=UTC)
    assert refine_with_mid("06-27", 4387933362623405, crawl) == "2019-06-27T23:11:40+08:00"
    assert refine_with_mid("15小时前", "4394384827138748", crawl) == "2019-07-15T18:27:29+08:00"
    assert refine_with_mid("06-28", 4387933362623405, crawl) == "06-28"  # disagrees: the shown date stays
    assert refine_with_mid("Sat Jun 15 11:44:46 +0800 2019", "4383411844046171", crawl) == (
        "Sat Jun 15 11:44:46 +0800 2019")  # already exact


def test_bid_to_mid_on_captured_pairs():
    from crawlers.spiders.weibo_web import bid_to_mid

    assert bid_to_mid("GFHQlFsjb") == "4299399859880269"  # 2018 s.weibo.com card
    assert bid_to_mid("HATy0b0sZ") == "4387933362623405"  # 2019 m.weibo.cn card
    assert bid_to_mid("x/y") is None


def test_invisible_characters_are_dropped():
    assert html_to_text("正文\u200b<i>\ue627</i>结束") == "正文结束"
