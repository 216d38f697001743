"""The replay site: the bundled day served in the real sources' formats on 127.0.0.1.

It only shows posts whose (simulated) publish time has passed — the demo moves ``site.now``
forward — and engagement counts grow with time, so repeated crawls see posts spread.
Routes (the same paths and parameters the spiders use against the real sites):

* ``/api/container/getIndex`` — m.weibo.cn search JSON (``containerid=100103type=1&q=…``, ``page``)
* ``/weibo`` — the s.weibo.com desktop search page (``q``, ``page``; original posts)
* ``/ajax/side/hotSearch`` — the hot-search list JSON
* ``/s`` — Baidu news search (``tn=news``, ``word``, ``pn``)
* ``/weixin`` — Sogou WeChat article search (``type=2``, ``query``, ``page``)
* ``/rss/women.xml`` — an RSS 2.0 feed
* ``/f/search/res`` — Baidu Tieba search (``qw``, ``pn``, ``sm=1``; GBK like the real site)
* ``/search/{kw}?type=video`` — the Douyin search page, whose script signs its call to
  ``/aweme/v1/web/general/search/single/`` (``offset``, ``count``; crawlers/testing/signing_site.py):
  the douyin spider reads it through Chromium, as on the real site
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from urllib.parse import parse_qs, quote

from app.demo.bundle import RSS_FEED_PATH, DemoDay, DemoPost
from crawlers.testing.signing_site import DouyinSearch, SignedSite
from crawlers.testing.site import Reply, SiteRequest
from yuqing.query import normalize
from yuqing.timeutil import SHANGHAI

PAGE_SIZE = 10
_VTYPE = {"蓝V": 1, "黄V": 0, "金V": 0}
_AVATAR_CLASS = {"蓝V": "woo_svg_vblue", "黄V": "vyellow", "金V": "vgold"}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HTML = {"Content-Type": "text/html; charset=utf-8"}
JSON = {"Content-Type": "application/json; charset=utf-8"}


def weibo_time(dt: datetime) -> str:
    """'Sat Jun 14 12:00:00 +0800 2025' (m.weibo.cn created_at)."""
    local = dt.astimezone(SHANGHAI)
    return (f"{_WEEKDAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local:%d %H:%M:%S} +0800 {local.year}")


def uid_of(author: str) -> int:
    return 1_000_000 + int.from_bytes(author.encode("utf-8")[:6].ljust(6, b"\0"), "big") % 8_999_999


class ReplaySite:
    """A FixtureSite with one handler per source; ``now`` decides what is published."""

    def __init__(self, day: DemoDay, now: datetime, port: int = 0) -> None:
        self.day = day
        self.now = now
        self.douyin = DouyinSearch(self.douyin_json)
        self.site = SignedSite(self.douyin, port=port)
        for path, handler in (("/api/container/getIndex", self.weibo_json), ("/weibo", self.weibo_page),
                              ("/ajax/side/hotSearch", self.hot_search), ("/s", self.baidu_news),
                              ("/weixin", self.sogou_weixin), (RSS_FEED_PATH, self.rss),
                              ("/f/search/res", self.tieba)):
            self.site.route(path, handler)

    @property
    def url(self) -> str:
        return self.site.url

    @property
    def feed_url(self) -> str:
        return self.site.url + RSS_FEED_PATH

    def start(self) -> ReplaySite:
        self.site.start()
        return self

    def stop(self) -> None:
        self.site.stop()

    def __enter__(self) -> ReplaySite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- selection --------------------------------------------------------------------
    def _matching(self, src: str, keyword: str, originals_only: bool = False) -> list[DemoPost]:
        word = normalize(keyword)
        out = []
        for post in self.day.released(self.now, src):
            if originals_only and post.repost_of:
                continue
            original = self.day.by_key.get(post.repost_of) if post.repost_of else None
            haystack = normalize(f"{post.title}\n{post.text}\n{original.text if original else ''}")
            if word and word in haystack:
                out.append(post)
        return out

    @staticmethod
    def _page(posts: list[DemoPost], page: int) -> tuple[list[DemoPost], bool]:
        start = (max(1, page) - 1) * PAGE_SIZE
        return posts[start:start + PAGE_SIZE], len(posts) > start + PAGE_SIZE

    @staticmethod
    def _int(value: str | None, default: int) -> int:
        try:
            return int(value or default)
        except ValueError:
            return default

    # -- m.weibo.cn -------------------------------------------------------------------
    def _mblog(self, post: DemoPost) -> dict:
        reposts, comments, likes = post.engagement(self.now)
        user = {"id": uid_of(post.author), "screen_name": post.author, "verified": post.verified is not None,
                "verified_type": _VTYPE.get(post.verified or "", -1), "followers_count": post.followers}
        mblog = {"id": str(post.mid), "bid": f"P{post.mid % 10_000_000:07d}", "text": escape(post.text),
                 "isLongText": False, "created_at": weibo_time(post.at), "reposts_count": reposts,
                 "comments_count": comments, "attitudes_count": likes, "source": "微博 weibo.com", "user": user}
        original = self.day.by_key.get(post.repost_of) if post.repost_of else None
        if original is not None:
            mblog["retweeted_status"] = self._mblog(original)
        return mblog

    def weibo_json(self, req: SiteRequest) -> Reply:
        container = parse_qs(req.query.get("containerid", ""))
        keyword = (container.get("q") or [""])[0]
        posts, _more = self._page(self._matching("weibo", keyword), self._int(req.query.get("page"), 1))
        if not posts:
            return Reply(json.dumps({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}, ensure_ascii=False),
                         200, JSON)
        cards = [{"card_type": 9, "mblog": self._mblog(p)} for p in posts]
        body = {"ok": 1, "data": {"cardlistInfo": {"page": req.query.get("page", "1")}, "cards": cards}}
        return Reply(json.dumps(body, ensure_ascii=False), 200, JSON)

    # -- s.weibo.com ------------------------------------------------------------------
    def _card(self, post: DemoPost) -> str:
        reposts, comments, likes = post.engagement(self.now)
        uid = uid_of(post.author)
        icon = _AVATAR_CLASS.get(post.verified or "")
        badge = f'<span class="woo-icon-wrap"><svg class="woo-icon-main {icon}"></svg></span>' if icon else ""
        when = post.at.astimezone(SHANGHAI)

        def count(label: str, value: int) -> str:
            return f"{label} {value}" if value else label

        return f"""<div class="card-wrap" action-type="feed_list_item" mid="{post.mid}">
 <div class="card"><div class="card-feed">
  <div class="avator"><a href="//weibo.com/{uid}?refer_flag=1001030103_"><img src="/a.jpg"/>{badge}</a></div>
  <div class="content" node-type="like">
   <div class="info"><div><a href="//weibo.com/{uid}?refer_flag=1001030103_" class="name" nick-name="{escape(post.author)}">{escape(post.author)}</a></div></div>
   <p class="txt" node-type="feed_list_content" nick-name="{escape(post.author)}">{escape(post.text)}</p>
   <div class="from"><a href="//weibo.com/{uid}/P{post.mid % 10_000_000:07d}?refer_flag=1001030103_">{when.month:02d}月{when.day:02d}日 {when:%H:%M}</a> 来自 微博 weibo.com</div>
  </div></div>
  <div class="card-act"><ul>
   <li><a action-type="feed_list_forward">{count("转发", reposts)}</a></li>
   <li><a action-type="feed_list_comment">{count("评论", comments)}</a></li>
   <li><a action-type="feed_list_like"><span class="woo-like-count">{likes or "赞"}</span></a></li>
  </ul></div></div>
