"""Fixtures for the crawler tests: a local site per fixture directory and a real `scrapy crawl`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawlers.runner import run_spider
from crawlers.state import CrawlSummary
from crawlers.testing.site import FixtureSite

FIXTURES = Path(__file__).parent / "fixtures"
NOW = "2025-06-14T14:00:00+08:00"
FAST = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "RETRY_TIMES": 1,
    "YUQING_RETRY_BACKOFF_BASE": 0,
    "LOG_LEVEL": "INFO",
    "YUQING_NOW": NOW,
}


@dataclass
class CrawlResult:
    summary: CrawlSummary
    items: list[dict[str, Any]]
    log: str

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {item["id"]: item for item in self.items}


@pytest.fixture
def site_for() -> Iterator[Callable[[str], FixtureSite]]:
    sites: list[FixtureSite] = []

    def make(name: str) -> FixtureSite:
        site = FixtureSite(FIXTURES / name).start()
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.stop()


@pytest.fixture
def crawl(tmp_path: Path, config_file: Path) -> Callable[..., CrawlResult]:
    """Run `scrapy crawl SPIDER` against the test config; storage off unless store=True."""
    counter = {"n": 0}

    def run(spider: str, store: bool = False, settings: dict[str, Any] | None = None,
            **args: Any) -> CrawlResult:
        counter["n"] += 1
        out = tmp_path / f"{spider}-{counter['n']}.jsonl"
        log = tmp_path / f"{spider}-{counter['n']}.log"
        merged = {**FAST, "YUQING_STORE": "1" if store else "0", **(settings or {})}
        summary = run_spider(spider, args, merged, output=out, env={"YUQING_CONFIG": str(config_file)},
                             log_file=log, timeout=120)
        text = out.read_text(encoding="utf-8") if out.exists() else ""
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
        return CrawlResult(summary, items, log.read_text(encoding="utf-8", errors="replace"))

    return run
