"""The other six spiders against local copies of their sites (real formats, exact items)."""

from __future__ import annotations

from yuqing.validation import post_from_obj

FETCHED = "2025-06-14T14:00:00+08:00"


def _valid(items):
    for item in items:
        post_from_obj(item)


def test_weibo_web_cards_paging_no_result_and_changed_layout(crawled):
    result, site = crawled["ww_main"].result, crawled["ww_main"].site
    _valid(result.items)
    assert result.by_id() == {
        "weibo:4951234567890123": {  # folded text: the full version; emoticon alt kept; "转发 1.2万", "评论" = 0
            "id": "weibo:4951234567890123", "platform": "weibo", "url": "https://weibo.com/1001/Nabc123",
            "text": "警方通报一起家暴案件,全文在此[怒]\n第二行", "published_at": "2025-06-14T12:30:00+08:00",
            "author": "平安北京", "author_id": "1001", "author_verified": True, "author_verified_type": "蓝V", "author_verified_label": "蓝V",
            "reposts": 12000, "comments": 0, "likes": 35, "fetched_at": FETCHED, "keywords": ["家暴"]},
        "weibo:4951234567890124": {
            "id": "weibo:4951234567890124", "platform": "weibo", "url": "https://weibo.com/1002/Nabc124",
            "text": "邻居家暴,报警后民警已到场", "published_at": "2025-06-13T08:00:00+08:00",
            "author": "小区业主", "author_id": "1002", "author_verified": True, "author_verified_type": "黄V", "author_verified_label": "黄V",
            "reposts": 0, "comments": 3, "likes": 0, "fetched_at": FETCHED, "keywords": ["家暴"]},
        "weibo:4951234567890125": {  # page 2 via a.next
            "id": "weibo:4951234567890125", "platform": "weibo", "url": "https://weibo.com/1003/Nabc125",
            "text": "年终回顾:反家暴十年", "published_at": "2024-12-31T23:59:00+08:00",
            "author": "某大V", "author_id": "1003", "author_verified": True, "author_verified_type": "金V", "author_verified_label": "金V",
            "reposts": 1000000, "comments": 300000000, "likes": 2345, "fetched_at": FETCHED, "keywords": ["家暴"]},
    }
    assert result.summary.dropped == {"no_keyword": 1}  # the card without text
    assert result.summary.errors == {"malformed_response": 1}  # 改版: no card selector matched
    scopes = {r.query["timescope"] for r in site.requests}
    assert scopes == {"custom:2025-06-13-15:2025-06-14-15"}
    assert sorted((r.query["q"], r.query["page"]) for r in site.requests) == [
        ("家暴", "1"), ("家暴", "2"), ("性侵", "1"), ("改版", "1")]


def test_weibo_web_splits_time_range_at_page_cap(crawled):
    result, site = crawled["ww_split"].result, crawled["ww_split"].site
    scopes = [r.query["timescope"] for r in site.requests]
    assert scopes[0] == "custom:2025-06-14-12:2025-06-14-15"
    assert sorted(scopes[1:]) == sorted([  # 3h → [13,15] + [12,13]; [13,15] → [14,15] + [13,14]
        "custom:2025-06-14-13:2025-06-14-15", "custom:2025-06-14-12:2025-06-14-13",
        "custom:2025-06-14-14:2025-06-14-15", "custom:2025-06-14-13:2025-06-14-14",
    ])
    assert len(result.items) == 2  # the same cards each time: duplicates dropped
    assert result.summary.dropped["duplicate"] == 8


def test_weibo_hot_topics_kept_whatever_the_keywords(crawled):
    result = crawled["hot"].result
    _valid(result.items)
    assert result.items == [
        {"id": "weibo_hot:某地妇联回应家暴求助", "platform": "weibo_hot",
         "url": "https://s.weibo.com/weibo?q=%23%E6%9F%90%E5%9C%B0%E5%A6%87%E8%81%94%E5%9B%9E%E5%BA%94%E5%AE%B6%E6%9A%B4%E6%B1%82%E5%8A%A9%23",
         "title": "某地妇联回应家暴求助", "text": "某地妇联回应家暴求助", "published_at": FETCHED,
         "views": 1234567, "rank": 1, "label": "沸", "fetched_at": FETCHED, "keywords": ["妇联", "家暴"]},
        {"id": "weibo_hot:今天的天气", "platform": "weibo_hot",
         "url": "https://s.weibo.com/weibo?q=%23%E4%BB%8A%E5%A4%A9%E7%9A%84%E5%A4%A9%E6%B0%94%23",
         "title": "今天的天气", "text": "今天的天气", "published_at": FETCHED, "views": 987000, "rank": 2,
         "fetched_at": FETCHED, "keywords": []},
    ]


def test_baidu_news_pages_and_empty_selector(crawled):
    result, site = crawled["baidu"].result, crawled["baidu"].site
    _valid(result.items)
    got = [(i["title"], i["url"], i.get("author"), i.get("published_at"), i["text"]) for i in result.items]
    assert sorted(got) == sorted([
        ("某地家暴案一审宣判", "https://news.example.cn/2025/0614/a1.html", "新京报", "2025-06-14T11:00:00+08:00",
         "法院依法审理一起家暴案件,并发出人身安全保护令。"),
        ("市妇联开展反家暴宣传周活动", "https://www.example.gov.cn/xw/202506/t20250614_2.html", "中国妇女报",
         "2025-06-13T09:15:00+08:00", "宣传周期间,市妇联联合公安、法院..."),
        ("女子遭家暴后求助妇联", "https://local.example.cn/n/3.shtml", None, "2025-06-10T00:00:00+08:00",
         "当地妇联介入调解并提供法律援助。"),
    ])
    assert all(i["id"].startswith("news:") and i["platform"] == "news" for i in result.items)
    assert sorted(r.query["pn"] for r in site.requests if r.query["word"] == "家暴") == ["0", "10"]
    assert result.summary.errors == {"malformed_response": 1}


