"""Every CSS selector and site pattern the spiders use, in one place (sites change markup).

Checked against public crawler code for the current markup (Baidu's hashed class names are
matched by prefix).
"""

# -- weibo_web: s.weibo.com/weibo search page --------------------------------------
# XPath, because the reposted original (div.card-comment) repeats every part of a card and the
# card's own parts must be taken outside it. The markup has switched between p.from and div.from
# several times since 2018; "from" as a class word covers both.
_OWN = "[not(ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' card-comment ')])]"
_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"
WEIBO_OWN = _OWN
WEIBO_WEB = {
    "card": "div.card-wrap[mid]",
    "no_result": "div.card-no-result",
    "repost": ".//div[" + _CLASS.format("card-comment") + "]",
    # author: the nick-name attribute (div.info a, 2018 a.name; p.txt carries it too)
    "author": ".//div[" + _CLASS.format("info") + "]//a[@nick-name]" + _OWN,
    "author_fallback": ".//a[" + _CLASS.format("name") + "]" + _OWN,
    "author_attr": ".//p[" + _CLASS.format("txt") + "][@nick-name]" + _OWN,
    "text_full": ".//p[" + _CLASS.format("txt") + "][@node-type='feed_list_content_full']" + _OWN,
    "text": ".//p[" + _CLASS.format("txt") + "][@node-type='feed_list_content']" + _OWN,
    "text_any": ".//p[" + _CLASS.format("txt") + "]" + _OWN,
    "from_link": ".//*[" + _CLASS.format("from") + "]" + _OWN + "/a[1]",
    "forward": ".//a[@action-type='feed_list_forward']" + _OWN,
    "comment": ".//a[@action-type='feed_list_comment']" + _OWN,
    "like": ".//a[@action-type='feed_list_like']" + _OWN,
    # badges outside the reposted original: svg id / use xlink:href (2022–), i.icon-vip-* and
    # the title of the badge link (2018)
    "badge_svg": (".//*[local-name()='svg']" + _OWN + "/@id | .//*[local-name()='svg']" + _OWN + "/@class"
                  " | .//*[local-name()='use']" + _OWN + "/@*[local-name()='href' or name()='xlink:href']"),
    "badge_class": ".//i[contains(@class, 'icon-vip')]" + _OWN + "/@class",
    "badge_title": ".//*[@title='微博官方认证' or @title='微博个人认证']" + _OWN + "/@title",
    "next": "a.next::attr(href)",
    # inside div.card-comment: the original's author link, text, time link and counts
    "orig_author": ".//div[@node-type='feed_list_forwardContent']//a[@nick-name]",
    "orig_text_full": ".//p[" + _CLASS.format("txt") + "][@node-type='feed_list_content_full']",
    "orig_text": ".//p[" + _CLASS.format("txt") + "]",
    "orig_from_link": ".//*[" + _CLASS.format("from") + "]/a[1]",
    "orig_like_data": ".//a[@action-type='feed_list_like']/@action-data",
    "orig_acts": ".//ul[" + _CLASS.format("act") + "]/li",
}
# badge fragment → verification label (svg ids: dataabc/weibo-search; i.icon-vip-b: 2018 page)
WEIBO_VERIFIED = {
    "vblue": "蓝V",  # svg#woo_svg_vblue, <use xlink:href="#woo_svg_vblue">
    "vyellow": "黄V",
    "vorange": "红V",
    "vgold": "金V",
    "icon-vip-b": "蓝V",
    "icon-vip-y": "黄V",
    "icon-vip-g": "金V",
    "微博官方认证": "蓝V",
    "微博个人认证": "黄V",
}

# -- baidu_news: www.baidu.com/s?tn=news ---------------------------------------------
BAIDU_NEWS = {
    "result": "div.result-op, div.result",
    "title_link": 'h3[class*="news-title"] a, h3.c-title a, a[class*="news-title-font"]',
    "source": 'span.c-color-gray::text, [class*="news-source"] span.c-color-gray::text',
    "source_label": 'span.c-color-gray[aria-label^="新闻来源"]::attr(aria-label)',
    "time": "span.c-color-gray2::text",
    "time_label": 'span[aria-label^="发布于"]::attr(aria-label)',
    "author_legacy": "p.c-author",  # 2019–20: "新京报  2023年06月30日 14:34"
    "summary": 'span.c-font-normal.c-color-text, [class*="c-span-last"] [class*="content"], div.c-summary',
    "next": 'div[id="page"] a.n, [class*="page-inner"] a.n',
    "no_result": "div.content_none, div.nors",
    "next_label": "下一页",
    # side widgets that are not news results (hot list, related searches)
    "widget_tpls": ("right_toplist1", "recommend_list"),
    "widget_srcids": ("rs",),
}
BAIDU_SDATA = r"<!--s-data:(\{.*?\})-->"  # one JSON per result: title, titleUrl, summary, sourceName, dispTime

