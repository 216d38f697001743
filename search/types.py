"""Request and result types of the post index, and the `PostIndex` interface both backends implement."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from yuqing.errors import InputError, YuqingError
from yuqing.query import Node, parse

Sort = Literal["time", "relevance", "engagement"]
Interval = Literal["hour", "day", "week"]
TERMS_AGGS = ("platform", "category", "source", "author")


class IndexError_(YuqingError):  # noqa: N801 - avoid shadowing the builtin IndexError
    """The index cannot be used (missing, unreachable, wrong credentials); message in Chinese."""


@dataclass
class SearchRequest:
    """What to search. ``query`` is a keyword-language string or an already parsed AST."""

    query: str | Node = ""
    categories: list[str] = field(default_factory=list)
    severity_min: int | None = None
    platforms: list[str] = field(default_factory=list)
    author: str | None = None
    scheme: str | None = None
    incident_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    sort: Sort = "time"
    size: int = 20
    search_after: list[Any] | None = None
    highlight: bool = True
    histogram: Interval | None = None
    terms: list[str] = field(default_factory=list)  # subset of TERMS_AGGS
    terms_size: int = 10
    severity_counts: bool = False

    def ast(self) -> Node:
        return parse(self.query) if isinstance(self.query, str) else self.query

    def validate(self) -> None:
        if self.sort not in ("time", "relevance", "engagement"):
            raise InputError(f"排序方式只能是 time / relevance / engagement，得到 {self.sort!r}")
        if not 0 <= self.size <= 10_000:
            raise InputError(f"返回条数须在 0 到 10000 之间，得到 {self.size}")
        if self.histogram not in (None, "hour", "day", "week"):
            raise InputError(f"时间直方图间隔只能是 hour / day / week，得到 {self.histogram!r}")
        unknown = [t for t in self.terms if t not in TERMS_AGGS]
        if unknown:
            raise InputError(f"不支持的统计字段: {', '.join(unknown)}（可用 {', '.join(TERMS_AGGS)}）")
        if self.since and self.until and self.since >= self.until:
            raise InputError("起始时间必须早于结束时间（--since < --until）")
        for value in (self.since, self.until):
            if value is not None and value.tzinfo is None:
                raise InputError("时间必须带时区")


@dataclass
class Hit:
    id: str
    score: float | None
    highlight: dict[str, list[str]]
    post: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "score": self.score, "highlight": self.highlight,
                **{k: v for k, v in self.post.items() if k != "id"}}


@dataclass
class SearchResult:
    """``aggregations``: ``histogram`` [{key (ISO, Asia/Shanghai), count}], ``terms`` {field: [{key,
    count}]}, ``severity`` {"0".."4": count}. ``search_after`` continues after the last hit."""

    total: int
    hits: list[Hit]
    aggregations: dict[str, Any] = field(default_factory=dict)
    search_after: list[Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "hits": [h.to_json() for h in self.hits],
                "aggregations": self.aggregations, "search_after": self.search_after}


class PostIndex(abc.ABC):
    """A post index. Upserts are idempotent by post id; writes become visible after ``refresh``."""

    backend: str

    @abc.abstractmethod
    def create(self) -> str:
        """Create the index if missing (idempotent); returns a Chinese summary."""

    @abc.abstractmethod
    def exists(self) -> bool: ...

    @abc.abstractmethod
    def upsert(self, docs: list[dict[str, Any]]) -> None:
        """Insert or replace documents by ``id``; raises IndexError_ naming documents that failed."""

    @abc.abstractmethod
    def delete(self, ids: list[str]) -> None: ...

    @abc.abstractmethod
    def search(self, request: SearchRequest) -> SearchResult: ...

    @abc.abstractmethod
    def count(self, request: SearchRequest | None = None) -> int: ...

    @abc.abstractmethod
    def refresh(self) -> None:
        """Commit pending writes (writer) and make them visible to searches."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every document (a rebuild starts here)."""

    def close(self) -> None:  # noqa: B027 - optional for backends
        """Release the writer / connections."""

    def __enter__(self) -> PostIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
