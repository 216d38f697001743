"""Every spider against payloads captured by others and fixtures in the formats maintained public
parsers read (tests/crawlers/fixtures/README.md records where each format fact comes from).

The crawls run once per session (conftest JOBS "real_*") against tests/crawlers/fixtures/real/.
"""

from __future__ import annotations

import hashlib

from yuqing.validation import post_from_obj

NOW_2018 = "2018-10-26T16:24:06+08:00"  # servertime of the captured s.weibo.com page
NOW_2019 = "2019-07-16T10:00:00+08:00"  # the day the koa2 timeline was committed
NOW = "2025-06-14T14:00:00+08:00"


def _valid(items):
    for item in items:
        post_from_obj(item)


# -- weibo_web: s.weibo.com cards of 2018 (verbatim), of a dataabc fork test (2026), a repost ---------
def test_weibo_web_real_cards_field_by_field(crawled):
    result = crawled["real_ww"].result
    _valid(result.items)
    assert result.by_id() == {
        # verbatim 2018 card: p.from time link ("32分钟前") → url and the mid's exact time; counts from
        # action-type links ("转发 28", "评论 11", <em>7</em>); no badge
        "weibo:4299399859880269": {
            "id": "weibo:4299399859880269", "platform": "weibo", "url": "https://weibo.com/6336410207/GFHQlFsjb",
            "text": "[小仙女]本本的手帐锦鲤来啦~[小仙女]\n奖品都是我自己挑哒(详情戳图哦~)\n感谢小伙伴们长久以来的喜欢和支持!\n"
                    "关注➕转发 就可以参与啦~[太开心][太开心][太开心]\n我会在11月11日通过@微博抽奖平台 抽取锦鲤哦~",
            "published_at": "2018-10-26T15:51:08+08:00", "author": "短腿少女本", "author_id": "6336410207",
            "author_verified": False, "reposts": 28, "comments": 11, "likes": 7, "fetched_at": NOW_2018,
            "keywords": ["转发"]},
        # verbatim 2018 card: i.icon-vip-b (微博官方认证) → 蓝V; the full text (feed_list_content_full)
        # without 展开全文/收起全文; labels without numbers ("转发 ", "评论 ", <em></em>) → 0
        "weibo:4299399586419136": {
            "id": "weibo:4299399586419136", "platform": "weibo", "url": "https://weibo.com/5937137080/GFHPUqVUs",
            "text": "[今天,向他们说一声:您辛苦了![心]]是他们,迎接每天第一缕晨曦;是他们,晴天一身灰雨天一身泥.然而为了完成工作,"
                    "他们有的被无端殴打;有的在悬崖峭壁间,为游客的不文明冒险;甚至有的在捡垃圾时被撞身亡...今天是#环卫工日#,"
                    "转发呼吁:记录下身边最美环卫工人的身影,向劳动者点赞致敬!",
            "published_at": "2018-10-26T15:50:03+08:00", "author": "宝鸡反邪教", "author_id": "5937137080",
            "author_verified": True, "author_verified_type": "蓝V", "author_verified_label": "蓝V",
            "reposts": 0, "comments": 0, "likes": 0, "fetched_at": NOW_2018, "keywords": ["转发"]},
        # dataabc fork test card: div.from, svg#woo_svg_vblue, a[nick-name] in div.info, like button span
        "weibo:123": {
            "id": "weibo:123", "platform": "weibo", "url": "https://weibo.com/42/AbCd", "text": "xx正文 #话题# @name",
            "published_at": "2026-05-26T10:00:00+08:00", "author": "用户", "author_id": "42",
            "author_verified": True, "author_verified_type": "蓝V", "author_verified_label": "蓝V",
            "reposts": 3, "comments": 4, "likes": 5, "fetched_at": NOW_2018, "keywords": ["正文"]},
        # the reposted original from div.card-comment (id from the like link's action-data)
        "weibo:4299304121715633": {
            "id": "weibo:4299304121715633", "platform": "weibo", "url": "https://weibo.com/7002000002/GFFlW7cjv",
            "text": "【警情通报】10月25日晚,我局接群众报警称某小区发生家暴,民警已依法处置。",
            "published_at": "2018-10-26T09:30:42+08:00", "author": "平安某地", "author_id": "7002000002",
            "author_verified": True, "author_verified_type": "蓝V", "author_verified_label": "蓝V",
            "reposts": 12000, "comments": 3456, "likes": 21000, "fetched_at": NOW_2018, "keywords": ["转发", "家暴"]},
        # the repost: <use xlink:href="#woo_svg_vyellow"> → 黄V; repost_of; "转发" alone → 0
        "weibo:4299406745720455": {
            "id": "weibo:4299406745720455", "platform": "weibo", "url": "https://weibo.com/7001000001/GFI1so09p",
            "text": "转发支持,希望依法严惩 //@平安某地:已立案", "published_at": "2018-10-26T16:18:30+08:00",
            "author": "热心网友小李", "author_id": "7001000001", "author_verified": True,
            "author_verified_type": "黄V", "author_verified_label": "黄V", "reposts": 0, "comments": 2, "likes": 8,
            "repost_of": "weibo:4299304121715633", "fetched_at": NOW_2018, "keywords": ["转发", "家暴"]},
    }
    ids = [i["id"] for i in result.items]
    assert ids.index("weibo:4299304121715633") < ids.index("weibo:4299406745720455")  # original first
    assert result.summary.errors == {} and result.summary.dropped == {}


