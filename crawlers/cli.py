"""`yuqing crawl [SOURCE…]`: run configured sources once, each in its own process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from crawlers.state import CrawlSummary
    from yuqing.hooks import CheckResult
    from yuqing.runtime import Runtime

STATUS_ZH = {"ok": "完成", "banned": "被封禁/验证码", "paused": "暂停中（封禁退避）", "failed": "失败"}
ERRORS_ZH = {"malformed_response": "响应格式错误", "timeout": "超时", "retry_gave_up": "重试后仍失败",
             "bad_card": "无法识别的条目", "long_text_missing": "长文获取失败",
             "item_without_link": "条目缺少链接", "entry_without_link": "条目缺少链接",
             "pipeline_error": "处理出错", "spider_exception": "解析出错", "near_dup": "近似重复检测失败"}


def known_spiders() -> list[str]:
    """Every spider's ``name``, from Scrapy's own registry (``SPIDER_MODULES`` in crawlers/settings.py):
    a new spider module is known to `yuqing doctor` and `yuqing crawl` without being listed here."""
    from scrapy.settings import Settings as ScrapySettings
    from scrapy.spiderloader import SpiderLoader

    from crawlers import settings as spider_settings

    return sorted(SpiderLoader.from_settings(ScrapySettings({"SPIDER_MODULES": spider_settings.SPIDER_MODULES})).list())


def register(app: typer.Typer) -> None:
    from yuqing import hooks

    app.command("crawl", help="运行已配置的数据源各一次（每个数据源一个独立进程），结果写入数据库")(crawl)
    hooks.doctor_check(check_sources)


def check_sources(rt: Runtime) -> list[CheckResult]:
    """`yuqing doctor`: every source names a known spider, has its secrets, and is not paused."""
    from sqlalchemy.exc import SQLAlchemyError

    from yuqing.db.models import SourceStateRow
    from yuqing.hooks import CheckResult
    from yuqing.settings import secret
    from yuqing.timeutil import as_aware_utc, fmt_local

    results: list[CheckResult] = []
    spiders = known_spiders()
    try:
        with rt.session() as session:
            states = {row.source: row for row in session.query(SourceStateRow).all()}
    except SQLAlchemyError:
        states = {}
    now = rt.clock.now()
    for source in rt.settings.sources:
        name = f"数据源 {source.name}"
        if source.spider not in spiders:
            results.append(CheckResult(name, False, f"未知的爬虫“{source.spider}”，可选：{'、'.join(spiders)}"))
            continue
        if not source.enabled:
            results.append(CheckResult(name, True, "已停用", warning=True))
            continue
        if source.spider == "web_list" and not all(source.args.get(k) for k in ("list_urls", "item", "link", "text")):
            results.append(CheckResult(name, False, "web_list 需要在 args 中配置 list_urls、item、link、text 选择器"))
            continue
        if source.spider in ("douyin", "kuaishou", "xiaohongshu", "zhihu"):  # browser-backed: Debian chromium + Playwright
            from crawlers.browser import browser_problem

            problem = browser_problem()
            if problem:
                results.append(CheckResult(name, False, problem))
                continue
        if source.spider == "rss" and not source.feeds:
            results.append(CheckResult(name, True, "没有配置 feeds，运行时不会采集任何内容", warning=True))
            continue
        state = states.get(source.name)
        until = as_aware_utc(state.paused_until) if state is not None else None
        if until is not None and until > now:
            results.append(CheckResult(name, True, f"因封禁/验证码暂停至 {fmt_local(until)}：{state.last_ban_reason}"
                                       "（可更换 Cookie/代理，或 yuqing crawl --force 立即重试）", warning=True))
        elif source.cookie_env and not secret(source.cookie_env, rt.settings):
            results.append(CheckResult(name, True, f"未设置登录 Cookie（环境变量 {source.cookie_env}），"
                                       "将以游客身份采集，容易被限流", warning=True))
        else:
            results.append(CheckResult(name, True))
    return results


def _reasons(counts: dict[str, int], names: dict[str, str]) -> str:
    return "、".join(f"{names.get(k, k)} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def describe(summary: CrawlSummary, seconds: float | None = None) -> str:
    """One Chinese line for one source's run."""
    from crawlers.pipelines import DROP_REASONS

    dropped = sum(summary.dropped.values())
    line = (f"{summary.source}：{STATUS_ZH.get(summary.status, summary.status)}；获取 {summary.fetched} 条，"
            f"新增 {summary.new} 条，更新 {summary.updated} 条，丢弃 {dropped} 条")
    if dropped:
        line += f"（{_reasons(summary.dropped, DROP_REASONS)}）"
    if summary.errors:
        line += f"；问题：{_reasons(summary.errors, ERRORS_ZH)}"
    if summary.status == "banned":
        line += f"；原因：{summary.ban_reason}；暂停至 {summary.paused_until or '—'}"
    if summary.status == "paused":
        line += f"；暂停至 {summary.paused_until}（--force 可强制采集）"
    if summary.status == "failed" and summary.message:
        line += f"；{summary.message}"
    if seconds is not None:
        line += f"；用时 {seconds:.1f} 秒"
    return line


