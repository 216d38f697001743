"""Item pipelines: normalise → validate → keyword filter → dedupe/near-dup → store.

Each drop raises DropItem and counts ``yuqing/dropped/<reason>`` in the Scrapy stats, so a
run's summary can say how many posts were dropped and why; a bad item never stops a crawl.
"""

from __future__ import annotations

import logging
from typing import Any

from datasketch import MinHash, MinHashLSH
from scrapy.exceptions import DropItem

from crawlers.parsing import clean_text, html_to_text, iso, parse_count, parse_date
from yuqing.domain import Post
from yuqing.query import SchemeMatcher, normalize
from yuqing.validation import post_from_obj

log = logging.getLogger(__name__)

COUNT_FIELDS = ("reposts", "comments", "likes", "views", "author_followers")
DROP_REASONS = {
    "bad_date": "时间无法解析",
    "bad_count": "计数无法解析",
    "invalid": "不符合帖子格式",
    "no_keyword": "未命中关键词",
    "duplicate": "本次重复",
}


def drop(spider: Any, reason: str, detail: str) -> DropItem:
    spider.crawler.stats.inc_value(f"yuqing/dropped/{reason}")
    return DropItem(f"{DROP_REASONS.get(reason, reason)}: {detail}")


class _Stage:
    """A pipeline stage that reaches the spider through the crawler (Scrapy 2.13+ style)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        return cls(crawler)

    @property
    def spider(self) -> Any:
        return self.crawler.spider


def public(item: dict[str, Any]) -> dict[str, Any]:
    """The item without internal keys (those starting with '_')."""
    return {k: v for k, v in item.items() if not k.startswith("_")}


class NormalizePipeline(_Stage):
    """HTML → text (emoticon alt kept), NFKC, whitespace; dates → ISO +08:00; counts → int."""

    def process_item(self, item: Any) -> dict[str, Any]:
        spider = self.spider
        item = dict(item)
        now = spider.ctx.now
        for key in ("text", "title", "_context_text"):
            if item.get(key) is not None:
                item[key] = html_to_text(str(item[key]))
        for key in ("author", "region", "client", "outlet"):
            if isinstance(item.get(key), str):
                item[key] = clean_text(item[key]) or None
        for key in ("published_at", "fetched_at"):
            raw = item.get(key)
            if raw in (None, ""):
                item.pop(key, None)
                continue
            try:
                item[key] = iso(parse_date(raw, now))
            except ValueError as exc:
                raise drop(spider, "bad_date", f"{item.get('id')}: {exc}") from None
        item.setdefault("fetched_at", iso(now))
        for key in COUNT_FIELDS:
            if key not in item:
                continue
            if item[key] is None:
                item.pop(key)
                continue
            try:
                item[key] = parse_count(item[key])
            except ValueError as exc:
                raise drop(spider, "bad_count", f"{item.get('id')} {key}: {exc}") from None
        return {k: v for k, v in item.items() if v is not None}


class ValidatePipeline(_Stage):
    """Drop items that are not valid posts (shared/schema/post.schema.json)."""

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider = self.spider
        try:
            post_from_obj(public(item))
        except ValueError as exc:
            raise drop(spider, "invalid", f"{item.get('id')}: {exc}") from None
        return item


class KeywordPipeline(_Stage):
    """Record the keyword schemes (or the ad-hoc -a keywords words) that match title + text."""

    def open_spider(self) -> None:
        spider = self.spider
        self.words = [(w, normalize(w)) for w in getattr(spider, "adhoc_keywords", [])]
        self.matcher = SchemeMatcher.from_schemes(spider.ctx.settings.keyword_schemes)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider = self.spider
        text = "\n".join(str(item.get(k) or "") for k in ("text", "_context_text"))
        if self.words:
            folded = normalize(f"{item.get('title') or ''}\n{text}")
            matched = [w for w, f in self.words if f and f in folded]
        else:
            matched = self.matcher.match(item.get("title"), text)
        if not matched and not (spider.keep_unmatched or item.get("_keep")):
            raise drop(spider, "no_keyword", str(item.get("id")))
        item["keywords"] = list(dict.fromkeys([*(item.get("keywords") or []), *matched]))
        return item


def _shingles(text: str, size: int = 3) -> set[bytes]:
    folded = "".join(normalize(text).split())
    return {folded[i:i + size].encode("utf-8") for i in range(max(1, len(folded) - size + 1))}


class NearDupIndex:
    """MinHash LSH over character 3-grams: links reposted copies to the first one seen."""

    MIN_CHARS = 20

    def __init__(self, threshold: float = 0.8, num_perm: int = 64) -> None:
        self.num_perm = num_perm
        template = MinHash(num_perm=num_perm)
        self.permutations = template.permutations  # generated once, shared by every sketch
        self.scheme = template.scheme
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.order: dict[str, int] = {}

    def _minhash(self, text: str) -> MinHash | None:
        if len(text) < self.MIN_CHARS:
            return None
        mh = MinHash(num_perm=self.num_perm, permutations=self.permutations, scheme=self.scheme)
        mh.update_batch(list(_shingles(text)))
        return mh

    def add(self, post_id: str, text: str) -> str | None:
        """Insert; return the id of the earliest near-duplicate already indexed, if any."""
        if post_id in self.order:
            return None
        mh = self._minhash(text)
        if mh is None:
            return None
        candidates = [c for c in self.lsh.query(mh) if c != post_id]
        self.lsh.insert(post_id, mh)
        self.order[post_id] = len(self.order)
        if not candidates:
            return None
        return min(candidates, key=lambda c: self.order.get(c, -1))


class DedupePipeline(_Stage):
    """Same id twice in one run: dropped unless it brings new keywords. Near-duplicates linked."""

    PRIME_LIMIT = 2000

    def open_spider(self) -> None:
        spider = self.spider
        threshold = float(spider.crawler.settings.getfloat("YUQING_NEAR_DUP_THRESHOLD", 0.8))
        self.index = NearDupIndex(threshold)
        self.seen: dict[str, set[str]] = {}
        rt = spider.ctx.runtime
        if rt is not None:
            self._prime(rt)

    def _prime(self, rt: Any) -> None:
        """Recent stored posts, so copies of yesterday's post are linked too."""
        from sqlalchemy import select

        from yuqing.db.models import PostRow

        with rt.session() as session:
            rows = session.execute(
                select(PostRow.id, PostRow.text).where(PostRow.near_dup_of.is_(None))
                .order_by(PostRow.first_seen_at.desc()).limit(self.PRIME_LIMIT)).all()
        for post_id, text in reversed(rows):
            self.index.add(post_id, text or "")

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider = self.spider
        post_id = item["id"]
        keywords = set(item.get("keywords") or [])
        if post_id in self.seen:
            if keywords <= self.seen[post_id]:
                raise drop(spider, "duplicate", post_id)
            self.seen[post_id] |= keywords
        else:
            self.seen[post_id] = keywords
        if not item.get("repost_of") and not item.get("near_dup_of"):
            try:
                original = self.index.add(post_id, item.get("text") or "")
            except Exception as exc:  # linking is a bonus: never lose the post over it
                spider.crawler.stats.inc_value("yuqing/errors/near_dup")
                log.warning("近似重复检测失败 %s: %s", post_id, exc)
                original = None
            if original:
                item["near_dup_of"] = original
                spider.crawler.stats.inc_value("yuqing/near_duplicates")
        return public(item)