# -- weibo_search: m.weibo.cn card payloads of 2019 and 2022 (verbatim) --------------------------------
def test_weibo_search_real_cards_field_by_field(crawled):
    result, site = crawled["real_ws"].result, crawled["real_ws"].site
    _valid(result.items)
    got = result.by_id()
    assert len(got) == len(result.items) == 27  # 11 + 12 cards' posts (2 originals) + 2 + 2
    # "06-14" on a 2019 card: the exact time from the mid; verified_type 0 + verified_type_ext 1 → 金V
    assert got["weibo:4383183661430868"] == {
        "id": "weibo:4383183661430868", "platform": "weibo", "url": "https://m.weibo.cn/detail/4383183661430868",
        "text": "搬完这块砖,就可以吃好吃的了[偷笑][偷笑][偷笑]", "published_at": "2019-06-14T20:38:03+08:00",
        "reposts": 240492, "comments": 95535, "likes": 348872, "author": "Dear-迪丽热巴", "author_id": "1669879400",
        "author_verified": True, "author_verified_label": "金V", "author_verified_type": 0,
        "author_followers": 63356825, "bid": "HyTZc60ew", "fetched_at": NOW_2019, "keywords": []}
    # 2022 repost: full created_at, IP属地 region_name "发布于 北京", followers "7164.8万", repost_of
    assert got["weibo:4804608494665869"] == {
        "id": "weibo:4804608494665869", "platform": "weibo", "url": "https://m.weibo.cn/detail/4804608494665869",
        "text": "#过刚刚好的生活,从小小的我开始#", "published_at": "2022-08-20T18:29:52+08:00",
        "reposts": 28544, "comments": 17356, "likes": 116398, "author": "胡歌", "author_id": "1223178222",
        "author_verified": True, "author_verified_label": "金V", "author_verified_type": 0,
        "author_followers": 71648000, "bid": "M1VT3jzNX", "region": "北京",
        "repost_of": "weibo:4804268794315521", "fetched_at": NOW_2019, "keywords": ["胡歌"]}
    # its original, emitted too: an organisation (verified_type 7) → 蓝V
    original = got["weibo:4804268794315521"]
    assert (original["author"], original["author_verified_label"], original["author_verified_type"],
            original["region"], original["client"], original["published_at"]) == (
        "万科公益基金会", "蓝V", 7, "北京", "微博视频号", "2022-08-19T20:00:02+08:00")
    assert original["text"].startswith("2022年 #零废弃日#,@胡歌 与我们分享")
    # pinned card (isTop / title 置顶): marked, "06-27" → 23:11:40 from the mid (not midnight)
    pinned = got["weibo:4387933362623405"]
    assert (pinned["pinned"], pinned["published_at"], pinned["repost_of"], pinned["author_verified_label"]) == (
        True, "2019-06-27T23:11:40+08:00", "weibo:4387930325701338", "黄V")
    # "15小时前" at 2019-07-16 10:00 → the mid's 18:27:29 the day before
    assert got["weibo:4394384827138748"]["published_at"] == "2019-07-15T18:27:29+08:00"
    # cards with ad_state 1 are ordinary posts of the account (kept)
    assert {"weibo:4381312410216312", "weibo:4380517519047355", "weibo:4379825714272349",
            "weibo:4378514142544199"} <= set(got)
    # the /statuses/show reply as a card (card_type "9" as a string): the original carries its long
    # text inline (longText.longTextContent), no /statuses/extend request for it
    shown = got["weibo:4383411844046171"]
    assert (shown["text"], shown["repost_of"], shown["published_at"], shown["author_verified"]) == (
        "转发微博", "weibo:4383404751066167", "2019-06-15T11:44:46+08:00", False)
    inline = got["weibo:4383404751066167"]
    assert len(inline["text"]) > 400 and "全文" not in inline["text"]
    # isLongText: the /statuses/extend reply's longTextContent (and its counts) replace the card's
    long = got["weibo:4393264377139656"]
    assert long["text"].startswith("😄😆😊😃") and "\nNature\n" in long["text"]
    assert (long["reposts"], long["comments"], long["likes"]) == (0, 0, 0)
    extends = [r.query["id"] for r in site.requests if r.path == "/statuses/extend"]
    assert extends == ["4393264377139656"]
    # paging: cardlistInfo.page=2 → page 2; page 2 says 2 again (not ahead) → page 3 answers {"ok":0};
    # since_id (timeline paging, no page) → page 2 answers {"ok":0}; page null → no page 2
    pages = sorted((r.query["containerid"].split("q=")[1], r.query["page"]) for r in site.requests
                   if r.path == "/api/container/getIndex")
    assert pages == [("热巴", "1"), ("热巴", "2"), ("热巴", "3"), ("胡歌", "1"), ("胡歌", "2"), ("转发", "1")]
    assert all(r.query["containerid"].startswith("100103type=61&") for r in site.requests
               if r.path == "/api/container/getIndex")  # 实时: newest first