</div>"""

    def weibo_page(self, req: SiteRequest) -> Reply:
        keyword = req.query.get("q", "")
        page = self._int(req.query.get("page"), 1)
        posts, more = self._page(self._matching("weibo", keyword, originals_only=True), page)
        if not posts:
            body = '<div class="card-no-result"><p>抱歉，未找到与“' + escape(keyword) + '”相关的结果。</p></div>'
        else:
            body = "\n".join(self._card(p) for p in posts)
        nxt = (f'<a class="next" href="/weibo?q={quote(keyword)}&page={page + 1}">下一页</a>' if more else "")
        html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(keyword)} - 微博搜索</title></head>'
                f'<body><div class="m-main"><div id="pl_feedlist_index">{body}</div>'
                f'<div class="m-page">{nxt}</div></div></body></html>')
        return Reply(html, 200, HTML)

    # -- weibo hot search -------------------------------------------------------------
    def hot_search(self, req: SiteRequest) -> Reply:
        hot = sorted(self.day.released(self.now, "hot"), key=lambda p: -p.num)
        realtime = [{"word": p.title, "num": p.num, "rank": i, "realpos": i + 1,
                     "label_name": "沸" if p.num > 1_000_000 else ""} for i, p in enumerate(hot)]
        return Reply(json.dumps({"ok": 1, "data": {"realtime": realtime, "hotgovs": []}}, ensure_ascii=False),
                     200, JSON)

    # -- Baidu news -------------------------------------------------------------------
    def baidu_news(self, req: SiteRequest) -> Reply:
        keyword = req.query.get("word", "")
        page = self._int(req.query.get("pn"), 0) // PAGE_SIZE + 1
        posts, more = self._page(self._matching("news", keyword), page)
        results = []
        for p in posts:
            when = p.at.astimezone(SHANGHAI)
            results.append(f"""<div class="result-op c-container xpath-log new-pmd" srcid="200" tpl="news-normal" mu="{p.url}">
 <div class="c-row c-gap-top-small"><div class="c-span-last c-span12">
  <h3 class="news-title_1YtI1 "><a href="{p.url}" target="_blank" class="news-title-font_1xS-F"><!--s-text-->{escape(p.title)}<!--/s-text--></a></h3>
  <div class="c-row c-gap-top-small">
   <span class="c-font-normal c-color-text" aria-label="摘要"><!--s-text-->{escape(p.text)}<!--/s-text--></span>
   <div class="news-source_Xj4Dv"><span class="c-color-gray c-font-normal c-gap-right">{escape(p.author)}</span><span class="c-color-gray2 c-font-normal c-gap-right-xsmall">{when.year}年{when.month}月{when.day}日 {when:%H:%M}</span></div>
  </div></div></div>
