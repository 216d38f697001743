"""Fixtures for the crawler tests: a local site per fixture directory and a real `scrapy crawl`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

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


# -- stateless crawls: all run once, in one child process (see crawlers.testing.batch) ----------
WEB_LIST_SOURCE = {"name": "forum", "spider": "web_list", "args": {
    "list_urls": ["https://bbs.example.cn/list-1.html"], "item": "ul.threads li",
    "link": "a.title::attr(href)", "list_title": "a.title::text", "list_time": "span.date::text",
    "next": "a.next::attr(href)", "title": "h1::text", "text": "div.content", "time": "span.time::text",
    "author": '//span[@class="author"]/text()'}}

# name: (fixture directory, spider, args, extra settings); "{url}" is the job's own local site
JOBS: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]] = {
    "ws_main": ("weibo_search", "weibo_search", {"keywords": "家暴,性侵"}, {}),
    "ws_since": ("weibo_search", "weibo_search", {"keywords": "家暴", "since": "2025-06-14T12:15:00+08:00"}, {}),
    "ws_max": ("weibo_search", "weibo_search", {"keywords": "家暴", "max_pages": "1"}, {}),
    "ws_slow": ("weibo_search", "weibo_search", {"keywords": "慢,家暴"},
                {"DOWNLOAD_TIMEOUT": 0.5, "RETRY_TIMES": 0}),
    "ww_main": ("weibo_web", "weibo_web", {"keywords": "家暴,性侵,改版"}, {}),
    "ww_split": ("weibo_web", "weibo_web", {"keywords": "家暴", "max_pages": "1", "days": "0.125"}, {}),
    "hot": ("weibo_hot", "weibo_hot", {}, {}),
    "baidu": ("baidu_news", "baidu_news", {"keywords": "家暴,改版"}, {}),
    "baidu_ban": ("baidu_news", "baidu_news", {"keywords": "验证"}, {}),
    "sogou": ("sogou_weixin", "sogou_weixin", {"keywords": "家暴"}, {}),
    "sogou_ban": ("sogou_weixin", "sogou_weixin", {"keywords": "验证"}, {}),
    "sogou_empty": ("sogou_weixin", "sogou_weixin", {"keywords": "冷门词,改版"}, {}),
    "rss": ("rss", "rss", {"feeds": "{url}/province.xml,{url}/news.atom,{url}/broken.xml,{url}/missing.xml",
                           "base_url": None}, {}),
    "rss_since": ("rss", "rss", {"feeds": "{url}/province.xml", "since": "2025-06-10T00:00:00+08:00",
                                 "base_url": None}, {}),
    "web_list": ("web_list", "web_list", {"source": "forum", "since": "2025-01-01T00:00:00+08:00"}, {}),
    # the first answer is a 503: retried after a (tiny) back-off, then the list arrives
    "retry": ("weibo_hot", "weibo_hot", {}, {"RETRY_TIMES": 2, "YUQING_RETRY_BACKOFF_BASE": 0.05}),
    # payloads captured by others and fixtures in the formats public parsers read (fixtures/README.md)
    "real_ww": ("real", "weibo_web", {"keywords": "转发,正文,家暴"}, {"YUQING_NOW": "2018-10-26T16:24:06+08:00"}),
    "real_ws": ("real", "weibo_search", {"keywords": "热巴,胡歌,转发", "keep_all": "1"},
                {"YUQING_NOW": "2019-07-16T10:00:00+08:00"}),
    "real_ws_since": ("real", "weibo_search", {"keywords": "攻略", "keep_all": "1",
                                               "since": "2019-06-27T12:00:00+08:00"},
                      {"YUQING_NOW": "2019-07-16T10:00:00+08:00"}),
    "real_ws_gone": ("real", "weibo_search", {"keywords": "删除", "keep_all": "1"},
                     {"YUQING_NOW": "2015-10-19T12:00:00+08:00"}),
    "real_hot_2023": ("real", "weibo_hot", {"base_url": "{url}/qqbot"}, {}),
    "real_hot_kabi": ("real", "weibo_hot", {"base_url": "{url}/kabi"}, {}),
    "real_tieba": ("real", "tieba", {"keywords": "核酸检测,冷门词"}, {"YUQING_NOW": "2020-08-05T20:00:00+08:00"}),
    "real_tieba_since": ("real", "tieba", {"keywords": "核酸检测", "since": "2020-08-05T00:00:00+08:00",
                                           "max_pages": "1"}, {"YUQING_NOW": "2020-08-05T20:00:00+08:00"}),
    "real_baidu": ("real", "baidu_news", {"keywords": "妇联"}, {}),
    "real_sogou": ("real", "sogou_weixin", {"keywords": "妇联"}, {}),
    "real_rss": ("real", "rss", {"feeds": "{url}/rss/cn-feed-cst-author-written.xml", "base_url": None}, {}),
    # login walls and block pages (each pauses its source; kept after the other crawls of that spider)
    "real_ws_visitor": ("real", "weibo_search", {"keywords": "游客"}, {}),
    "real_ws_signin": ("real", "weibo_search", {"keywords": "登录"}, {}),
    "real_tieba_block": ("real", "tieba", {"keywords": "验证"}, {}),
    "real_tieba_wappass": ("real", "tieba", {"keywords": "风控"}, {}),
    "real_baidu_block": ("real", "baidu_news", {"keywords": "安全"}, {}),
    "real_sogou_block": ("real", "sogou_weixin", {"keywords": "验证码"}, {}),
}


def _flaky(site: FixtureSite) -> None:
    calls = {"n": 0}

    def handler(req: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            from crawlers.testing.site import Reply

            return Reply("busy", 503)
        return site._reply_from_route(site.routes[0])

    site.route("/ajax/side/hotSearch", handler)


@dataclass
class Crawled:
    result: CrawlResult
    site: FixtureSite


@pytest.fixture(scope="session")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Crawled]]:
    from crawlers.testing.batch import BatchJob, run_batch
    from tests.conftest import write_config

    tmp = tmp_path_factory.mktemp("batch")
    config = write_config(tmp)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["sources"].append(WEB_LIST_SOURCE)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    sites: dict[str, FixtureSite] = {}
    jobs: list[BatchJob] = []
    for name, (fixture, spider, args, settings) in JOBS.items():
        site = sites[name] = FixtureSite(FIXTURES / fixture).start()
        if name == "retry":
            _flaky(site)
        job_args = {"base_url": site.url, **{k: v.replace("{url}", site.url) if isinstance(v, str) else v
                                              for k, v in args.items()}}
        jobs.append(BatchJob(spider=spider, output=str(tmp / f"{name}.jsonl"), summary_file=str(tmp / f"{name}.json"),
                             args={k: v for k, v in job_args.items() if v is not None},
                             settings={**FAST, "YUQING_STORE": "0", **settings},
                             env={"YUQING_CONFIG": str(config)}))
    summaries = run_batch(jobs, tmp, env={"YUQING_CONFIG": str(config)})
    out: dict[str, Crawled] = {}
    for (name, site), job, summary in zip(sites.items(), jobs, summaries, strict=True):
        path = Path(job.output)
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
        out[name] = Crawled(CrawlResult(summary, items, ""), site)
    yield out
    for site in sites.values():
        site.stop()


@pytest.fixture
def crawl_seq(tmp_path: Path, config_file: Path) -> Callable[..., list[CrawlResult]]:
    """Run crawls one after another in one child process against the test config (and its DB).

    Each job is (spider, args) or (spider, args, settings); storage is on (the `runtime` DB).
    """
    from crawlers.testing.batch import BatchJob, run_batch

    def run(*jobs: tuple) -> list[CrawlResult]:
        batch = []
        for n, job in enumerate(jobs):
            spider, args, settings = (*job, {})[:3]
            batch.append(BatchJob(spider=spider, output=str(tmp_path / f"seq{n}.jsonl"),
                                  summary_file=str(tmp_path / f"seq{n}.json"), args=dict(args),
                                  settings={**FAST, "YUQING_STORE": "1", **settings},
                                  env={"YUQING_CONFIG": str(config_file)}))
        summaries = run_batch(batch, tmp_path / "seq", env={"YUQING_CONFIG": str(config_file)})
        results = []
        for job, summary in zip(batch, summaries, strict=True):
            path = Path(job.output)
            lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
            results.append(CrawlResult(summary, [json.loads(line) for line in lines if line.strip()], ""))
        return results

    return run