def test_weibo_search_since_keeps_a_date_only_post_of_that_day(crawled):
    result = crawled["real_ws_since"].result
    got = result.by_id()
    # since 06-27 12:00: "06-27" (22:59:36 by its mid) is not older than since; nothing is dropped
    assert got["weibo:4387930325701338"]["published_at"] == "2019-06-27T22:59:36+08:00"
    assert len(got) == 12 and result.summary.dropped == {}


def test_weibo_search_deleted_hidden_and_promoted_cards(crawled):
    result = crawled["real_ws_gone"].result
    _valid(result.items)
    # the deleted original ({"deleted":"1"}, verbatim) is referenced, not emitted; the promoted card and
    # the hidden post ("暂时没有这条微博的查看权限") are skipped
    assert result.items == [{
        "id": "weibo:3899470000000001", "platform": "weibo", "url": "https://m.weibo.cn/detail/3899470000000001",
        "text": "原微博删了,但家暴的事不能不了了之", "published_at": "2015-10-19T09:00:00+08:00",
        "reposts": 3, "comments": 1, "likes": 9, "author": "关注者", "author_id": "7003", "author_verified": False,
        "author_followers": 12, "author_verified_type": -1, "repost_of": "weibo:3899463959387300",
        "repost_of_deleted": True, "fetched_at": "2015-10-19T12:00:00+08:00", "keywords": []}]


def test_weibo_login_walls_pause_the_source(crawled):
    visitor = crawled["real_ws_visitor"].result.summary
    assert visitor.status == "banned"
    assert visitor.ban_reason.startswith("跳转到登录/访客验证页（需要登录 Cookie）: https://visitor.passport.weibo.cn/")
    signin = crawled["real_ws_signin"].result.summary
    assert signin.status == "banned"
    assert signin.ban_reason.startswith("跳转到登录/访客验证页（需要登录 Cookie）: https://passport.weibo.com/sso/signin")


def test_visitor_redirect_backs_off_like_a_captcha(crawl_seq, site_for, runtime):
    from yuqing.db.models import SourceStateRow

    site = site_for("real")
    first, paused = crawl_seq(
        ("weibo_search", {"keywords": "游客", "base_url": site.url}),
        ("weibo_search", {"keywords": "热巴", "base_url": site.url, "keep_all": "1"}),
    )
    assert first.summary.status == "banned" and "visitor.passport.weibo.cn" in first.summary.ban_reason
    assert first.summary.paused_until.startswith("2025-06-14T06:30")  # 14:00+08:00 + 30 min
    assert paused.summary.status == "paused" and paused.items == []
    assert not any("热巴" in r.query.get("containerid", "") for r in site.requests)
    with runtime.session() as s:
        state = s.get(SourceStateRow, "weibo_search")
        assert state.backoff_level == 1 and "visitor.passport.weibo.cn" in state.last_ban_reason


