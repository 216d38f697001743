"""`yuqing crawl` end to end: configured sources, each in its own process, into a real SQLite DB."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml
from sqlalchemy import func, select

from crawlers.runner import run_source
from yuqing.db.models import CrawlRunRow, PostRow
from yuqing.settings import ROOT, load_settings


def _yuqing(*args: str, config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / ".venv" / "bin" / "yuqing"), "--config", str(config), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=180, env={**os.environ, **(env or {})})


def _configure(config_file: Path, sources: list[dict]) -> None:
    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    data["sources"] = sources
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_crawl_command_runs_sources_and_summarises(runtime, config_file, site_for, tmp_path):
    hot, weibo = site_for("weibo_hot"), site_for("weibo_search")
    _configure(config_file, [
        {"name": "hot", "spider": "weibo_hot", "download_delay": 0, "base_url": hot.url},
        {"name": "weibo", "spider": "weibo_search", "download_delay": 0, "base_url": weibo.url,
         "keywords": ["家暴"], "args": {"max_pages": 1}, "cookie_env": "YUQING_TEST_WEIBO_COOKIE"},
        {"name": "off", "spider": "rss", "enabled": False},
    ])
    proc = _yuqing("crawl", "-o", str(tmp_path / "out"), config=config_file,
                   env={"YUQING_TEST_WEIBO_COOKIE": "SUB=secret-cookie"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the login cookie named by cookie_env goes to that source only
    assert {r.headers.get("Cookie") for r in weibo.requests} == {"SUB=secret-cookie"}
    assert {r.headers.get("Cookie") for r in hot.requests} == {None}
    assert "secret-cookie" not in proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "[1/2] hot（weibo_hot）：采集中…"
    assert lines[1].startswith("  hot：完成；获取 2 条，新增 2 条，更新 0 条，丢弃 0 条")
    assert lines[2] == "[2/2] weibo（weibo_search）：采集中…"
    assert lines[3].startswith("  weibo：完成；获取 5 条，新增 5 条，更新 0 条，丢弃 3 条"
                               "（计数无法解析 1、时间无法解析 1、未命中关键词 1）")
    assert lines[4] == ("采集结束：2 个数据源，获取 7 条，新增 7 条，更新 0 条，丢弃 3 条"
                        "（计数无法解析 1、时间无法解析 1、未命中关键词 1）。")
    with runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(PostRow)) == 7
        runs = s.scalars(select(CrawlRunRow).order_by(CrawlRunRow.id)).all()
        assert [(r.source, r.status, r.new) for r in runs] == [("hot", "ok", 2), ("weibo", "ok", 5)]
    exported = (tmp_path / "out" / "hot.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["title"] for line in exported] == ["某地妇联回应家暴求助", "今天的天气"]


def test_crawl_command_errors_are_chinese(runtime, config_file, tmp_path):
    proc = _yuqing("crawl", "nosuch", config=config_file)
    assert proc.returncode == 1
    assert "配置中没有名为“nosuch”的数据源" in proc.stderr
    assert "Traceback" not in proc.stderr
    fresh = tmp_path / "fresh.yaml"
    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "empty")
    fresh.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    proc = _yuqing("crawl", config=fresh)
    assert proc.returncode == 1 and "请先运行 yuqing init" in proc.stderr


def test_run_source_reports_ban_for_the_scheduler(runtime, config_file, site_for):
    site = site_for("sogou_weixin")
    _configure(config_file, [{"name": "wx", "spider": "sogou_weixin", "download_delay": 0,
                              "base_url": site.url, "keywords": ["验证"]}])
    summary = run_source(load_settings(config_file), "wx", scrapy_settings={"AUTOTHROTTLE_ENABLED": False})
    assert summary.status == "banned"
    assert summary.paused_until is not None and "/antispider/" in summary.ban_reason
    log = load_settings(config_file).data_path / "logs" / "crawl-wx.log"
    assert log.exists()


def test_doctor_check_reports_paused_and_misconfigured_sources(runtime):
    from datetime import UTC, datetime, timedelta

    from crawlers.cli import check_sources
    from yuqing.db.models import SourceStateRow
    from yuqing.settings import SourceSettings
    from yuqing.timeutil import SimClock

    runtime.clock = SimClock(datetime(2025, 6, 14, 6, 0, tzinfo=UTC))
    runtime.settings.sources = [
        SourceSettings(name="wb", spider="weibo_hot"),
        SourceSettings(name="bad", spider="nosuch"),
        SourceSettings(name="forum", spider="web_list"),
    ]
    with runtime.session() as s:
        s.add(SourceStateRow(source="wb", paused_until=datetime(2025, 6, 14, 6, 30, tzinfo=UTC), backoff_level=1,
                             last_ban_reason="HTTP 418", cursor={}))
    results = {r.name: r for r in check_sources(runtime)}
    assert results["数据源 wb"].ok and results["数据源 wb"].warning
    assert "暂停至 2025-06-14 14:30：HTTP 418" in results["数据源 wb"].detail
    assert not results["数据源 bad"].ok and "未知的爬虫“nosuch”" in results["数据源 bad"].detail
    assert not results["数据源 forum"].ok
    runtime.clock.advance(timedelta(hours=1))  # the pause is over
    results = {r.name: r for r in check_sources(runtime)}
    assert results["数据源 wb"].ok and not results["数据源 wb"].warning
