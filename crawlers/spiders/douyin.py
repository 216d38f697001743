"""douyin: Douyin (抖音) keyword search through the site's own search page in a browser.

www.douyin.com signs its API calls in JavaScript (a_bogus / X-Bogus); we sign nothing. Each
keyword's search page ``/search/{kw}?type=video`` is loaded in Chromium by
crawlers.browser.BrowserCaptureMiddleware, which hands us the JSON the page fetched from
``/aweme/v1/web/general/search/single/``. Entries are ``data[].aweme_info`` (or the first of
``data[].aweme_mix_info.mix_items``); further pages come from scrolling the same page while the
reply has ``has_more`` (the page itself asks for ``offset=cursor``), up to ``max_pages``, stopped
at ``since`` / posts already stored (crawlers/spiders/browser_search.py). A refused API call, a
non-zero ``status_code`` reply or a redirect to a login / verify page pauses the source with the
reason. Format facts and their provenance: tests/crawlers/fixtures/douyin/README.md. Needs a
logged-in cookie (``cookie_env``) on the real site; disabled by default in config/yuqing.yaml.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from crawlers.spiders.browser_search import BrowserSearchSpider, PageRead
from yuqing.timeutil import SHANGHAI

SEARCH_API = "/aweme/v1/web/general/search/single/"


def aweme_of(entry: dict[str, Any]) -> dict[str, Any] | None:
    aweme = entry.get("aweme_info")
    if aweme:
        return aweme
    mix = (entry.get("aweme_mix_info") or {}).get("mix_items") or []
    return mix[0] if mix else None



class DouyinSpider(BrowserSearchSpider):
    name = "douyin"
    platform = "douyin"
    platform_zh = "抖音"
    site = "https://www.douyin.com"
    capture = SEARCH_API

    def search_path(self, keyword: str) -> str:
        return f"/search/{quote(keyword)}?type=video"

    def wall_reason(self, payload: dict[str, Any]) -> str | None:
        code = payload.get("status_code", 0)
        if code in (0, None):
            return None
        msg = payload.get("status_msg") or ""
        return f"搜索接口拒绝请求（status_code={code}{'，' + msg if msg else ''}；可能需要登录 Cookie 或出现验证码）"

    def read(self, payload: dict[str, Any]) -> PageRead:
        out = PageRead(more=bool(payload.get("has_more")))
        for entry in payload.get("data") or []:
            aweme = aweme_of(entry)
            if aweme is None or not aweme.get("aweme_id"):
                out.skipped += 1
                continue
            post = self.post(aweme)
            out.posts.append(post)
            out.dates.append((post["id"], post.get("published_at")))
        return out

    def post(self, aweme: dict[str, Any]) -> dict[str, Any]:
        author = aweme.get("author") or {}
        stats = aweme.get("statistics") or {}
        created = aweme.get("create_time")
        published = (datetime.fromtimestamp(int(created), UTC).astimezone(SHANGHAI).isoformat()
                     if created not in (None, "") else None)
        verified = bool(author.get("custom_verify") or author.get("enterprise_verify_reason"))
        post: dict[str, Any] = {
            "id": f"douyin:{aweme['aweme_id']}",
            "platform": self.platform,
            "url": f"{self.site}/video/{aweme['aweme_id']}",
            "text": aweme.get("desc") or "",
            "author": author.get("nickname"),
            "author_id": str(author["uid"]) if author.get("uid") is not None else None,
            "author_verified": verified,
            "published_at": published,
            "likes": stats.get("digg_count"),
            "comments": stats.get("comment_count"),
            "reposts": stats.get("share_count"),
            "collects": stats.get("collect_count"),
            "region": aweme.get("ip_label") or None,
            "author_sec_uid": author.get("sec_uid"),
        }
        return {k: v for k, v in post.items() if v is not None}