# -- weibo_hot -------------------------------------------------------------------------------------
def test_weibo_hot_real_items(crawled):
    one = crawled["real_hot_2023"].result
    _valid(one.items)
    assert one.items == [{  # realpos 9 (rank 8): the 1-based place; label_name; onboard_time
        "id": "weibo_hot:鸟鸟因为李诞人设崩塌", "platform": "weibo_hot",
        "url": "https://s.weibo.com/weibo?q=%23%E9%B8%9F%E9%B8%9F%E5%9B%A0%E4%B8%BA%E6%9D%8E%E8%AF%9E"
               "%E4%BA%BA%E8%AE%BE%E5%B4%A9%E5%A1%8C%23",
        "title": "鸟鸟因为李诞人设崩塌", "text": "鸟鸟因为李诞人设崩塌", "published_at": NOW, "views": 360671,
        "rank": 9, "label": "新", "onboard_at": "2023-02-05T16:12:28+08:00", "category": "综艺",
        "fetched_at": NOW, "keywords": []}]
    kabi = crawled["real_hot_kabi"].result
    _valid(kabi.items)
    assert [(i["title"], i.get("rank"), i.get("label"), i.get("pinned"), i.get("views")) for i in kabi.items] == [
        ("共赴新程之约", None, "热", True, None),  # hotgov: pinned, no rank, "#…#" stripped
        ("省考", 1, "沸", None, 1160335),  # rank 0 → 1; icon_desc only
        ("申论", 2, None, None, 814728),
    ]


# -- tieba -----------------------------------------------------------------------------------------
def test_tieba_search_hits_field_by_field(crawled):
    result, site = crawled["real_tieba"].result, crawled["real_tieba"].site
    _valid(result.items)
    now = "2020-08-05T20:00:00+08:00"
    assert result.items == [
        {"id": "tieba:133584103476", "platform": "tieba",  # the verbatim 2020 hit: a reply
         "url": "https://tieba.baidu.com/p/6792193701?pid=133584103476#133584103476",
         "title": "想问问各位大哥,有人知道华西现在做核酸检测多久能拿到结果嘛?",
         "text": "手机上就可以预约,关注华西app,在自助开单申请那里。别问我是怎么知道的,今天才自费去做了核酸检测",
         "author": "糠石特儿", "forum": "华西医院", "published_at": "2020-08-05T13:57:00+08:00",
         "thread_id": "tieba:6792193701", "is_reply": True, "fetched_at": now, "keywords": ["核酸检测"]},
        {"id": "tieba:6791000002", "platform": "tieba", "url": "https://tieba.baidu.com/p/6791000002",
         "title": "华西核酸检测预约流程(亲测)", "text": "早上七点排队,核酸检测十点出结果,流程如下......",
         "author": "路过的小王", "forum": "华西医院", "published_at": "2020-08-04T09:12:00+08:00",
         "thread_id": "tieba:6791000002", "is_reply": False, "fetched_at": now, "keywords": ["核酸检测"]},
        {"id": "tieba:133000000001", "platform": "tieba",  # page 2 via a.next
         "url": "https://tieba.baidu.com/p/6780000003?pid=133000000001#133000000001",
         "title": "成都哪里可以做核酸检测", "text": "各大医院都可以,记得带身份证", "author": "蓉城市民", "forum": "成都",
         "published_at": "2020-07-30T18:00:00+08:00", "thread_id": "tieba:6780000003", "is_reply": True,
         "fetched_at": now, "keywords": ["核酸检测"]},
    ]
    assert sorted((r.query["qw"], r.query["pn"], r.query["sm"]) for r in site.requests) == [
        ("冷门词", "1", "1"), ("核酸检测", "1", "1"), ("核酸检测", "2", "1")]
    assert result.summary.errors == {}  # the no-result page is not malformed


def test_tieba_since_and_max_pages(crawled):
    result, site = crawled["real_tieba_since"].result, crawled["real_tieba_since"].site
    assert [i["id"] for i in result.items] == ["tieba:133584103476"]  # 08-04 is older than since
    assert [r.query["pn"] for r in site.requests] == ["1"]  # max_pages=1


def test_baidu_block_pages_pause_tieba_and_news(crawled):
    block = crawled["real_tieba_block"].result.summary
    assert block.status == "banned"
    assert block.ban_reason.startswith("百度安全验证页（HTTP 200）: https://tieba.baidu.com/f/search/res?")
    wappass = crawled["real_tieba_wappass"].result.summary
    assert wappass.status == "banned" and "wappass.baidu.com" in wappass.ban_reason
    news = crawled["real_baidu_block"].result.summary
    assert news.status == "banned" and news.ban_reason.startswith("百度安全验证页（HTTP 200）: https://www.baidu.com/s?")