def test_baidu_captcha_redirect_is_a_ban(crawled):
    result = crawled["baidu_ban"].result
    assert result.summary.status == "banned"
    assert "wappass.baidu.com" in result.summary.ban_reason


def test_sogou_weixin_items_and_antispider(crawled):
    result = crawled["sogou"].result
    _valid(result.items)
    got = sorted((i["title"], i.get("author"), i.get("published_at"), i["url"]) for i in result.items)
    assert got == sorted([
        ("反家暴法实施十周年:这些变化你知道吗", "中国妇女报", "2025-06-14T10:00:00+08:00",
         "https://weixin.sogou.com/link?url=dn9a_-gY295K0Rci_xozVXfdMkSQTLW6cwJThYulHEtVjXrGTiVgS8&type=2&query=%E5%AE%B6%E6%9A%B4"),
        ("社区开展家暴防治讲座", "某社区服务号", "2025-06-13T10:00:00+08:00",
         "https://weixin.sogou.com/link?url=abcDEF&type=2"),
        ("第二页:家暴求助渠道汇总", "某市妇联", None, "https://weixin.sogou.com/link?url=zzz&type=2"),
    ])
    assert all(i["platform"] == "wechat" and i["id"].startswith("wechat:") for i in result.items)
    banned = crawled["sogou_ban"].result
    assert banned.summary.status == "banned" and "/antispider/" in banned.summary.ban_reason
    assert banned.items == []


def test_sogou_no_result_page_is_not_malformed_but_a_changed_layout_is(crawled):
    result = crawled["sogou_empty"].result
    assert result.items == [] and result.summary.status == "ok"
    assert result.summary.errors == {"malformed_response": 1}  # only the changed layout (改版), not 冷门词


def test_rss_gbk_atom_broken_and_missing_feeds(crawled):
    result = crawled["rss"].result
    _valid(result.items)
    got = {i["title"]: i for i in result.items}
    assert sorted(got) == ["妇女儿童权益保护条例解读", "幼儿园疑似虐童事件通报", "省妇联召开反家暴工作推进会"]
    gov = got["省妇联召开反家暴工作推进会"]  # gb2312-declared feed with a GBK-only character (镕)
    assert gov["text"] == "6月14日,省妇联召开反家暴工作推进会,部署人身安全保护令宣传。\n镕"
    assert gov["published_at"] == "2025-06-14T10:30:00+08:00"
    assert gov["author"] == "某省妇联" and gov["keywords"] == ["妇联", "家暴"]  # default config schemes
    assert gov["url"] == "http://www.example.gov.cn/gzdt/202506/t20250614_1.html"
    assert got["妇女儿童权益保护条例解读"]["keywords"] == ["妇女权益"]
    atom = got["幼儿园疑似虐童事件通报"]
    assert (atom["text"], atom["author"], atom["published_at"], atom["keywords"]) == (
        "警方已介入调查幼儿园虐童事件。", "记者 王某", "2025-06-14T13:00:00+08:00", ["儿童安全"])
    assert result.summary.dropped == {"no_keyword": 1}  # 植树 matches no scheme
    assert result.summary.errors == {"malformed_response": 1}


def test_rss_since_skips_old_entries(crawled):
    result = crawled["rss_since"].result
    assert [i["title"] for i in result.items] == ["省妇联召开反家暴工作推进会"]


def test_web_list_from_config_selectors(crawled):
    result, site = crawled["web_list"].result, crawled["web_list"].site
    _valid(result.items)
    by_url = {i["url"]: i for i in result.items}
    assert by_url == {
        "https://bbs.example.cn/thread/101.html": {
            "id": by_url["https://bbs.example.cn/thread/101.html"]["id"], "platform": "web",
            "url": "https://bbs.example.cn/thread/101.html", "title": "小区内发生家暴,社区不作为",
            "text": "楼下邻居长期家暴,多次报告社区无人处理。\n请领导关注!", "author": "网友A",
            "published_at": "2025-06-14T09:30:00+08:00", "site": "forum", "fetched_at": FETCHED,
            "keywords": ["家暴"]},
        "https://bbs.example.cn/thread/102.html": {
            "id": by_url["https://bbs.example.cn/thread/102.html"]["id"], "platform": "web",
            "url": "https://bbs.example.cn/thread/102.html", "title": "关于产假和生育津贴的咨询",
            "text": "单位拒绝发放生育津贴,怎么办?", "published_at": "2025-06-13T00:00:00+08:00", "site": "forum",
            "fetched_at": FETCHED, "keywords": ["妇女权益"]},
    }
    paths = {r.path for r in site.requests}
    assert "/thread/104.html" not in paths  # listed before `since`: not fetched
    assert "/thread/103.html" in paths
    assert result.summary.errors == {"item_without_link": 1, "malformed_response": 1}


def test_server_error_is_retried_with_backoff(crawled):
    result, site = crawled["retry"].result, crawled["retry"].site
    assert [r.path for r in site.requests] == ["/ajax/side/hotSearch", "/ajax/side/hotSearch"]
    assert len(result.items) == 2 and result.summary.status == "ok"