class StorePipeline(_Stage):
    """Write posts to the configured database in batches (yuqing.store.store_posts).

    One item never costs its batch: an item that is not a valid post is dropped and counted
    (``yuqing/dropped/invalid``); a batch the database refuses is retried one item at a time, so
    only the refused item is lost, logged with its id and the reason (``yuqing/store/rejected``).
    """

    def open_spider(self) -> None:
        spider = self.spider
        self.batch: list[Post] = []
        self.links: dict[str, str] = {}
        self.size = max(1, spider.crawler.settings.getint("YUQING_STORE_BATCH", 100))

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider = self.spider
        if spider.ctx.runtime is None:
            return item
        try:
            post = post_from_obj(public(item))  # the same checks as ingest (bounds, cleaning)
        except ValueError as exc:
            raise drop(spider, "invalid", f"{item.get('id')}: {exc}") from None
        self.batch.append(post)
        if item.get("near_dup_of"):
            self.links[item["id"]] = item["near_dup_of"]
        if len(self.batch) >= self.size:
            self.flush(spider)
        return item

    def close_spider(self) -> None:
        spider = self.spider
        if spider.ctx.runtime is not None:
            self.flush(spider)

    def _store(self, spider: Any, posts: list[Post]) -> Any:
        from sqlalchemy import update

        from yuqing.db.models import PostRow
        from yuqing.store import store_posts

        ids = {p.id for p in posts}
        with spider.ctx.runtime.session() as session:
            result = store_posts(session, posts, spider.ctx.now, source=spider.ctx.source_name)
            for post_id, original in self.links.items():
                if post_id in ids:
                    session.execute(update(PostRow).where(PostRow.id == post_id, PostRow.near_dup_of.is_(None))
                                    .values(near_dup_of=original))
        return result

    def flush(self, spider: Any) -> None:
        if not self.batch:
            return
        stats = spider.crawler.stats
        batch, self.batch = self.batch, []
        from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

        down = (OperationalError, InterfaceError, DisconnectionError)
        try:
            results = [(batch, self._store(spider, batch))]
        except Exception as exc:  # one bad item, or the database is down
            results = []
            if isinstance(exc, down):  # the feed export still has the items
                stats.inc_value("yuqing/store/errors")
                log.error("写入数据库失败（本批 %d 条）: %s", len(batch), _reason(exc))
            else:
                log.warning("写入数据库失败（本批 %d 条），逐条重试: %s", len(batch), _reason(exc))
                failed = 0
                for post in batch:
                    try:
                        results.append(([post], self._store(spider, [post])))
                    except Exception as one:  # the feed export still has the item
                        failed += 1
                        stats.inc_value("yuqing/store/rejected")
                        log.error("帖子 %s 写入数据库失败: %s", post.id, _reason(one))
                if failed:
                    stats.inc_value("yuqing/store/errors")
        for posts, result in results:
            stats.inc_value("yuqing/store/new", result.new)
            stats.inc_value("yuqing/store/updated", result.updated)
            stats.inc_value("yuqing/store/unchanged", result.unchanged)
            spider.ctx.stored_ids += [p.id for p in posts]
        self.links = {}


def _reason(exc: BaseException) -> str:
    """The first line of a (driver) error, short enough for one log line."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]
