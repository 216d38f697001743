"""Crawl workers on several processes or machines sharing one scrapy-redis queue.

Guarantees, for every worker started with :func:`worker_settings` (same Redis URL and run id):

* one queue and one request dedupe for the run, both in Redis (scrapy-redis ``Scheduler`` and
  ``RFPDupeFilter``): a request any worker has scheduled is fetched by one worker only, the
  start requests every worker generates included;
* no lost pages when a worker dies: a popped request is *leased* (kept in Redis under the
  worker's id) until the response's callback has run to the end — its items stored
  (``YUQING_STORE_BATCH=1``) and its follow-up requests queued — or, for a request that
  failed or was dropped, until the worker's engine is idle again. Workers keep a heartbeat
  key alive; the leases of a worker whose heartbeat expired go back to the queue (at least
  once: such a page may be fetched twice, and the database keeps one post per id);
* a worker stops only when the queue is empty and no worker holds a lease, so the run ends
  when the last page is done; when a worker closes, the run's keys are set to expire after
  ``YUQING_REDIS_KEEP_SECONDS`` (a day), so a worker joining late does not crawl the run again
  and nothing is left in Redis for ever.

Items go through the ordinary pipeline chain into the shared database (``crawl.db_url``).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler

log = logging.getLogger(__name__)

LEASE_META = "_yuqing_lease"
BANNED_ELSEWHERE = "banned_elsewhere"  # finish reason of a worker stopped by another's ban
HEARTBEAT_SECONDS = 1.0

# pop the best request and lease it to ARGV[1] (one atomic step: a crash cannot lose it)
_POP = """
local v = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #v == 0 then return false end
redis.call('ZREM', KEYS[1], v[1])
local uid = redis.sha1hex(v[1])
redis.call('HSET', KEYS[2], uid, v[1])
redis.call('HSET', KEYS[3], uid, ARGV[1] .. '|' .. v[2])
return {uid, v[1]}
"""
# put back the leases of every worker whose heartbeat key (ARGV[1] .. worker) is gone
_RECLAIM = """
local owners = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 1, #owners, 2 do
  local uid, val = owners[i], owners[i + 1]
  local sep = string.find(val, '|', 1, true)
  local worker, score = string.sub(val, 1, sep - 1), string.sub(val, sep + 1)
  if redis.call('EXISTS', ARGV[1] .. worker) == 0 then
    local data = redis.call('HGET', KEYS[1], uid)
    if data then redis.call('ZADD', KEYS[3], score, data) end
    redis.call('HDEL', KEYS[1], uid)
    redis.call('HDEL', KEYS[2], uid)
    n = n + 1
  end
end
return n
"""


def run_keys(run_id: str) -> dict[str, str]:
    """Scrapy settings naming the run's Redis keys (``%(spider)s`` is filled in by scrapy-redis)."""
    prefix = f"yuqing:{run_id}:%(spider)s"
    return {"SCHEDULER_QUEUE_KEY": f"{prefix}:requests", "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter"}


def worker_settings(redis_url: str, run_id: str) -> dict[str, Any]:
    """The `-s` settings that turn one `scrapy crawl` into a worker of the run `run_id`."""
    return {
        "SCHEDULER": "crawlers.distributed.LeasedScheduler",
        "SCHEDULER_QUEUE_CLASS": "crawlers.distributed.LeasedQueue",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # one worker closing must not flush the others' queue
        "REDIS_URL": redis_url,
        "YUQING_STORE_BATCH": 1,  # a page's items are in the database before its lease ends
        **run_keys(run_id),
    }


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


