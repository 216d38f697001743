"""Two crawl workers on one scrapy-redis queue (a real Debian redis-server) crawl a local forum once.

The site counts requests per URL (server side) and per worker (User-Agent); the database is
the real SQLite one both workers write to.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml
from sqlalchemy import select

from crawlers.distributed import new_run_id, worker_settings
from crawlers.runner import scrapy_command
from crawlers.testing.redis_server import RedisServer
from crawlers.testing.site import FixtureSite, Reply, SiteRequest
from tests.crawlers.conftest import FAST
from yuqing.db.models import PostRow
from yuqing.settings import ROOT

LISTS, PER_LIST = 3, 10
DETAIL_DELAY = 0.25


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


def _text(n: int) -> str:
    rng = random.Random(n)
    return f"第{n}号帖子：" + "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(80))


class Forum:
    """3 list pages × 10 threads; list page 1 waits until both workers are on the queue."""

    def __init__(self, redis_url: str, ban_at: int | None = None) -> None:
        self.ban_at = ban_at  # this thread answers HTTP 418 (a ban)
        self.delay = DETAIL_DELAY
        self.site = FixtureSite()
        self.redis = redis.Redis.from_url(redis_url)
        self.lock = threading.Lock()
        for page in range(1, LISTS + 1):
            self.site.route(f"/list-{page}.html", self._list)
        for n in range(1, LISTS * PER_LIST + 1):
            self.site.route(f"/thread/{n}.html", self._thread)

    def _list(self, req: SiteRequest) -> Reply:
        page = int(req.path.split("-")[1].split(".")[0])
        if page == 1:  # both workers joined (heartbeat keys) before there is any work to share
            deadline = time.monotonic() + 40
            while len(self.redis.keys("yuqing:*:worker:*")) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        rows = "".join(f'<li><a class="title" href="/thread/{n}.html">帖子{n}</a>'
                       f'<span class="date">2025-06-14 10:{n:02d}</span></li>'
                       for n in range((page - 1) * PER_LIST + 1, page * PER_LIST + 1))
        nxt = f'<a class="next" href="/list-{page + 1}.html">下一页</a>' if page < LISTS else ""
        return Reply(f'<html><body><ul class="threads">{rows}</ul>{nxt}</body></html>', 200,
                     {"Content-Type": "text/html; charset=utf-8"})

    def _thread(self, req: SiteRequest) -> Reply:
        n = int(req.path.split("/")[-1].split(".")[0])
        if n == self.ban_at:
            return Reply("访问过于频繁", 418, {"Content-Type": "text/plain; charset=utf-8"})
        body = (f'<html><body><h1>帖子{n}</h1><span class="time">2025-06-14 10:{n:02d}</span>'
                f'<div class="content">{_text(n)}</div></body></html>')
        return Reply(body, 200, {"Content-Type": "text/html; charset=utf-8"}, delay=self.delay)

    def counts(self) -> Counter[str]:
        return Counter(r.path for r in self.site.requests)

    def by_worker(self) -> Counter[str]:
        return Counter(r.headers.get("User-Agent", "") for r in self.site.requests)


@pytest.fixture
def forum(redis_server: RedisServer, runtime, config_file: Path) -> Iterator[Forum]:
    site = Forum(redis_server.url)
    site.site.start()
    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    data["sources"] = [{"name": "forum", "spider": "web_list", "download_delay": 0, "args": {
        "list_urls": [f"{site.site.url}/list-1.html"], "item": "ul.threads li", "link": "a.title::attr(href)",
        "list_time": "span.date::text", "next": "a.next::attr(href)", "title": "h1::text",
        "text": "div.content", "time": "span.time::text"}}]
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    yield site
    site.site.stop()


def _worker(name: str, redis_url: str, run_id: str, config_file: Path, tmp: Path) -> subprocess.Popen[bytes]:
    settings = {**FAST, **worker_settings(redis_url, run_id), "YUQING_STORE": "1", "USER_AGENT": f"worker-{name}",
                "CONCURRENT_REQUESTS_PER_DOMAIN": 2, "YUQING_REDIS_HEARTBEAT_TTL": 2,
                "YUQING_SUMMARY_FILE": str(tmp / f"{name}.json")}
    cmd = scrapy_command("web_list", {"source": "forum", "keep_all": "1"}, settings)
    env = {**os.environ, "YUQING_CONFIG": str(config_file), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=(tmp / f"{name}.log").open("wb"),
                            stderr=subprocess.STDOUT)


def _stored(runtime) -> list[str]:
    with runtime.session() as s:
        return sorted(s.scalars(select(PostRow.url)).all())


def _expected(site: Forum) -> list[str]:
    return sorted(f"{site.site.url}/thread/{n}.html" for n in range(1, LISTS * PER_LIST + 1))


def test_two_workers_share_one_queue_without_duplicate_requests(forum, redis_server, runtime, config_file,
                                                                 tmp_path):
    run_id = new_run_id()
    workers = [_worker(name, redis_server.url, run_id, config_file, tmp_path) for name in "AB"]
    for proc in workers:
        assert proc.wait(60) == 0, (tmp_path / "A.log").read_text()[-3000:]
    counts = forum.counts()
    assert len(counts) == LISTS + LISTS * PER_LIST  # every page fetched …
    assert set(counts.values()) == {1}, [p for p, c in counts.items() if c > 1]  # … exactly once
    shares = forum.by_worker()
    assert shares["worker-A"] > 0 and shares["worker-B"] > 0, shares  # both did part of the work
    assert _stored(runtime) == _expected(forum)
    client = redis.Redis.from_url(redis_server.url)
    prefix = f"yuqing:{run_id}:web_list"
    assert client.zcard(f"{prefix}:requests") == 0 and client.hlen(f"{prefix}:requests:owners") == 0
    assert client.scard(f"{prefix}:dupefilter") == LISTS + LISTS * PER_LIST  # one fingerprint per page
    assert 0 < client.ttl(f"{prefix}:dupefilter") <= 86400  # the run's keys expire


def test_a_killed_worker_loses_no_page(forum, redis_server, runtime, config_file, tmp_path):
    run_id = new_run_id()
    a, b = (_worker(name, redis_server.url, run_id, config_file, tmp_path) for name in "AB")
    client = redis.Redis.from_url(redis_server.url)
    deadline = time.monotonic() + 40
    held = 0
    while time.monotonic() < deadline:  # kill A while it holds leased pages mid-crawl
        owners = client.hvals(f"yuqing:{run_id}:web_list:requests:owners")
        held = sum(1 for v in owners if f":{a.pid}:".encode() in v)
        if held and forum.by_worker()["worker-A"] >= 4 and forum.counts().total() >= 10:
            break
        time.sleep(0.02)
    a.send_signal(signal.SIGKILL)
    a.wait(10)
    assert held > 0, "worker A never held a lease"
    assert b.wait(60) == 0, (tmp_path / "B.log").read_text()[-3000:]
    counts = forum.counts()
    assert len(counts) == LISTS + LISTS * PER_LIST  # every page fetched, none lost with A
    log = (tmp_path / "B.log").read_text(encoding="utf-8")
    reclaimed = re.search(r"(\d+) 个请求的工作进程已失联，已放回队列", log)
    assert reclaimed, log[-3000:]
    # at least once: only pages A had leased when it died are fetched twice
    again = {path for path, n in counts.items() if n > 1}
    from_a = {r.path for r in forum.site.requests if r.headers.get("User-Agent") == "worker-A"}
    assert again <= from_a and len(again) <= int(reclaimed.group(1)), (again, reclaimed.group(0))
    assert max(counts.values()) <= 2
    stored = _stored(runtime)
    assert stored == _expected(forum)  # every page's post, each exactly once
    assert len(set(stored)) == len(stored)


def test_worker_settings_use_scrapy_redis_names():
    settings = worker_settings("redis://10.0.0.5:6379/0", "r1")
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings["SCHEDULER_PERSIST"] is True and settings["REDIS_URL"] == "redis://10.0.0.5:6379/0"
    assert settings["SCHEDULER_QUEUE_KEY"] % {"spider": "tieba"} == "yuqing:r1:tieba:requests"


def test_crawl_command_with_two_workers(forum, redis_server, runtime, config_file):
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "yuqing"), "--config", str(config_file), "crawl", "forum",
                           "--workers", "2", "--redis-url", redis_server.url, "-k", "帖子"],
                          cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "[1/1] forum（web_list）：采集中…"
    assert lines[1].startswith("  forum：完成；获取 30 条，新增 30 条，更新 0 条"), lines[1]
    counts = forum.counts()
    assert len(counts) == LISTS + LISTS * PER_LIST and set(counts.values()) == {1}
    assert _stored(runtime) == _expected(forum)
    logs = sorted(p.name for p in (runtime.settings.data_path / "logs").glob("crawl-forum-w*.log"))
    assert logs == ["crawl-forum-w1.log", "crawl-forum-w2.log"]


def test_a_ban_seen_by_one_worker_stops_all(forum, redis_server, runtime, config_file, tmp_path):
    from crawlers.state import CrawlSummary
    from crawlers.workers import merge

    forum.ban_at = 3  # on the first list page: seen early, long before the crawl could end
    forum.delay = 1.0  # 30 threads take ≥ 7 s at 2 × 2 connections; the ban is shared within ~1 s
    run_id = new_run_id()
    workers = [_worker(name, redis_server.url, run_id, config_file, tmp_path) for name in "AB"]
    for proc in workers:
        assert proc.wait(60) == 0
    summaries = [CrawlSummary.from_json(json.loads((tmp_path / f"{n}.json").read_text(encoding="utf-8")))
                 for n in "AB"]
    reasons = sorted(s.finish_reason for s in summaries)
    assert reasons == ["banned", "banned_elsewhere"], reasons
    merged = merge("forum", summaries)
    assert merged.status == "banned" and "418" in (merged.ban_reason or "")
    threads = [p for p in forum.counts() if p.startswith("/thread/")]
    assert len(threads) <= 20, len(threads)  # both stopped: the rest of the forum was never fetched