</div>""")
        if not results:
            results.append('<div class="content_none"><div class="nors"><p>抱歉，没有找到相关资讯</p></div></div>')
        pager = (f'<div id="page"><div class="page-inner_2jZi2"><a href="/s?tn=news&amp;rtt=4&amp;word={quote(keyword)}'
                 f'&amp;pn={page * PAGE_SIZE}" class="n">下一页 &gt;</a></div></div>' if more else "")
        html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>百度资讯搜索_{escape(keyword)}</title></head>'
                f'<body><div id="wrapper"><div id="container"><div id="content_left">{"".join(results)}</div>'
                f'{pager}</div></div></body></html>')
        return Reply(html, 200, HTML)

    # -- Sogou WeChat -----------------------------------------------------------------
    def sogou_weixin(self, req: SiteRequest) -> Reply:
        keyword = req.query.get("query", "")
        page = self._int(req.query.get("page"), 1)
        posts, more = self._page(self._matching("wechat", keyword), page)
        items = []
        for i, p in enumerate(posts):
            stamp = int(p.at.timestamp())
            items.append(f"""<li id="sogou_vr_11002601_box_{i}">
  <div class="txt-box">
   <h3><a target="_blank" href="{escape(p.url)}" id="sogou_vr_11002601_title_{i}">{escape(p.title)}</a></h3>
   <p class="txt-info" id="sogou_vr_11002601_summary_{i}">{escape(p.text)}</p>
   <div class="s-p" t="{stamp}"><span class="all-time-y2">{escape(p.author)}</span><span class="s2"><script>document.write(timeConvert('{stamp}'))</script></span></div>
  </div>
 </li>""")
        nxt = (f'<a id="sogou_next" href="?query={quote(keyword)}&amp;type=2&amp;page={page + 1}" class="np">下一页</a>'
               if more else "")
        html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>搜狗微信搜索</title></head><body>'
                f'<div class="news-box"><ul class="news-list">{"".join(items)}</ul></div>'
                f'<div class="p-fy" id="pagebar_container">{nxt}</div></body></html>')
        return Reply(html, 200, HTML)

    # -- RSS --------------------------------------------------------------------------
    def rss(self, req: SiteRequest) -> Reply:
        items = []
        for p in self.day.released(self.now, "rss")[:50]:
            items.append(f"""<item><title>{escape(p.title)}</title><link>{escape(p.url)}</link>
