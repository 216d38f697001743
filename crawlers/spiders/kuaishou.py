"""kuaishou: Kuaishou (快手) keyword search through the site's own search page in a browser.

www.kuaishou.com signs its GraphQL calls in JavaScript (``__NS_hxfalcon``); we sign nothing. Each
keyword's search page ``/search/video?searchKey={kw}`` is loaded in Chromium
(crawlers.browser.BrowserCaptureMiddleware) and the page's own ``POST /graphql`` replies are
captured; the search is the one whose ``data.visionSearchPhoto`` is set (other GraphQL calls of
the page are ignored). Posts are ``visionSearchPhoto.feeds[]``: ``photo.id`` (post id, URL
``https://www.kuaishou.com/short-video/{id}``), ``photo.caption`` (text), ``photo.timestamp``
(milliseconds → Beijing time), ``photo.realLikeCount`` (else the shown ``likeCount``, "1.2万"),
``photo.commentCount``, ``photo.viewCount``, ``author.id`` / ``author.name``. Further pages come
from scrolling while ``pcursor`` is not ``"no_more"`` (browser_search.py: max_pages, the
incremental stop). A reply ``{"result": 2}``, ``data.result`` 400002 (captcha, ``data.url``) or a
``visionSearchPhoto.result`` other than 1 pauses the source with the reason. Needs a logged-in
cookie (``cookie_env``); disabled by default. Provenance: tests/crawlers/fixtures/README.md (kuaishou).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from crawlers.parsing import count_or_none
from crawlers.spiders.browser_search import BrowserSearchSpider, PageRead
from yuqing.timeutil import SHANGHAI

GRAPHQL = "/graphql"
NO_MORE = "no_more"




class KuaishouSpider(BrowserSearchSpider):
    name = "kuaishou"
    platform = "kuaishou"
    platform_zh = "快手"
    site = "https://www.kuaishou.com"
    capture = GRAPHQL
    capture_body = "visionSearchPhoto"  # the page makes other GraphQL calls to the same path

    def search_path(self, keyword: str) -> str:
        return f"/search/video?searchKey={quote(keyword)}"

    def wall_reason(self, payload: dict[str, Any]) -> str | None:
        if payload.get("result") == 2:
            return "接口返回 result=2（风控拦截，需要登录 Cookie）"
        data = payload.get("data") or {}
        if data.get("result") == 400002 or data.get("captcha"):
            return f"接口要求滑块验证（result={data.get('result')}，{data.get('bizName') or '验证码'}）"
        search = data.get("visionSearchPhoto")
        if isinstance(search, dict) and search.get("result") not in (1, None):
            return f"搜索接口 visionSearchPhoto.result={search.get('result')}（未登录或被限制）"
        if payload.get("errors") and not search:
            return f"GraphQL 错误：{str(payload['errors'])[:120]}"
        return None

    def read(self, payload: dict[str, Any]) -> PageRead:
        search = (payload.get("data") or {}).get("visionSearchPhoto")
        if not isinstance(search, dict):
            return PageRead()  # another GraphQL call of the page
        cursor = search.get("pcursor")
        out = PageRead(more=bool(cursor) and cursor != NO_MORE)
        for feed in search.get("feeds") or []:
            photo = feed.get("photo") or {}
            if not photo.get("id"):
                out.skipped += 1
                continue
            post = self.post(feed)
            out.posts.append(post)
            out.dates.append((post["id"], post.get("published_at")))
        return out

    def post(self, feed: dict[str, Any]) -> dict[str, Any]:
        photo = feed.get("photo") or {}
        author = feed.get("author") or {}
        stamp = photo.get("timestamp")
        published = (datetime.fromtimestamp(int(stamp) / 1000, UTC).astimezone(SHANGHAI).isoformat()
                     if stamp not in (None, "") else None)
        likes = photo.get("realLikeCount")
        post: dict[str, Any] = {
            "id": f"kuaishou:{photo['id']}",
            "platform": self.platform,
            "url": f"{self.site}/short-video/{photo['id']}",
            "text": photo.get("caption") or photo.get("originCaption") or "",
            "author": author.get("name"),
            "author_id": str(author["id"]) if author.get("id") else None,
            "published_at": published,
            "likes": count_or_none(likes if likes not in (None, "") else photo.get("likeCount")),
            "comments": count_or_none(photo.get("commentCount")),
            "views": count_or_none(photo.get("viewCount")),
            "duration_ms": photo.get("duration"),
            "tags": [t.get("name") for t in feed.get("tags") or [] if t.get("name")] or None,
        }
        return {k: v for k, v in post.items() if v is not None}
