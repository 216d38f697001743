"""Elasticsearch / OpenSearch backend.

Layout: an index template ``<prefix>`` for ``<prefix>-v*`` indices; the live index
``<prefix>-v<SCHEMA_VERSION>-<n>`` sits behind the alias ``<prefix>``, so a mapping change is a
reindex into a new index and an alias swap. ``published_at`` is the time field (a Kibana data view
on the alias works as is). Chinese analysis: IK (``ik_max_word`` / ``ik_smart``) when the cluster
has the plugin, else the built-in ``cjk`` analyzer; ``folded`` (one token per character) carries
the keyword-language semantics.
"""

from __future__ import annotations

import time
from typing import Any

from search import aggs
from search.documents import FOLDED, post_view
from search.es_query import build_query
from search.highlight import highlight
from search.sortkeys import ENGAGEMENT_KEY, TIME_KEY
from search.types import Hit, IndexError_, PostIndex, SearchRequest, SearchResult
from yuqing.settings import Settings, secret

SCHEMA_VERSION = "1"
_FIELD_OF = {"published_at": "published_at", "severity": "severity", "platform": "platform",
             "category": "category", "source": "source", "author": "author.keyword"}


def _mappings(analyzer: str, search_analyzer: str) -> dict[str, Any]:
    kw = {"type": "keyword"}
    text = {"type": "text", "analyzer": analyzer, "search_analyzer": search_analyzer}
    return {
        "dynamic": False,
        "properties": {
            "id": kw, "platform": kw, "source": kw, "category": kw, "keywords": kw,
            "author_id": kw, "repost_of": kw, "near_dup_of": kw, "url": {"type": "keyword", "index": False},
            "author": {**text, "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
            "title": {**text, "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
            "text": text,
            FOLDED: {"type": "text", "analyzer": "yq_chars", "index_options": "positions"},
            "published_at": {"type": "date"}, "fetched_at": {"type": "date"}, "first_seen_at": {"type": "date"},
            "author_verified": {"type": "boolean"}, "author_followers": {"type": "long"},
            "reposts": {"type": "long"}, "comments": {"type": "long"}, "likes": {"type": "long"},
            "views": {"type": "long"}, "engagement": {"type": "long"},
            "severity": {"type": "integer"}, "incident_ids": {"type": "long"},
            TIME_KEY: {"type": "long"}, ENGAGEMENT_KEY: {"type": "long"},
        },
    }


_ANALYSIS = {"analysis": {
    "tokenizer": {"yq_char": {"type": "ngram", "min_gram": 1, "max_gram": 1}},
    "analyzer": {"yq_chars": {"type": "custom", "tokenizer": "yq_char"}},
}}


class ElasticIndex(PostIndex):
    backend = "elasticsearch"

    def __init__(self, url: str, prefix: str = "yuqing-posts", analyzer: str = "auto",
                 username: str | None = None, password: str | None = None, api_key: str | None = None,
                 verify_certs: bool = True, ca_certs: str | None = None, request_timeout: float = 30.0,
                 chunk_size: int = 500, max_retries: int = 3) -> None:
        self.url = url
        self.alias = prefix
        self.analyzer_setting = analyzer
        self.auth = (username, password or "") if username else None
        self.api_key = api_key
        self.verify: bool | str = ca_certs or verify_certs
        self.ca_certs = ca_certs
        self.verify_certs = verify_certs
        self.timeout = request_timeout
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ElasticIndex:
        es = settings.index.elasticsearch
        return cls(es.url, es.index_prefix, es.analyzer, es.username, secret(es.password_env, settings),
                   secret(es.api_key_env, settings), es.verify_certs, es.ca_certs, es.request_timeout)

    # -- connection ---------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            from elasticsearch import Elasticsearch

            from search.es_client import make_transport, probe

            info = probe(self.url, self.auth, self.api_key, self.verify, self.timeout)
            kwargs: dict[str, Any] = {"request_timeout": self.timeout, "max_retries": self.max_retries,
                                      "retry_on_timeout": True, "transport_class": make_transport(info)}
            if self.auth:
                kwargs["basic_auth"] = self.auth
            if self.api_key:
                kwargs["api_key"] = self.api_key
            if self.url.startswith("https"):
                kwargs["verify_certs"] = self.verify_certs
                if self.ca_certs:
                    kwargs["ca_certs"] = self.ca_certs
            client = Elasticsearch(self.url, **kwargs)
            if info.distribution == "opensearch":
                client._verified_elasticsearch = True  # no X-Elastic-Product header there
            self._client = client
        return self._client

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a client call, turning transport/API errors into Chinese messages."""
        from elastic_transport import ConnectionError as TransportConnectionError
        from elastic_transport import ConnectionTimeout
        from elasticsearch import ApiError, AuthenticationException, AuthorizationException, NotFoundError

        try:
            return fn(*args, **kwargs)
        except AuthenticationException:
            raise IndexError_(f"Elasticsearch（{self.url}）拒绝了登录：用户名/密码或 API Key 错误。") from None
        except AuthorizationException:
            raise IndexError_(f"Elasticsearch（{self.url}）权限不足，无法{what}。") from None
        except NotFoundError:
            raise IndexError_(f"Elasticsearch 索引 {self.alias} 不存在（{self.url}）。请先运行 `yuqing init`，"
                              "再运行 `yuqing reindex` 从数据库重建。") from None
        except (TransportConnectionError, ConnectionTimeout) as exc:
            raise IndexError_(f"无法连接 Elasticsearch（{self.url}）：{exc.__class__.__name__}。"
                              "请检查 index.elasticsearch.url 以及服务是否在运行。") from None
        except ApiError as exc:
            raise IndexError_(f"Elasticsearch {what}失败（{self.url}）：{exc.message}") from None

    # -- layout ---------------------------------------------------------------------
    def _analyzers(self) -> tuple[str, str]:
        choice = self.analyzer_setting
        if choice == "auto":
            try:
                self.client.indices.analyze(analyzer="ik_max_word", text="妇联")
                choice = "ik"
            except Exception:  # noqa: BLE001 - any failure means no IK plugin
                choice = "cjk"
        return ("ik_max_word", "ik_smart") if choice == "ik" else ("cjk", "cjk")

    def put_template(self) -> str:
        analyzer, search_analyzer = self._analyzers()
        self._call("写入索引模板", self.client.indices.put_index_template, name=self.alias,
                   index_patterns=[f"{self.alias}-v*"], priority=100,
                   template={"settings": _ANALYSIS, "mappings": _mappings(analyzer, search_analyzer)})
        return analyzer

    def _alias_targets(self) -> list[str]:
        from elasticsearch import NotFoundError

        try:
            return sorted(self.client.indices.get_alias(name=self.alias).keys())
        except NotFoundError:
            return []

    def new_index_name(self) -> str:
        return f"{self.alias}-v{SCHEMA_VERSION}-{int(time.time() * 1000)}"

    def create_physical(self, name: str) -> None:
        self._call("创建索引", self.client.indices.create, index=name)

    def exists(self) -> bool:
        return bool(self._call("查询索引", self._alias_targets))

    def create(self) -> str:
        analyzer = self.put_template()
        targets = self._call("查询索引", self._alias_targets)
        if targets:
            current = [t for t in targets if t.startswith(f"{self.alias}-v{SCHEMA_VERSION}-")]
            note = "" if current else "（映射已更新：请运行 `yuqing reindex` 重建并切换别名）"
            return f"Elasticsearch 索引已存在：别名 {self.alias} → {', '.join(targets)}，分词器 {analyzer}{note}"
        name = self.new_index_name()
        self.create_physical(name)
        self._call("创建别名", self.client.indices.put_alias, index=name, name=self.alias)
        return f"已创建 Elasticsearch 索引 {name}（别名 {self.alias}，分词器 {analyzer}）"

    def swap_alias(self, new_index: str) -> None:
        old = self._alias_targets()
        actions: list[dict[str, Any]] = [{"add": {"index": new_index, "alias": self.alias}}]
        actions += [{"remove": {"index": o, "alias": self.alias}} for o in old if o != new_index]
        self._call("切换别名", self.client.indices.update_aliases, actions=actions)
        for o in old:
            if o != new_index:
                self._call("删除旧索引", self.client.indices.delete, index=o)

    # -- writes -------------------------------------------------------------------------
    def upsert(self, docs: list[dict[str, Any]], index: str | None = None) -> None:
        """Bulk index with retries; documents still failing after the retries are reported by id."""
        from elasticsearch import helpers

        target = index or self.alias
        pending = list(docs)
        errors: list[str] = []
        for attempt in range(self.max_retries + 1):
            actions = [{"_op_type": "index", "_index": target, "_id": d["id"], "_source": d} for d in pending]
            failed_ids: set[str] = set()
            errors = []
            results = self._call("批量写入", lambda acts=actions: list(helpers.streaming_bulk(
                self.client, acts, chunk_size=self.chunk_size, raise_on_error=False, raise_on_exception=False,
                max_retries=self.max_retries, initial_backoff=0.2, max_backoff=5)))
            for ok, item in results:
                if not ok:
                    info = next(iter(item.values()))
                    failed_ids.add(str(info.get("_id")))
                    errors.append(f"{info.get('_id')}: {info.get('error')}")
            if not failed_ids:
                return
            pending = [d for d in pending if d["id"] in failed_ids]
            if attempt < self.max_retries:
                time.sleep(min(0.2 * 2 ** attempt, 2))
        raise IndexError_(f"{len(errors)} 条文档写入 Elasticsearch 失败（已重试 {self.max_retries} 次，其余已写入）："
                          + "；".join(errors[:5]))

    def delete(self, ids: list[str]) -> None:
        from elasticsearch import helpers

        actions = [{"_op_type": "delete", "_index": self.alias, "_id": i} for i in ids]
        results = self._call("删除", lambda: list(helpers.streaming_bulk(
            self.client, actions, raise_on_error=False, raise_on_exception=False, chunk_size=self.chunk_size)))
        for ok, item in results:
            info = next(iter(item.values()))
            if not ok and info.get("status") != 404:
                raise IndexError_(f"从 Elasticsearch 删除 {info.get('_id')} 失败：{info.get('error')}")

    def clear(self) -> None:
        self._call("清空索引", self.client.delete_by_query, index=self.alias, query={"match_all": {}},
                   refresh=True, conflicts="proceed")

    def refresh(self, index: str | None = None) -> None:
        self._call("刷新索引", self.client.indices.refresh, index=index or self.alias)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- reads ----------------------------------------------------------------------------
    def count(self, request: SearchRequest | None = None) -> int:
        query = build_query(request, request.ast()) if request else {"match_all": {}}
        return int(self._call("计数", self.client.count, index=self.alias, query=query)["count"])

    def search(self, request: SearchRequest) -> SearchResult:
        request.validate()
        node = request.ast()
        body: dict[str, Any] = {"query": build_query(request, node), "size": request.size,
                                "track_total_hits": True}
        if request.sort == "relevance":
            body["sort"] = [{"_score": "desc"}, {"id": "asc"}]
        else:
            key = TIME_KEY if request.sort == "time" else ENGAGEMENT_KEY
            body["sort"] = [{key: "desc"}, {"id": "asc"}]
        if request.search_after:
            body["search_after"] = request.search_after
        agg_req = aggs.agg_request(request, _FIELD_OF)
        if agg_req:
            body["aggs"] = agg_req
        resp = self._call("检索", self.client.search, index=self.alias, **body)
        hits = []
        for h in resp["hits"]["hits"]:
            post = post_view(h["_source"])
            score = h.get("_score") if request.sort == "relevance" else None
            hits.append(Hit(id=post["id"], score=float(score) if score is not None else None, post=post,
                            highlight=highlight(post, node, h["_source"].get(FOLDED)) if request.highlight else {}))
        raw_hits = resp["hits"]["hits"]
        after = list(raw_hits[-1]["sort"]) if raw_hits and len(raw_hits) == request.size else None
        total = resp["hits"]["total"]
        return SearchResult(total=int(total["value"] if isinstance(total, dict) else total), hits=hits,
                            aggregations=aggs.shape(request, resp.get("aggregations", {})), search_after=after)
