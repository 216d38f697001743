"""Per-crawl context: yuqing settings, the source's settings, the crawl time, the database.

One object per spider (``spider.ctx``), shared by the spider, pipelines, middlewares and the
run recorder, so each piece of state lives in one place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from yuqing.errors import YuqingError
from yuqing.runtime import Runtime
from yuqing.settings import Settings, SourceSettings, load_settings, secret
from yuqing.timeutil import parse_datetime

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)


def load_yuqing_settings() -> Settings:
    """The effective settings of $YUQING_CONFIG (default config/yuqing.yaml, with the configuration
    versions of its database laid over it); defaults if they cannot load."""
    try:
        from yuqing.config_store import effective_settings

        return effective_settings(load_settings())[0]  # the file with the web's latest version over it
    except YuqingError as exc:
        log.error("无法读取配置，使用默认设置: %s", exc)
        return Settings()


def database_ready(rt: Runtime) -> bool:
    """Whether the configured database exists and has been initialised (`yuqing init`)."""
    url = make_url(rt.settings.db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        if not Path(url.database).exists():
            return False
    try:
        return inspect(rt.engine).has_table("posts")
    except Exception as exc:  # unreachable server, bad URL
        log.warning("数据库不可用: %s", exc)
        return False


@dataclass
class CrawlContext:
    settings: Settings
    source_name: str
    source: SourceSettings | None
    now: datetime
    runtime: Runtime | None = None
    run_id: int | None = None
    seen_ids: set[str] = field(default_factory=set)  # stored by earlier runs (incremental paging)
    stored_ids: list[str] = field(default_factory=list)  # stored by this run
    listed_ids: list[str] = field(default_factory=list)  # seen on result pages by this run
    ban_reason: str | None = None
    paused_until: datetime | None = None
    crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, spider_name: str, source_name: str | None,
                     now_arg: str | None) -> CrawlContext:
        settings = load_yuqing_settings()
        name = source_name or spider_name
        source = next((s for s in settings.sources if s.name == name), None)
        if source is None and source_name is None:
            source = next((s for s in settings.sources if s.spider == spider_name), None)
        raw_now = now_arg or crawler.settings.get("YUQING_NOW")
        now = parse_datetime(raw_now).astimezone(UTC) if raw_now else datetime.now(UTC)
        ctx = cls(settings=settings, source_name=name, source=source, now=now, crawler=crawler)
        ctx.runtime = ctx._open_runtime(str(crawler.settings.get("YUQING_STORE", "auto")))
        return ctx

    def _open_runtime(self, mode: str) -> Runtime | None:
        mode = mode.strip().lower()
        if mode in ("0", "false", "off", "no", ""):
            return None
        rt = Runtime(self.settings)
        if database_ready(rt):
            return rt
        rt.close()
        if mode in ("1", "true", "on", "yes"):
            raise YuqingError(f"数据库尚未初始化，无法保存采集结果：{self.settings.db_url}（请先运行 yuqing init）")
        log.warning("数据库尚未初始化（yuqing init），本次采集只输出到 Scrapy 导出文件，不入库")
        return None

    # -- per-source options from config/ ----------------------------------------
    def apply_source_settings(self, crawler: Crawler) -> None:
        if self.source is None or getattr(crawler.settings, "frozen", False):
            return  # a crawler built elsewhere with frozen settings keeps its own
        crawler.settings.set("DOWNLOAD_DELAY", self.source.download_delay, priority="spider")
        crawler.settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", self.source.concurrency, priority="spider")

    @property
    def cookie(self) -> str | None:
        return secret(self.source.cookie_env, self.settings) if self.source else None

    @property
    def proxy(self) -> str | None:
        return secret(self.source.proxy_env, self.settings) if self.source else None

    def option(self, name: str, default: Any = None) -> Any:
        """A spider option from the source's `args:` in config/."""
        return (self.source.args if self.source else {}).get(name, default)

    # -- bans -------------------------------------------------------------------
    def ban(self, reason: str) -> None:
        """Record a ban/captcha and close the crawl: the recorder pauses the source with back-off."""
        if self.ban_reason is not None:
            return
        self.ban_reason = reason
        log.warning("数据源 %s 触发封禁/验证码：%s；本次采集停止", self.source_name, reason)
        if self.crawler is not None:
            self.crawler.stats.set_value("yuqing/ban_reason", reason)
            engine = self.crawler.engine
            if engine is not None and engine.spider is not None:
                from scrapy.utils.defer import deferred_from_coro

                deferred_from_coro(engine.close_spider_async(reason="banned"))

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.close()
