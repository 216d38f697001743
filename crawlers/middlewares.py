"""Downloader middlewares: per-source cookie/proxy, retry back-off, ban/captcha detection.

A source is paused (with its reason) on HTTP 418/432/403, on a redirect to a captcha, anti-spider
or login page, and on a block page served with status 200 ("百度安全验证", Sogou's seccode form).
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from crawlers.selectors import (
    BAN_STATUSES,
    BLOCK_BODY_MARKERS,
    BLOCK_BODY_SCAN,
    CAPTCHA_URL_PATTERNS,
    LOGIN_URL_PATTERNS,
)


class _Middleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        return cls(crawler)


class SourceCookieMiddleware(_Middleware):
    """Send the source's login cookie (from the environment variable named by cookie_env)."""

    def process_request(self, request: Request) -> None:
        ctx = getattr(self.crawler.spider, "ctx", None)
        cookie = ctx.cookie if ctx is not None else None
        if cookie and cookie.encode("utf-8") not in (request.headers.get(b"Cookie") or b""):
            # runs after CookiesMiddleware, which rewrites the header from its jar: append the login
            jar = request.headers.get(b"Cookie")
            request.headers[b"Cookie"] = (jar + b"; " if jar else b"") + cookie.encode("utf-8")
        return None


class SourceProxyMiddleware(_Middleware):
    """Route the source's requests through its proxy (environment variable named by proxy_env)."""

    def process_request(self, request: Request) -> None:
        ctx = getattr(self.crawler.spider, "ctx", None)
        proxy = ctx.proxy if ctx is not None else None
        if proxy and "proxy" not in request.meta:
            request.meta["proxy"] = proxy  # read by HttpProxyMiddleware (750)
        return None


class BackoffMiddleware:
    """Exponential back-off before a retried request: base * 2**(n-1) seconds, capped."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackoffMiddleware:
        return cls(crawler.settings.getfloat("YUQING_RETRY_BACKOFF_BASE", 2.0),
                   crawler.settings.getfloat("YUQING_RETRY_BACKOFF_MAX", 60.0))

    async def process_request(self, request: Request) -> None:
        tries = int(request.meta.get("retry_times", 0))
        if tries <= 0 or self.base <= 0:
            return None
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        delay = min(self.cap, self.base * 2 ** (tries - 1))
        await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return None


def captcha_reason(url: str) -> str | None:
    """Why a URL (a redirect target or a landing page) means the source is blocked, or None."""
    lowered = url.lower()
    for pattern in CAPTCHA_URL_PATTERNS:
        if pattern in lowered:
            return f"跳转到验证码/反爬页面: {url}"
    for pattern in LOGIN_URL_PATTERNS:
        if pattern in lowered:
            return f"跳转到登录/访客验证页（需要登录 Cookie）: {url}"
    return None


def block_page_reason(response: Response) -> str | None:
    """A block page served with status 200 (e.g. 百度安全验证, Sogou's seccode form), or None."""
    if response.status != 200:
        return None
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
    if content_type and not any(t in content_type for t in ("html", "text", "xml")):
        return None
    head = response.body[:BLOCK_BODY_SCAN]
    for marker, what in BLOCK_BODY_MARKERS:
        if marker.encode("utf-8") in head or _gbk(marker) in head:
            return f"{what}（HTTP 200）: {response.url}"
    return None


def _gbk(text: str) -> bytes:
    try:
        return text.encode("gb18030")
    except UnicodeEncodeError:
        return text.encode("utf-8")


class BanDetectionMiddleware(_Middleware):
    """HTTP 418/432/403, a redirect to a captcha/login page or a 200 block page: record why and stop."""

    def process_response(self, request: Request, response: Response) -> Response:
        reason = None
        if response.status in BAN_STATUSES:
            reason = f"{BAN_STATUSES[response.status]}: {request.url}"
        elif 300 <= response.status < 400:
            location = response.headers.get(b"Location", b"").decode("latin-1")
            reason = captcha_reason(location)
        if reason is None:
            reason = captcha_reason(response.url) if response.url != request.url else None
        if reason is None:
            reason = block_page_reason(response)
        if reason is None:
            return response
        spider = self.crawler.spider
        if hasattr(spider, "real_url"):  # name the real site's URL, not a local replay's
            reason = reason.replace(response.url, spider.real_url(response.url)).replace(
                request.url, spider.real_url(request.url))
        ctx = getattr(spider, "ctx", None)
        if ctx is not None:
            ctx.ban(reason)
        raise IgnoreRequest(reason)