# -- baidu_news, sogou_weixin, rss ---------------------------------------------------------------------
def test_baidu_news_every_result_form(crawled):
    result = crawled["real_baidu"].result
    _valid(result.items)
    for item in result.items:
        assert item["id"] == "news:" + hashlib.sha1(item["url"].encode()).hexdigest()[:20]
    got = {i["url"]: (i["title"], i["text"], i.get("author"), i.get("published_at")) for i in result.items}
    assert got == {  # the side widget (tpl=right_toplist1) is not a post
        "https://news.example.cn/2025/0614/fl1.html": (  # mu over a baidu.com/link href; aria-labels only
            "市妇联回应女职工维权求助", "市妇联表示已介入调查。", "澎湃新闻", "2025-06-14T12:00:00+08:00"),
        "https://local.example.cn/n/fl2.shtml": (  # bare 昨天
            "妇联开展反家暴宣传", "社区妇联走进校园。", "中国妇女报", "2025-06-13T00:00:00+08:00"),
        "https://www.example.gov.cn/xw/fl3.html": (  # only the s-data JSON
            "省妇联发布维权典型案例", "省妇联发布十起维权典型案例。", "某省妇联", "2025-06-12T09:30:00+08:00"),
        "https://www.example.cn/old/fl4.html": (  # legacy p.c-author
            "妇联老版结果页", "老版摘要,妇联相关。", "新京报", "2023-06-30T14:34:00+08:00"),
    }


def test_sogou_jump_links_resolved_or_marked_and_200_antispider(crawled):
    result = crawled["real_sogou"].result
    _valid(result.items)
    got = {i["title"]: i for i in result.items}
    resolved = got["市妇联发布女性权益保障十大案例"]
    assert resolved["url"] == ("https://mp.weixin.qq.com/s?src=11&timestamp=1749870000&ver=5432"
                               "&signature=Gx1pVwQ*abcDEF-xyz&new=1")
    assert resolved["jump_url"] == ("https://weixin.sogou.com/link?url=dn9a_-gY295K0Rci_xozVXfdMkSQTLW6cwJThYulHEtVjXrGTiVgS8"
                                    "&type=2&query=%E5%A6%87%E8%81%94")
    assert resolved["url_temporary"] is True and "url_expires" not in resolved
    assert (resolved["author"], resolved["published_at"]) == ("中国妇女报", "2025-06-14T10:00:00+08:00")
    expired = got["基层妇联执委培训班开班"]  # the jump page is gone (404): the jump link stays, marked
    assert expired["url"] == "https://weixin.sogou.com/link?url=EXPIRED_xozVXfdMkSQ&type=2&query=%E5%A6%87%E8%81%94"
    assert expired["url_expires"] is True and "jump_url" not in expired
    assert result.summary.errors == {"jump_link_unresolved": 1}
    block = crawled["real_sogou_block"].result.summary
    assert block.status == "banned" and block.ban_reason.startswith("搜狗验证码页（HTTP 200）: https://weixin.sogou.com/")


def test_rss_chinese_feed_dates_are_beijing_time(crawled):
    result = crawled["real_rss"].result
    got = {i["title"]: i["published_at"] for i in result.items}
    assert got == {
        "市妇联召开家庭教育工作会议": "2025-06-14T08:30:00+08:00",  # "CST" = China Standard Time
        "妇联开展维权服务进社区": "2025-06-14T10:00:00+08:00",  # RFC 822 without a zone
        "妇联发布反家暴告知书": "2025-06-13T16:45:00+08:00",  # bare "YYYY-MM-DD HH:MM:SS"
    }


def test_block_page_markers_need_the_page_not_the_words():
    from scrapy.http import HtmlResponse

    from crawlers.middlewares import block_page_reason

    def page(body: str, encoding: str = "utf-8") -> HtmlResponse:
        return HtmlResponse("https://tieba.baidu.com/f/search/res?qw=x", body=body.encode(encoding),
                            headers={"Content-Type": f"text/html; charset={encoding}"})

    # a result page that merely mentions the words (someone searched for them) is not a block page
    assert block_page_reason(page("<title>百度贴吧</title><div class='p_content'>百度安全验证怎么过</div>")) is None
    assert block_page_reason(page("<title>百度安全验证</title>", "gbk")).startswith("百度安全验证页（HTTP 200）")
    assert block_page_reason(page('<a id="seccodeRight">提交</a>')).startswith("搜狗验证码页")
