"""Base spider: the common arguments (keywords, base_url, since, now, source) and helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import scrapy

from crawlers.context import CrawlContext
from crawlers.parsing import date_window, parse_date
from yuqing.query.scheme import crawl_keywords
from yuqing.timeutil import parse_datetime

_SPLIT = re.compile(r"[,，]")


def split_arg(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in _SPLIT.split(value) if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


class BaseSpider(scrapy.Spider):
    """`-a keywords=词1,词2 -a base_url=URL -a since=ISO -a now=ISO -a source=NAME -a max_pages=N
    -a force=1 -a keep_all=1` (keep_all: keep results that match no keyword scheme)."""

    platform = "web"
    site = "https://example.invalid"  # the real site's scheme and host
    keep_unmatched = False  # keep posts that match no keyword (weibo_hot)
    ctx: CrawlContext

    def __init__(self, keywords: str | None = None, base_url: str | None = None, since: str | None = None,
                 now: str | None = None, source: str | None = None, max_pages: str | int | None = None,
                 force: str | None = None, keep_all: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.adhoc_keywords = split_arg(keywords)
        self.base_url_arg = base_url
        self.since_arg = since
        self.now_arg = now
        self.source_arg = source
        self.max_pages_arg = max_pages
        self.force = str(force or "").lower() in ("1", "true", "yes")
        if str(keep_all or "").lower() in ("1", "true", "yes"):  # keep what the site matched (exports, tests)
            self.keep_unmatched = True

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> BaseSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.ctx = CrawlContext.from_crawler(crawler, spider.name, spider.source_arg, spider.now_arg)
        spider.ctx.apply_source_settings(crawler)
        spider.setup()
        return spider

    def setup(self) -> None:
        """Resolve arguments against the source's settings (after ctx exists)."""
        ctx = self.ctx
        source = ctx.source
        self.base_url = (self.base_url_arg or (source.base_url if source else None) or "").rstrip("/") or None
        self.since: datetime | None = parse_datetime(self.since_arg).astimezone(UTC) if self.since_arg else None
        self.max_pages = int(self.max_pages_arg or ctx.option("max_pages", 50))
        if self.adhoc_keywords:
            self.keywords = self.adhoc_keywords
        elif source and source.keywords:
            self.keywords = list(source.keywords)
        else:
            schemes = ctx.settings.keyword_schemes
            if source and source.schemes:
                schemes = [s for s in schemes if s.name in source.schemes]
            self.keywords = crawl_keywords(schemes)

    # -- URLs -------------------------------------------------------------------
    def url(self, path_and_query: str) -> str:
        """A URL of the real site, with scheme and host replaced by base_url when given."""
        return self.rewrite(self.site.rstrip("/") + path_and_query)

    def rewrite(self, url: str) -> str:
        if not self.base_url:
            return url
        base = urlsplit(self.base_url)
        parts = urlsplit(url)
        prefix = base.path.rstrip("/")
        return urlunsplit((base.scheme, base.netloc, prefix + parts.path, parts.query, parts.fragment))

    def real_url(self, url: str) -> str:
        """The public URL of the real site for a (possibly rewritten) URL."""
        if not self.base_url or not url.startswith(self.base_url):
            return url
        return self.site.rstrip("/") + url[len(self.base_url):]

    # -- incremental paging -------------------------------------------------------
    def date_of(self, raw: Any) -> datetime | None:
        try:
            return parse_date(raw, self.ctx.now) if raw not in (None, "") else None
        except ValueError:
            return None

    def is_old(self, raw_date: Any) -> bool:
        """Older than `since` even at the latest time the displayed date can mean ("06-27": 23:59)."""
        if not self.since or raw_date in (None, ""):
            return False
        try:
            latest = date_window(raw_date, self.ctx.now)[1]
        except ValueError:
            return False
        return latest < self.since

    def page_exhausted(self, entries: list[tuple[str, Any]]) -> bool:
        """True when every (id, raw date) on a page is older than `since` or seen in an earlier run."""
        if not entries:
            return True
        self.ctx.listed_ids.extend(pid for pid, _raw in entries)
        return all(self.is_old(raw) or (pid in self.ctx.seen_ids) for pid, raw in entries) and bool(
            self.since or self.ctx.seen_ids)

    def skip_old(self, post: dict[str, Any]) -> bool:
        if self.is_old(post.get("published_at")):
            self.crawler.stats.inc_value("yuqing/skipped/older_than_since")
            return True
        return False

    def malformed(self, response: Any, what: str) -> None:
        self.crawler.stats.inc_value("yuqing/errors/malformed_response")
        self.logger.warning("响应格式错误（%s）: %s", what, response.url)
