"""Base of the browser-backed keyword searches (douyin, kuaishou, xiaohongshu).

Each keyword's search page (the real site's own) is loaded in Chromium by
crawlers.browser.BrowserCaptureMiddleware, which hands back the JSON the page itself fetched
from the platform's search API (the page signs its calls; we sign nothing). Further pages are
reached the way a person reaches them: the same page is scrolled to the bottom and the page's
script fetches the next one (``meta["browser"]["scroll"]``), as long as the reply says there is
more, ``max_pages`` is not reached, and the page held something newer than ``since`` / not yet
stored (the incremental stop).

Guarantees: a refused API call (HTTP status other than 200), a login wall or captcha reply
(:meth:`wall_reason`) or a search page that ended on a login / verify page pauses the source
with that reason (``ctx.ban``: the run is recorded as banned and the source backs off); the login
cookie (``cookie_env``) reaches the browser and is never logged. A subclass gives the search page
URL, the API path to capture, and how to read one reply (:meth:`read`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers import settings as project_settings
from crawlers.middlewares import captcha_reason
from crawlers.spiders.base import BaseSpider

BROWSER_MIDDLEWARES = {**project_settings.DOWNLOADER_MIDDLEWARES, "crawlers.browser.BrowserCaptureMiddleware": 950}
# where a search page that wants a login or a captcha ends up (besides crawlers.selectors' patterns)
WALL_URL_MARKERS = ("/website-login/", "/web-login", "passport.kuaishou.com", "/login", "/verify",
                    "captcha", "verifycenter")

STATUS_ZH = {401: "要求登录", 403: "拒绝请求（签名或登录无效）", 429: "限流", 461: "要求验证码", 471: "要求验证码"}


@dataclass
class PageRead:
    """What one captured API reply holds."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    dates: list[tuple[str, Any]] = field(default_factory=list)  # (id, raw date) for the incremental stop
    more: bool = False
    skipped: int = 0  # entries that are not posts (user cards, ads, related searches)


class BrowserSearchSpider(BaseSpider):
    capture = ""  # the API path the page fetches
    capture_body = ""  # text the API call's request body must contain (one GraphQL operation)
    custom_settings = {"DOWNLOADER_MIDDLEWARES": BROWSER_MIDDLEWARES}
    platform_zh = ""

    # -- to override ----------------------------------------------------------------------
    def search_path(self, keyword: str) -> str:
        raise NotImplementedError

    def wall_reason(self, payload: dict[str, Any]) -> str | None:
        """A login wall / captcha / risk-control reply, in Chinese, or None."""
        return None

    def read(self, payload: dict[str, Any]) -> PageRead:
        raise NotImplementedError

    # -- crawl ----------------------------------------------------------------------------
    def browser_opts(self, keyword: str, scroll: bool = False) -> dict[str, Any]:
        return {"capture": self.capture, "capture_body": self.capture_body, "count": 1, "timeout": float(self.ctx.option("browser_timeout", 20)),
                "session": f"{self.name}:{keyword}", "scroll": scroll}

    async def start(self) -> Any:
        for keyword in self.keywords:
            yield scrapy.Request(self.url(self.search_path(keyword)), callback=self.parse, dont_filter=True,
                                 cb_kwargs={"keyword": keyword, "page": 1}, meta={"browser": self.browser_opts(keyword)})

    def parse(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        body = json.loads(response.text)
        if body.get("closed"):  # the kept page was closed (too many open at once): start over next run
            self.crawler.stats.inc_value("yuqing/browser/session_closed")
            return
        final = body.get("final_url") or ""
        if page == 1 and final and final != response.url:
            reason = captcha_reason(final) or self._wall_url(final)
            if reason:
                self.ctx.ban(f"{self.platform_zh}搜索页跳转到登录/验证页面：{self.real_url(final)}")
                return
        captured = body.get("captured") or []
        if not captured:
            if page == 1:
                self.malformed(response, "搜索页没有请求搜索接口（可能需要登录或出现验证码）")
            return
        more = False
        for entry in captured:
            payload = entry.get("json")
            status = entry.get("status")
            if status != 200 or not isinstance(payload, dict):
                self.crawler.stats.inc_value("yuqing/errors/browser_api_refused")
                what = "返回的不是 JSON" if status == 200 else STATUS_ZH.get(status, "拒绝请求")
                self.ctx.ban(f"{self.platform_zh}搜索接口{what}（HTTP {status}）：{self.real_url(entry.get('url') or '')}")
                return
            wall = self.wall_reason(payload)
            if wall:
                self.ctx.ban(f"{self.platform_zh}{wall}")
                return
            try:
                read = self.read(payload)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self.malformed(response, f"{type(exc).__name__}: {exc}")
                continue
            if read.skipped:
                self.crawler.stats.inc_value("yuqing/skipped/not_a_post", read.skipped)
            for post in read.posts:
                if not self.skip_old(post):
                    yield post
            if self.page_exhausted(read.dates):
                self.crawler.stats.inc_value("yuqing/paging/incremental_stop")
                return
            more = more or read.more
        if more and page < self.max_pages:
            yield scrapy.Request(f"{response.url.split('#')[0]}#page={page + 1}", callback=self.parse,
                                 dont_filter=True, cb_kwargs={"keyword": keyword, "page": page + 1},
                                 meta={"browser": self.browser_opts(keyword, scroll=True)})

    @staticmethod
    def _wall_url(url: str) -> str | None:
        lowered = url.lower()
        return url if any(m in lowered for m in WALL_URL_MARKERS) else None
