"""RunRecorder: a crawl_runs row per run with its Scrapy stats; pause/back-off in source_state."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy import signals

from crawlers import state
from crawlers.state import CrawlSummary

log = logging.getLogger(__name__)


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif isinstance(value, int | float | str | bool) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out


def _peak_rss_mb() -> float:
    """Peak resident memory of this crawl process (Linux reports ru_maxrss in KiB)."""
    try:
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    except (ImportError, OSError):
        return 0.0


def summarize(source: str, stats: dict[str, Any], reason: str, ctx: Any) -> CrawlSummary:
    dropped = {k.split("/", 2)[2]: int(v) for k, v in stats.items() if k.startswith("yuqing/dropped/")}
    errors = {k.split("/", 2)[2]: int(v) for k, v in stats.items() if k.startswith("yuqing/errors/")}
    timeouts = sum(int(v) for k, v in stats.items() if k.startswith("downloader/exception_type_count/")
                   and "Timeout" in k)
    if timeouts:
        errors["timeout"] = timeouts
    crashed = int(stats.get("spider_exceptions/count", 0))
    if crashed:
        errors["spider_exception"] = crashed
    gave_up = int(stats.get("retry/max_reached", 0))
    if gave_up:
        errors["retry_gave_up"] = gave_up
    if ctx.ban_reason:
        status = "banned"
    elif reason == "paused":
        status = "paused"
    elif reason == "finished":
        status = "ok"
    else:
        status = "failed"
    return CrawlSummary(
        source=source, status=status, finish_reason=reason, fetched=int(stats.get("item_scraped_count", 0)),
        new=int(stats.get("yuqing/store/new", 0)), updated=int(stats.get("yuqing/store/updated", 0)),
        unchanged=int(stats.get("yuqing/store/unchanged", 0)), dropped=dropped, errors=errors,
        ban_reason=ctx.ban_reason, run_id=ctx.run_id, stored=ctx.runtime is not None,
        paused_until=ctx.paused_until.isoformat() if ctx.paused_until else None,
        elapsed_seconds=float(stats.get("elapsed_time_seconds") or 0.0),
        peak_memory_mb=_peak_rss_mb(),
    )


class RunRecorder:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        return ext

    def item_error(self, item: Any = None, failure: Any = None, **kwargs: Any) -> None:
        """A bug in a pipeline lost an item: count it so the run summary shows it."""
        self.crawler.stats.inc_value("yuqing/errors/pipeline_error")

    def spider_opened(self, spider: Any) -> None:
        ctx = getattr(spider, "ctx", None)
        if ctx is None or ctx.runtime is None:
            return
        with ctx.runtime.session() as session:
            until = state.paused_until(session, ctx.source_name, ctx.now)
            ctx.seen_ids = state.seen_ids(session, ctx.source_name)
            ctx.run_id = state.start_run(session, ctx.source_name, ctx.now)
        if until is not None and not getattr(spider, "force", False):
            ctx.paused_until = until
            log.warning("数据源 %s 因封禁暂停至 %s，本次跳过（-a force=1 可强制采集）", ctx.source_name, until)
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(self.crawler.engine.close_spider_async(reason="paused"))

    def spider_closed(self, spider: Any, reason: str) -> None:
        ctx = getattr(spider, "ctx", None)
        if ctx is None:
            return
        stats = _jsonable(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        summary = summarize(ctx.source_name, stats, reason, ctx)
        settings = self.crawler.settings
        if ctx.runtime is not None:
            try:
                with ctx.runtime.session() as session:
                    state.finish_run(session, ctx.run_id, summary, stats, ctx.now,
                                     settings.getfloat("YUQING_BAN_BACKOFF_MINUTES", 30),
                                     settings.getfloat("YUQING_BAN_BACKOFF_MAX_MINUTES", 1440),
                                     [*ctx.listed_ids, *ctx.stored_ids])
            except Exception as exc:
                log.error("记录采集运行失败: %s", exc)
            ctx.close()
        target = settings.get("YUQING_SUMMARY_FILE")
        if target:
            Path(target).write_text(json.dumps(summary.to_json(), ensure_ascii=False), encoding="utf-8")
        if summary.status == "banned":
            log.warning("数据源 %s 已暂停至 %s：%s", ctx.source_name, summary.paused_until, summary.ban_reason)
