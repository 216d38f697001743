"""`yuqing crawl --workers N`: N worker processes of one source on one scrapy-redis queue.

Guarantees: every worker of a run gets the same Redis URL and run id (crawlers.distributed),
so the source is crawled once across them; their summaries are merged into one CrawlSummary
(counts added, the worst status kept). Without a Redis URL a private `redis-server` is
started for the run under the data directory and stopped after it (one machine only).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from crawlers.distributed import BANNED_ELSEWHERE, new_run_id, worker_settings
from crawlers.runner import find_source, run_spider
from crawlers.state import CrawlSummary
from yuqing.errors import InputError
from yuqing.settings import Settings

SEVERITY = {"ok": 0, "paused": 1, "banned": 2, "failed": 3}
REDIS_URL_ENV = "YUQING_REDIS_URL"


def configured_redis_url(settings: Settings) -> str | None:
    """`crawl.redis_url` from the configuration when that section exists, else $YUQING_REDIS_URL."""
    crawl = getattr(settings, "crawl", None)
    url = getattr(crawl, "redis_url", None) if crawl is not None else None
    return url or os.environ.get(REDIS_URL_ENV) or None


def merge(source: str, summaries: list[CrawlSummary]) -> CrawlSummary:
    out = CrawlSummary(source=source)
    for s in summaries:
        for key in ("fetched", "new", "updated", "unchanged"):
            setattr(out, key, getattr(out, key) + getattr(s, key))
        for reason, count in s.dropped.items():
            out.dropped[reason] = out.dropped.get(reason, 0) + count
        for reason, count in s.errors.items():
            out.errors[reason] = out.errors.get(reason, 0) + count
        elsewhere = s.finish_reason == BANNED_ELSEWHERE  # stopped because another worker was banned
        if not elsewhere and SEVERITY.get(s.status, 3) > SEVERITY.get(out.status, 3):
            out.status, out.message = s.status, s.message
            out.ban_reason, out.paused_until = s.ban_reason, s.paused_until
        out.elapsed_seconds = max(out.elapsed_seconds, s.elapsed_seconds)
        out.peak_memory_mb = max(out.peak_memory_mb, s.peak_memory_mb)
        out.returncode = out.returncode or s.returncode
        out.stored = out.stored or s.stored
    return out


def run_source_workers(settings: Settings, source_name: str, workers: int, redis_url: str | None = None,
                       run_id: str | None = None, extra_args: Mapping[str, Any] | None = None,
                       scrapy_settings: Mapping[str, Any] | None = None, output: str | Path | None = None,
                       timeout: float | None = None) -> CrawlSummary:
    """Run `workers` processes of one source on one shared queue; the merged summary."""
    if workers < 1:
        raise InputError(f"--workers 必须是正整数（实际 {workers}）")
    source = find_source(settings, source_name)
    run_id = run_id or new_run_id()
    env = {"YUQING_CONFIG": str(settings.source_path)} if settings.source_path is not None else {}
    args: dict[str, Any] = {"source": source.name, **(extra_args or {})}
    logs = settings.data_path / "logs"
    with ExitStack() as stack:
        if not redis_url:
            from crawlers.testing.redis_server import RedisServer

            redis_url = stack.enter_context(RedisServer(settings.data_path / "redis" / run_id)).url

        def one(n: int) -> CrawlSummary:
            out = None
            if output is not None:
                out = Path(output) if workers == 1 else Path(output).with_suffix(f".w{n}.jsonl")
            return run_spider(source.spider, args, {**worker_settings(redis_url, run_id), **(scrapy_settings or {})},
                              output=out, env=env, log_file=logs / f"crawl-{source.name}-w{n}.log",
                              timeout=timeout, source=source.name)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            summaries = list(pool.map(one, range(1, workers + 1)))
    return merge(source.name, summaries)