class LeasedQueue(Base):
    """scrapy-redis priority queue whose pop leases the request to the popping worker."""

    worker = ""  # set by LeasedScheduler.open

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.leases_key = f"{self.key}:leases"
        self.owners_key = f"{self.key}:owners"
        self.heartbeat_prefix = f"{self.key}:worker:"
        self.banned_key = f"{self.key}:banned"
        self._pop = server.register_script(_POP)
        self._reclaim = server.register_script(_RECLAIM)
        self.mine: set[str] = set()

    def __len__(self) -> int:
        return int(self.server.zcard(self.key))

    def push(self, request: Request) -> None:
        lease = request.meta.pop(LEASE_META, None)  # a retry or redirect of a leased request
        self.server.zadd(self.key, {self._encode_request(request): -request.priority})
        if lease:
            self.ack(lease)

    def pop(self, timeout: int = 0) -> Request | None:
        got = self._pop(keys=[self.key, self.leases_key, self.owners_key], args=[self.worker])
        if not got:
            return None
        uid, data = got
        uid = uid.decode() if isinstance(uid, bytes) else uid
        request = self._decode_request(data)
        request.meta[LEASE_META] = uid
        self.mine.add(uid)
        return request

    def ack(self, uid: str) -> None:
        self.server.hdel(self.leases_key, uid)
        self.server.hdel(self.owners_key, uid)
        self.mine.discard(uid)

    def ack_all_mine(self) -> None:
        for uid in list(self.mine):
            self.ack(uid)

    def leased(self) -> int:
        return int(self.server.hlen(self.owners_key))

    def heartbeat(self, ttl_ms: int) -> None:
        self.server.set(self.heartbeat_prefix + self.worker, "1", px=ttl_ms)

    def reclaim_dead(self) -> int:
        return int(self._reclaim(keys=[self.leases_key, self.owners_key, self.key], args=[self.heartbeat_prefix]))

    def clear(self) -> None:
        self.server.delete(self.key, self.leases_key, self.owners_key)

    def expire(self, seconds: int) -> None:
        for key in (self.key, self.leases_key, self.owners_key):
            self.server.expire(key, seconds)


class LeasedScheduler(Scheduler):
    """scrapy-redis Scheduler + leases, heartbeat, reclaim of dead workers and a run-wide close."""

    crawler: Any = None
    queue: LeasedQueue

    @classmethod
    def from_crawler(cls, crawler: Any) -> LeasedScheduler:
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        instance.keep_seconds = crawler.settings.getint("YUQING_REDIS_KEEP_SECONDS", 86400)
        instance.ttl_ms = int(1000 * crawler.settings.getfloat("YUQING_REDIS_HEARTBEAT_TTL", 3.0))
        crawler.signals.connect(instance._on_idle, signal=signals.spider_idle)
        return instance

    def open(self, spider: Any) -> None:
        super().open(spider)
        if not isinstance(self.queue, LeasedQueue):
            raise ValueError("LeasedScheduler 需要 SCHEDULER_QUEUE_CLASS = crawlers.distributed.LeasedQueue")
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._closing = False
        self.queue.worker = self.worker
        spider._lease_queue = self.queue
        self.queue.heartbeat(self.ttl_ms)
        from twisted.internet import task

        self._beat = task.LoopingCall(self._tick)
        self._beat.start(HEARTBEAT_SECONDS, now=False)
        spider.logger.info("分布式采集：工作进程 %s 加入队列 %s", self.worker, self.queue.key)

    def _tick(self) -> None:
        try:
            self.queue.heartbeat(self.ttl_ms)
            self._share_ban()
            back = self.queue.reclaim_dead()
        except Exception as exc:  # Redis briefly away: the next beat tries again
            log.warning("分布式采集：心跳失败：%s", exc)
            return
        if back:
            log.warning("分布式采集：%d 个请求的工作进程已失联，已放回队列", back)
            if self.stats:
                self.stats.inc_value("yuqing/distributed/reclaimed", back)
        self._wake()

    def _share_ban(self) -> None:
        """A ban seen by one worker stops every worker of the run (only the one that saw it records
        the pause; the others close with reason ``banned_elsewhere``)."""
        ctx = getattr(self.spider, "ctx", None)
        own = getattr(ctx, "ban_reason", None)
        if own:
            self.queue.server.set(self.queue.banned_key, own, ex=self.keep_seconds)
            return
        other = self.queue.server.get(self.queue.banned_key)
        if other and not self._closing:
            self._closing = True
            reason = other.decode("utf-8", "replace") if isinstance(other, bytes) else str(other)
            log.warning("分布式采集：另一工作进程遇到封禁/验证码（%s），本进程停止", reason)
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(self.crawler.engine.close_spider_async(reason=BANNED_ELSEWHERE))

    def _wake(self) -> None:
        """Ask the engine to look at its scheduler now: an idle Scrapy engine does so only every
        5 s, so work other workers queued meanwhile, or the run's end, would wait for it."""
        slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def _on_idle(self, spider: Any) -> None:
        # the engine is idle: every request this worker popped has been handled (or dropped)
        self.queue.ack_all_mine()
        if len(self.queue) or self.queue.leased() or self.queue.reclaim_dead():
            raise DontCloseSpider  # other workers still hold pages that may add requests

    def close(self, reason: str) -> None:
        beat = getattr(self, "_beat", None)
        if beat is not None and beat.running:
            beat.stop()
        try:
            self._share_ban()
        except Exception as exc:
            log.warning("分布式采集：无法通知其他工作进程封禁：%s", exc)
        try:  # the run's keys never outlive it by more than keep_seconds, however it ended
            self.queue.expire(self.keep_seconds)
            self.df.server.expire(self.df.key, self.keep_seconds)
        except Exception as exc:  # Redis away at the end: nothing is lost, the keys stay
            log.warning("分布式采集：无法设置队列过期时间：%s", exc)
        super().close(reason)


