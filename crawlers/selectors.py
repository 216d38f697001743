"""Every CSS selector and site pattern the spiders use, in one place (sites change markup).

Checked against public crawler code for the current markup (Baidu's hashed class names are
matched by prefix).
"""

# -- weibo_web: s.weibo.com/weibo search page --------------------------------------
WEIBO_WEB = {
    "card": "div.card-wrap[mid]",
    "no_result": "div.card-no-result",
    "author": "a.name",
    "text_full": 'p.txt[node-type="feed_list_content_full"]',
    "text": 'p.txt[node-type="feed_list_content"]',
    "from_link": "div.from a",
    "actions": "div.card-act ul li",
    "avatar": "div.avator",
    "next": "a.next::attr(href)",
}
# avatar icon class fragment → verification label
WEIBO_VERIFIED = {
    "woo_svg_vblue": "蓝V",
    "vblue": "蓝V",
    "vyellow": "黄V",
    "vorange": "红V",
    "vgold": "金V",
}

# -- baidu_news: www.baidu.com/s?tn=news ---------------------------------------------
BAIDU_NEWS = {
    "result": "div.result-op, div.result",
    "title_link": 'h3[class*="news-title"] a, h3.c-title a',
    "source": 'span.c-color-gray::text, [class*="news-source"] span.c-color-gray::text',
    "time": "span.c-color-gray2::text",
    "summary": 'span.c-font-normal.c-color-text, [class*="c-span-last"] [class*="content"], div.c-summary',
    "next": 'div[id="page"] a.n, [class*="page-inner"] a.n',
    "no_result": "div.content_none, div.nors",
    "next_label": "下一页",
}

# -- sogou_weixin: weixin.sogou.com/weixin?type=2 ---------------------------------------
SOGOU_WEIXIN = {
    "item": "ul.news-list li",
    "list": "ul.news-list",
    # an empty result: Sogou's "no result" block, or the list container with nothing in it
    "no_result": "#noresult_part1_container, div.noresult_part1_container",
    "title_link": "div.txt-box h3 a",
    "summary": "p.txt-info",
    "account": "div.s-p a.account::text, div.s-p span.all-time-y2::text",
    "time_script": "div.s-p script::text, div.s-p span.s2 script::text",
    "time_attr": "div.s-p::attr(t)",
    "next": "a#sogou_next::attr(href)",
}
SOGOU_TIME = r"timeConvert\('(\d+)'\)"

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
    ("百度安全验证", "百度安全验证页"),  # <title>百度安全验证</title> (baidu news, tieba)
    ("seccodeRight", "搜狗验证码页"),  # weixin.sogou.com antispider form
    ("anti.min.css", "搜狗反爬页"),
    ("/antispider/util/seccode.php", "搜狗验证码页"),
    ("Sina Visitor System", "微博访客验证页（需要登录 Cookie）"),
)
BLOCK_BODY_SCAN = 65536  # bytes of a body searched for the markers
BAN_STATUSES = {418: "HTTP 418（访问过于频繁/被拒绝）", 432: "HTTP 432（微博限流）",
                403: "HTTP 403（访问被拒绝）"}
