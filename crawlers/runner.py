"""Run a spider in its own process (Twisted's reactor cannot restart) and read its summary.

`run_source(settings, name)` is what `yuqing crawl` and the scheduler call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crawlers.state import CrawlSummary
from yuqing.errors import InputError
from yuqing.settings import ROOT, Settings, SourceSettings


def scrapy_command(spider: str, args: Mapping[str, Any] | None = None,
                   scrapy_settings: Mapping[str, Any] | None = None, output: str | Path | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for key, value in (args or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        cmd += ["-a", f"{key}={value}"]
    for key, value in (scrapy_settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    if output is not None:
        cmd += ["-O", str(output)]
    return cmd


def run_spider(spider: str, args: Mapping[str, Any] | None = None,
               scrapy_settings: Mapping[str, Any] | None = None, output: str | Path | None = None,
               env: Mapping[str, str] | None = None, log_file: str | Path | None = None,
               timeout: float | None = None, source: str | None = None) -> CrawlSummary:
    """`scrapy crawl` in a child process from the repository root; the run's CrawlSummary."""
    with tempfile.TemporaryDirectory(prefix="yuqing-crawl-") as tmp:
        summary_file = Path(tmp) / "summary.json"
        settings = {"YUQING_SUMMARY_FILE": str(summary_file), **(scrapy_settings or {})}
        cmd = scrapy_command(spider, args, settings, output)
        child_env = {**os.environ, **(env or {})}
        child_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), child_env.get("PYTHONPATH")) if p)
        log_path = Path(log_file) if log_file else Path(tmp) / "crawl.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log:
            try:
                proc = subprocess.run(cmd, cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT,
                                      timeout=timeout, check=False)
                code = proc.returncode
            except subprocess.TimeoutExpired:
                code = -9
        if summary_file.exists():
            summary = CrawlSummary.from_json(json.loads(summary_file.read_text(encoding="utf-8")))
        else:
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            reason = "超时被终止" if code == -9 else f"进程退出码 {code}"
            summary = CrawlSummary(source=source or spider, status="failed", finish_reason="crashed",
                                   message=f"采集进程异常（{reason}）：" + " | ".join(tail))
        summary.returncode = code
        return summary


def find_source(settings: Settings, name: str) -> SourceSettings:
    for source in settings.sources:
        if source.name == name:
            return source
    known = "、".join(s.name for s in settings.sources) or "（无）"
    raise InputError(f"配置中没有名为“{name}”的数据源；已配置: {known}")


def run_source(settings: Settings, source_name: str, extra_args: Mapping[str, Any] | None = None,
               scrapy_settings: Mapping[str, Any] | None = None, output: str | Path | None = None,
               timeout: float | None = None) -> CrawlSummary:
    """Run one configured source once in a child process; results go to the configured database."""
    source = find_source(settings, source_name)
    args: dict[str, Any] = {"source": source.name, **(extra_args or {})}
    env = {}
    if settings.source_path is not None:
        env["YUQING_CONFIG"] = str(settings.source_path)
    log_file = settings.data_path / "logs" / f"crawl-{source.name}.log"
    return run_spider(source.spider, args, scrapy_settings, output, env=env, log_file=log_file,
                      timeout=timeout, source=source.name)