def crawl(
    sources: list[str] = typer.Argument(None, help="数据源名称（默认：全部已启用的数据源）"),
    keywords: str = typer.Option(None, "--keywords", "-k", help="临时关键词，逗号分隔（默认按关键词方案）"),
    since: str = typer.Option(None, "--since", help="只采集此时间之后的帖子（ISO 8601）"),
    force: bool = typer.Option(False, "--force", help="忽略封禁后的暂停，强制采集"),
    output: Path = typer.Option(None, "--output", "-o", help="同时把帖子写入该目录（每个数据源一个 .jsonl）"),
    workers: int = typer.Option(1, "--workers", "-w", min=1,
                                help="每个数据源的采集进程数，共用一个 Redis 队列（scrapy-redis）"),
    redis_url: str = typer.Option(None, "--redis-url",
                                  help="共享队列的 Redis 地址（默认 crawl.redis_url 或 $YUQING_REDIS_URL；"
                                       "都没有且 --workers 大于 1 时在本机临时启动 redis-server）"),
    run_id: str = typer.Option(None, "--run-id", help="多台机器共同完成一次采集时，各机器使用相同的运行编号"),
) -> None:
    from crawlers.context import database_ready
    from crawlers.pipelines import DROP_REASONS
    from crawlers.runner import find_source, run_source
    from crawlers.workers import configured_redis_url, run_source_workers
    from yuqing.cli.context import console, runtime
    from yuqing.errors import YuqingError
    from yuqing.timeutil import parse_datetime

    rt = runtime()
    settings = rt.settings
    if not database_ready(rt):
        raise YuqingError(f"数据库尚未初始化：{settings.db_url}（请先运行 yuqing init）")
    rt.close()
    if since:
        try:
            parse_datetime(since)
        except ValueError:
            raise YuqingError(f"--since 不是 ISO 8601 时间：{since}（例如 2026-03-02T09:00:00+08:00）") from None
    chosen = [find_source(settings, name) for name in sources] if sources else \
        [s for s in settings.sources if s.enabled]
    if not chosen:
        raise YuqingError("没有可运行的数据源：请在配置文件的 sources 中添加并启用数据源")
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
    shared_url = redis_url or configured_redis_url(settings)
    extra = {"keywords": keywords, "since": since, "force": "1" if force else None}
    totals: dict[str, int] = {"fetched": 0, "new": 0, "updated": 0}
    dropped: dict[str, int] = {}
    bad: list[str] = []
    for number, source in enumerate(chosen, start=1):
        console.print(f"[{number}/{len(chosen)}] {source.name}（{source.spider}）：采集中…", markup=False, soft_wrap=True)
        started = time.monotonic()
        target = output / f"{source.name}.jsonl" if output else None
        if workers > 1 or shared_url:
            summary = run_source_workers(settings, source.name, workers, shared_url, run_id, extra,
                                         {"YUQING_STORE": "1"}, output=target)
        else:
            summary = run_source(settings, source.name, extra, {"YUQING_STORE": "1"}, output=target)
        console.print("  " + describe(summary, time.monotonic() - started), markup=False, soft_wrap=True)
        for key in totals:
            totals[key] += getattr(summary, key)
        for reason, count in summary.dropped.items():
            dropped[reason] = dropped.get(reason, 0) + count
        if summary.status in ("banned", "failed"):
            bad.append(f"{source.name}（{STATUS_ZH[summary.status]}）")
    line = (f"采集结束：{len(chosen)} 个数据源，获取 {totals['fetched']} 条，新增 {totals['new']} 条，"
            f"更新 {totals['updated']} 条，丢弃 {sum(dropped.values())} 条")
    if dropped:
        line += f"（{_reasons(dropped, DROP_REASONS)}）"
    console.print(line + "。", markup=False, soft_wrap=True)
    if bad:
        console.print(f"需要关注：{'、'.join(bad)}；日志见 {settings.data_path / 'logs'}", markup=False, soft_wrap=True)
        raise typer.Exit(2)