# -- sogou_weixin: weixin.sogou.com/weixin?type=2 ---------------------------------------
SOGOU_WEIXIN = {
    "item": "ul.news-list li",  # (2024–26: li[id^=sogou_vr_11002601_box_])
    "list": "ul.news-list",
    # an empty result: Sogou's "no result" block, or the list container with nothing in it
    "no_result": "#noresult_part1_container, div.noresult_part1_container",
    "title_link": 'div.txt-box h3 a, a[id^="sogou_vr_11002601_title_"]',
    "summary": "p.txt-info",
    "account": "div.s-p a.account::text, div.s-p span.all-time-y2::text",
    "time_script": "div.s-p script::text, div.s-p span.s2 script::text",
    "time_attr": "div.s-p::attr(t)",
    "next": "a#sogou_next::attr(href)",
}
SOGOU_TIME = r"timeConvert\('(\d+)'\)"
SOGOU_JUMP = "/link?url="  # jump links expire; the jump page builds the article URL in script
SOGOU_JUMP_PIECE = r"url\s*\+=\s*'([^']*)'"  # var url = ''; url += 'https://mp.'; url += 'weixin.qq.c'; …

# -- tieba: tieba.baidu.com/f/search/res (全吧搜索, GBK pages) ---------------------------
# one div.s_post per hit (a thread or a reply: "回复:" titles, ?pid= in the link); see
# tests/crawlers/fixtures/README.md for the public parsers these come from
TIEBA = {
    "post": "div.s_post",
    "title_link": "span.p_title a",
    "content": "div.p_content",
    "forum": "a.p_forum ::text",
    "author": 'a[href^="/home/main"] ::text',
    "date": "font.p_date::text",
    "next": "a.next::attr(href)",
    "list": "div.s_post_list",
    "no_result": "抱歉，没有找到",
}

# -- bans, captchas and login walls --------------------------------------------------
# URLs a site redirects to (or lands on): fragment → what it is
CAPTCHA_URL_PATTERNS = (
    "/antispider",  # sogou: weixin.sogou.com/antispider/?from=…
    "captcha",  # weibo / baidu (wappass.baidu.com/static/captcha)
    "security.weibo.com",
    "wappass.baidu.com",
)
# the visitor system and the sign-in page: nothing to read without a logged-in cookie
LOGIN_URL_PATTERNS = (
    "passport.weibo.com/visitor",  # weibo.com → Sina Visitor System
    "visitor.passport.weibo.cn",  # m.weibo.cn → Sina Visitor System (visitor.passport.weibo.cn/visitor/…)
    "passport.weibo.com/sso/signin",  # {"ok":-100,"url":"https://passport.weibo.com/sso/signin?…"}
    "passport.weibo.cn/signin",
    "login.sina.com.cn",
    "passport.baidu.com",  # tieba / baidu sign-in
)
# block pages served with status 200: body marker → what it is
BLOCK_BODY_MARKERS = (
    ("<title>百度安全验证</title>", "百度安全验证页"),  # the title, not the words (a search for them)
    ("seccodeRight", "搜狗验证码页"),  # weixin.sogou.com antispider form
    ("anti.min.css", "搜狗反爬页"),
    ("/antispider/util/seccode.php", "搜狗验证码页"),
    ("<title>Sina Visitor System</title>", "微博访客验证页（需要登录 Cookie）"),
)
BLOCK_BODY_SCAN = 65536  # bytes of a body searched for the markers
BAN_STATUSES = {418: "HTTP 418（访问过于频繁/被拒绝）", 432: "HTTP 432（微博限流）",
                403: "HTTP 403（访问被拒绝）"}