<guid isPermaLink="true">{escape(p.url)}</guid><author>{escape(p.author)}</author>
<pubDate>{format_datetime(p.at.astimezone(UTC))}</pubDate><description>{escape(p.text)}</description></item>""")
        xml = ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>中国妇女网</title>'
               '<link>https://www.example-women.cn/</link><description>妇女儿童新闻</description>'
               f'{"".join(items)}</channel></rss>')
        return Reply(xml, 200, {"Content-Type": "application/rss+xml; charset=utf-8"})

    # -- Baidu Tieba --------------------------------------------------------------------
    def tieba(self, req: SiteRequest) -> Reply:
        keyword = req.query.get("qw", "")
        page = self._int(req.query.get("pn"), 1)
        posts, more = self._page(self._matching("tieba", keyword), page)
        hits = []
        for p in posts:
            when = p.at.astimezone(SHANGHAI)
            hits.append(f"""<div class="s_post">
 <span class="p_title"><a data-tid="{p.tid}" data-fid="52" class="bluelink" href="/p/{p.tid}" target="_blank">{escape(p.title)}</a></span>
 <div class="p_content">{escape(p.text)}</div>
 贴吧：<a data-fid="52" class="p_forum" href="/f?kw={quote(p.forum)}" target="_blank"><font class="p_violet">{escape(p.forum)}</font></a>
 作者：<a href="/home/main?un={quote(p.author)}" target="_blank"><font class="p_violet">{escape(p.author)}</font></a>
 <font class="p_green p_date">{when:%Y-%m-%d %H:%M}</font>
</div>""")
        body = "".join(hits) or '<div class="s_post_list"><p>抱歉，没有找到与“' + escape(keyword) + '”相关的结果。</p></div>'
        nxt = (f'<a class="next" href="/f/search/res?ie=utf-8&amp;qw={quote(keyword)}&amp;rn=20&amp;pn={page + 1}'
               f'&amp;sm=1">下一页&gt;</a>' if more else "")
        html = (f'<!DOCTYPE html><html><head><meta charset="gbk"><title>百度贴吧_{escape(keyword)}</title></head><body>'
                f'<div class="s_post_list">{body}</div><div class="pager pager-search">{nxt}</div></body></html>')
        return Reply(html.encode("gbk", errors="replace"), 200, {"Content-Type": "text/html; charset=gbk"})

    # -- Douyin (the API behind the signing search page) ------------------------------------
    def douyin_json(self, keyword: str, offset: int) -> dict:
        posts = self._matching("douyin", keyword)
        chunk = posts[offset:offset + PAGE_SIZE]
        data = []
        for p in chunk:
            shares, comments, likes = p.engagement(self.now)
            data.append({"type": 1, "aweme_info": {
                "aweme_id": p.aweme_id, "aweme_type": 0, "desc": p.text, "create_time": int(p.at.timestamp()),
                "ip_label": p.region,
                "author": {"uid": str(uid_of(p.author)), "sec_uid": f"MS4wLjABAAAA{uid_of(p.author)}",
                           "nickname": p.author, "custom_verify": "",
                           "enterprise_verify_reason": p.verified or ""},
                "statistics": {"aweme_id": p.aweme_id, "digg_count": likes, "comment_count": comments,
                               "share_count": shares, "collect_count": likes // 20}}})
        more = len(posts) > offset + PAGE_SIZE
        return {"status_code": 0, "data": data, "has_more": 1 if more else 0, "cursor": offset + len(chunk),
                "extra": {"now": int(self.now.timestamp() * 1000)}}
