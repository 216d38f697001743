"""Embedded backend: a tantivy index on disk under ``<data_dir>/<index.embedded_dir>``.

tantivy allows one writer per index (a lock file): the pipeline worker (or `yuqing reindex`)
opens it with ``writer=True``; readers reload before every search so they see the latest commit.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Occur, Order, Query

from search import aggs
from search.documents import FOLDED, post_view
from search.highlight import highlight
from search.sortkeys import ENGAGEMENT_KEY, TIME_KEY
from search.tantivy_query import (
    BIGRAM_TOKENIZER,
    CHAR_TOKENIZER,
    FOLDED_BI,
    TIME_BUCKET,
    bigram_text,
    build_query,
    char_analyzer,
    hour_bucket,
)
from search.types import IndexError_, PostIndex, SearchRequest, SearchResult
from yuqing.query import Node

SCHEMA_VERSION = "3"  # 2: the folded_bi bigram field; 3: the t_hour time bucket field
_VERSION_FILE = "yuqing-schema-version"
_RAW = ("id", "platform", "author", "source", "category", "keywords")
_FIELD_OF = {"published_at": "published_at", "severity": "severity", "platform": "platform",
             "category": "category", "source": "source", "author": "author"}


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in _RAW:
        sb.add_text_field(name, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(FOLDED, stored=False, tokenizer_name=CHAR_TOKENIZER, index_option="position")
    sb.add_text_field(FOLDED_BI, stored=False, tokenizer_name=BIGRAM_TOKENIZER, index_option="position")
    sb.add_date_field("published_at", indexed=True, fast=True)
    sb.add_integer_field(TIME_BUCKET, indexed=True)  # coarse time filter, see tantivy_query.time_filter
    sb.add_integer_field("severity", indexed=True, fast=True)
    sb.add_integer_field("engagement", indexed=True, fast=True)
    sb.add_integer_field("incident_ids", indexed=True)
    sb.add_integer_field(TIME_KEY, indexed=True, fast=True)
    sb.add_integer_field(ENGAGEMENT_KEY, indexed=True, fast=True)
    sb.add_bytes_field("post", stored=True)
    return sb.build()


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


class EmbeddedIndex(PostIndex):
    backend = "embedded"

    def __init__(self, path: Path, writer: bool = False, heap_bytes: int = 64_000_000, threads: int = 0) -> None:
        self.path = Path(path)
        self.writable = writer
        self.heap_bytes = heap_bytes
        self.threads = threads
        self.schema = _schema()
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._last_count: int | None = None

    # -- lifecycle ---------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists() and tantivy.Index.exists(str(self.path))

    def _version_ok(self) -> bool:
        file = self.path / _VERSION_FILE
        return file.exists() and file.read_text().strip() == SCHEMA_VERSION

    def create(self) -> str:
        if self.exists() and not self._version_ok():
            self.close()
            shutil.rmtree(self.path)
            note = "（索引结构已更新，旧索引已删除，请运行 `yuqing reindex` 重建）"
        else:
            note = ""
        created = not self.exists()
        self.path.mkdir(parents=True, exist_ok=True)
        self._open(create=True)
        (self.path / _VERSION_FILE).write_text(SCHEMA_VERSION)
        verb = "已创建" if created else "已存在"
        return f"嵌入式检索索引{verb}：{self.path}（{self.count()} 条）{note}"

    def _open(self, create: bool = False) -> tantivy.Index:
        if self._index is not None:
            return self._index
        if not create:
            if not self.exists():
                raise IndexError_(f"检索索引不存在：{self.path}。请先运行 `yuqing init`（或 `yuqing reindex` 从数据库重建）。")
            if not self._version_ok():
                raise IndexError_(f"检索索引 {self.path} 的结构版本过旧，请运行 `yuqing reindex` 重建。")
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
        try:
            index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            raise IndexError_(f"无法打开检索索引 {self.path}：{exc}。可运行 `yuqing reindex` 重建。") from None
        index.register_tokenizer(CHAR_TOKENIZER, char_analyzer())
        self._index = index
        return index

    def _get_writer(self) -> tantivy.IndexWriter:
        if not self.writable:
            raise IndexError_("此检索索引以只读方式打开；写入须由流水线工作进程或 `yuqing reindex` 进行。")
        if self._writer is None:
            index = self._open(create=not self.exists())
            if not self._version_ok():
                (self.path / _VERSION_FILE).write_text(SCHEMA_VERSION)
            try:
                self._writer = index.writer(heap_size=self.heap_bytes, num_threads=self.threads)
            except ValueError as exc:
                if "lock" in str(exc).lower():
                    raise IndexError_(f"检索索引 {self.path} 正被另一个进程写入（例如正在运行的 `yuqing run` "
                                      "或 `yuqing reindex`）。请等待其结束后重试。") from None
                raise IndexError_(f"无法写入检索索引 {self.path}：{exc}") from None
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            try:
                self._writer.commit()
                self._writer.wait_merging_threads()
            finally:
                self._writer = None
        self._index = None

    # -- writes ---------------------------------------------------------------
    def _document(self, doc: dict[str, Any]) -> tantivy.Document:
        d = tantivy.Document()
        d.add_text("id", doc["id"])
        for name in ("platform", "author", "source", "category"):
            if doc.get(name):
                d.add_text(name, str(doc[name]))
        for kw in doc.get("keywords") or []:
            d.add_text("keywords", str(kw))
        d.add_text(FOLDED, doc[FOLDED])
        d.add_text(FOLDED_BI, bigram_text(doc[FOLDED]))
        published = _parse_time(doc["published_at"])
        d.add_date("published_at", published)
        d.add_integer(TIME_BUCKET, hour_bucket(published))
        if doc.get("severity") is not None:
            d.add_integer("severity", int(doc["severity"]))
        d.add_integer("engagement", int(doc.get("engagement") or 0))
        for inc in doc.get("incident_ids") or []:
            d.add_integer("incident_ids", int(inc))
        d.add_integer(TIME_KEY, int(doc[TIME_KEY]))
        d.add_integer(ENGAGEMENT_KEY, int(doc[ENGAGEMENT_KEY]))
        stored = post_view(doc)
        stored[FOLDED] = doc[FOLDED]  # kept for highlighting, not returned
        d.add_bytes("post", json.dumps(stored, ensure_ascii=False).encode("utf-8"))
        return d

    def upsert(self, docs: list[dict[str, Any]]) -> None:
        writer = self._get_writer()
        failed: list[str] = []
        for doc in docs:
            try:
                built = self._document(doc)
            except (KeyError, TypeError, ValueError) as exc:
                failed.append(f"{doc.get('id', '?')}: {exc}")
                continue
            writer.delete_documents_by_term("id", doc["id"])
            writer.add_document(built)
        if failed:
            raise IndexError_(f"{len(failed)} 条文档无法写入索引（其余已写入）：" + "；".join(failed[:5]))

    def delete(self, ids: list[str]) -> None:
        writer = self._get_writer()
        for post_id in ids:
            writer.delete_documents_by_term("id", post_id)

    def clear(self) -> None:
        writer = self._get_writer()
        writer.delete_all_documents()
        writer.commit()

    def refresh(self) -> None:
        if self._writer is not None:
            self._writer.commit()
        if self._index is not None:
            self._index.reload()

    # -- reads ------------------------------------------------------------------
    def _searcher(self) -> tantivy.Searcher:
        index = self._open()
        index.reload()
        return index.searcher()

    def count(self, request: SearchRequest | None = None) -> int:
        searcher = self._searcher()
        if request is None:
            return searcher.num_docs
        query = build_query(self.schema, request, request.ast())
        return searcher.search(query, 1, count=True).count or 0

    def _by_key(self, searcher: tantivy.Searcher, query: Query, tie_query: Query, key: str, size: int,
                after: list[Any] | None) -> list[tuple[int, dict[str, Any]]]:
        """Hits ordered by (key desc, id asc) starting after ``after`` = [key, id].

        ``tie_query`` matches what ``query`` matches; it is the one used together with a single key
        value (built without the coarse time buckets, which only pay off when they drive)."""
        out: list[tuple[int, dict[str, Any]]] = []
        upper: int | None = None
        if after:
            value, last_id = int(after[0]), str(after[1])
            tie = self._all_with(searcher, tie_query, key, value)
            out += [(value, p) for p in tie if p["id"] > last_id]
            upper = value
        if len(out) >= size:
            return out[:size]
        rest, tie_rest = query, tie_query
        if upper is not None:
            below = Query.range_query(self.schema, key, tantivy.FieldType.Integer, None, upper, include_upper=False)
            rest = Query.boolean_query([(Occur.Must, query), (Occur.Must, below)])
            tie_rest = Query.boolean_query([(Occur.Must, tie_query), (Occur.Must, below)])
        need = size - len(out)
        # one hit more than needed tells whether the last key is shared beyond the page
        found = searcher.search(rest, need + 1, count=upper is None, order_by_field=key, order=Order.Desc)
        if upper is None:
            self._last_count = found.count
        hits = [(int(v), addr) for v, addr in found.hits]
        page = [(v, self._post(searcher, addr)) for v, addr in hits[:need]]
        if len(hits) > need and hits[need][0] == hits[need - 1][0]:
            last = hits[need][0]  # the boundary key is shared (hash collision): take its whole group
            page = [(v, p) for v, p in page if v != last] + [(last, p) for p in self._all_with(searcher, tie_rest, key, last)]
        page.sort(key=lambda vp: (-vp[0], vp[1]["id"]))
        return (out + page)[:size]

    def _all_with(self, searcher: tantivy.Searcher, query: Query, key: str, value: int) -> list[dict[str, Any]]:
        q = Query.boolean_query([(Occur.Must, query), (Occur.Must, Query.term_query(self.schema, key, value))])
        found = searcher.search(q, 16, count=True)
        hits = found.hits
        if (found.count or 0) > len(hits):
            hits = searcher.search(q, found.count, count=False).hits
        return sorted((self._post(searcher, addr) for _, addr in hits), key=lambda p: p["id"])

    @staticmethod
    def _post(searcher: tantivy.Searcher, addr: tantivy.DocAddress) -> dict[str, Any]:
        raw = searcher.doc(addr).get_first("post")
        return json.loads(bytes(raw).decode("utf-8"))

    def search(self, request: SearchRequest) -> SearchResult:
        request.validate()
        node: Node = request.ast()
        searcher = self._searcher()
        query = build_query(self.schema, request, node)
        self._last_count = None
        paged_by_key = request.size and request.sort != "relevance" and not request.search_after
        total = -1 if paged_by_key else (searcher.search(query, 1, count=True).count or 0)
        hits: list[tuple[float | None, dict[str, Any]]] = []
        next_after: list[Any] | None = None
        if request.size and total:
            if request.sort == "relevance":
                offset = int(request.search_after[0]) if request.search_after else 0
                found = searcher.search(query, request.size + offset, count=False).hits
                scored = sorted(((float(s), self._post(searcher, a)) for s, a in found),
                                key=lambda sp: (-sp[0], sp[1]["id"]))
                hits = list(scored[offset:offset + request.size])
                if hits:
                    next_after = [offset + len(hits)]
            else:
                key = TIME_KEY if request.sort == "time" else ENGAGEMENT_KEY
                tie_query = build_query(self.schema, request, node, coarse_time=False)
                page = self._by_key(searcher, query, tie_query, key, request.size, request.search_after)
                hits = [(None, p) for _, p in page]
                if page:
                    next_after = [page[-1][0], page[-1][1]["id"]]
                if total < 0:
                    total = int(self._last_count or 0)
        from search.types import Hit

        result_hits = []
        for s, p in hits:
            folded = p.pop(FOLDED, None)
            result_hits.append(Hit(id=p["id"], score=s, post=p,
                                   highlight=highlight(p, node, folded) if request.highlight else {}))
        agg_req = aggs.agg_request(request, _FIELD_OF)
        raw_aggs = searcher.aggregate(query, agg_req) if agg_req else {}
        return SearchResult(total=total, hits=result_hits, aggregations=aggs.shape(request, raw_aggs),
                            search_after=next_after if len(result_hits) == request.size else None)