class LeaseAckMiddleware:
    """Spider middleware: a leased request is done once its callback's output is exhausted (its
    follow-up requests are in Redis) *and* every item it yielded has left the pipelines (stored,
    dropped or failed: the ``item_scraped`` / ``item_dropped`` / ``item_error`` signals). Scrapy
    runs the pipelines of one response's items concurrently with the rest of its output, so the end
    of the output alone does not mean the items are stored."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.pending: dict[str, int] = {}  # lease → items yielded and not yet out of the pipelines
        self.exhausted: set[str] = set()  # leases whose callback output has ended

    @classmethod
    def from_crawler(cls, crawler: Any) -> LeaseAckMiddleware:
        mw = cls(crawler)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(mw._item_done, signal=signal)
        return mw

    @staticmethod
    def _lease(response: Any) -> str | None:
        request = getattr(response, "request", None)
        return request.meta.get(LEASE_META) if request is not None else None

    def _note(self, uid: str | None, output: Any) -> None:
        if uid and not isinstance(output, Request):
            self.pending[uid] = self.pending.get(uid, 0) + 1

    def process_spider_output(self, response: Any, result: Iterable[Any]) -> Iterable[Any]:
        uid = self._lease(response)
        for output in result:
            self._note(uid, output)
            yield output
        self._ended(uid)

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        uid = self._lease(response)
        async for output in result:
            self._note(uid, output)
            yield output
        self._ended(uid)

    def _item_done(self, response: Any = None, **_: Any) -> None:
        uid = self._lease(response)
        if uid and uid in self.pending:
            self.pending[uid] -= 1
            self._maybe_ack(uid)

    def _ended(self, uid: str | None) -> None:
        if uid:
            self.exhausted.add(uid)
            self._maybe_ack(uid)

    def _maybe_ack(self, uid: str) -> None:
        if uid not in self.exhausted or self.pending.get(uid, 0) > 0:
            return
        self.exhausted.discard(uid)
        self.pending.pop(uid, None)
        queue = getattr(getattr(self.crawler, "spider", None), "_lease_queue", None)
        if queue is not None:
            queue.ack(uid)
