"""Downloader middlewares: per-source cookie/proxy, retry back-off, ban/captcha detection."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from crawlers.selectors import BAN_STATUSES, CAPTCHA_URL_PATTERNS


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
    lowered = url.lower()
    for pattern in CAPTCHA_URL_PATTERNS:
        if pattern in lowered:
            return f"跳转到验证码/反爬页面: {url}"
    return None


class BanDetectionMiddleware(_Middleware):
    """HTTP 418/432/403 or a redirect to a captcha page: record why and stop this source."""

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
            return response
        ctx = getattr(self.crawler.spider, "ctx", None)
        if ctx is not None:
            ctx.ban(reason)
        raise IgnoreRequest(reason)
