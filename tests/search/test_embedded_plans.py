"""Embedded backend: the faster query plans give exactly what the plain ones give.

- a time range of up to ``BUCKET_SPAN_MAX`` is filtered through the ``t_hour`` buckets (plus the
  exact ``published_at`` range when a bound is not on a whole hour);
- a term of 3+ characters is a phrase of the bigrams that cover it, not of all its bigrams;
- a page by sort key asks for one hit more to see whether its last key is shared (collisions).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from tantivy import Occur, Query

from search import SearchRequest
from search.documents import doc_from_row
from search.embedded import _VERSION_FILE, SCHEMA_VERSION, EmbeddedIndex
from search.sortkeys import TIME_KEY
from search.tantivy_query import BUCKET_SPAN_MAX, covering_bigrams, time_filter
from search.types import IndexError_
from yuqing.db.models import PostRow
from yuqing.query import compile_matcher, parse

T0 = datetime(2025, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)
S = timedelta(seconds=1)


def _doc(pid: str, when: datetime, text: str = "正文") -> dict:
    row = PostRow(id=pid, platform="weibo", author="作者", title=None, text=text, published_at=when,
                  fetched_at=when, first_seen_at=when, last_seen_at=when, reposts=0, comments=0, likes=0,
                  keywords=[], source="test", extra={}, category="none", severity=0)
    return doc_from_row(row)


# posts on, just before and just after hour boundaries over three days, and one 60 days later
TIMES = {f"t{h:02d}{tag}": T0 + h * H + delta for h in range(0, 72, 5)
         for tag, delta in (("a", -S), ("b", timedelta(0)), ("c", S), ("d", 1799 * S))}
TIMES["far"] = T0 + timedelta(days=60)


def _index(path: Path, docs: list[dict]) -> EmbeddedIndex:
    index = EmbeddedIndex(path, writer=True, heap_bytes=15_000_000, threads=1)
    index.create()
    index.upsert(docs)
    index.refresh()
    return index


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedIndex]:
    index = _index(tmp_path_factory.mktemp("timed"), [_doc(pid, when) for pid, when in TIMES.items()])
    yield index
    index.close()


def _expected(since: datetime | None, until: datetime | None) -> set[str]:
    return {pid for pid, when in TIMES.items()
            if (since is None or since <= when) and (until is None or when < until)}


IST = timezone(timedelta(hours=5, minutes=30))  # local midnight is not on a whole UTC hour
SHANGHAI = timezone(timedelta(hours=8))
RANGES = [
    (T0 + 5 * H, T0 + 30 * H),  # whole hours: buckets only
    (T0 + 5 * H + S, T0 + 30 * H),  # since inside an hour: buckets + exact range
    (T0 + 5 * H, T0 + 30 * H + S),
    (T0 + 10 * H - S, T0 + 25 * H - S),
    (T0 + 5 * H + S, T0 + 5 * H + 1799 * S),  # both inside the same hour
    (T0 + 5 * H, T0 + 6 * H),
    (datetime(2025, 3, 1, 8, tzinfo=SHANGHAI), datetime(2025, 3, 2, 8, tzinfo=SHANGHAI)),
    (datetime(2025, 3, 1, 0, tzinfo=IST), datetime(2025, 3, 3, 0, tzinfo=IST)),
    (T0 - H, T0 + timedelta(days=61)),  # wider than BUCKET_SPAN_MAX: exact range only
    (T0 + 20 * H, None),
    (None, T0 + 20 * H + S),
]


@pytest.mark.parametrize(("since", "until"), RANGES)
def test_time_range_results_are_exact(timed: EmbeddedIndex, since: datetime | None,
                                      until: datetime | None) -> None:
    res = timed.search(SearchRequest(since=since, until=until, size=1000))
    assert {h.id for h in res.hits} == _expected(since, until)
    assert res.total == len(res.hits)


@pytest.mark.parametrize(("since", "until"), RANGES)
def test_every_plan_matches_the_plain_range(timed: EmbeddedIndex, since: datetime | None,
                                            until: datetime | None) -> None:
    """Whatever ``now`` makes time_filter choose (buckets for an open ``until`` too), same posts."""
    searcher = timed._searcher()
    for now in (T0 + 72 * H, T0 + timedelta(days=400), None):
        clauses = time_filter(timed.schema, since, until, now=now)
        query = Query.boolean_query([(Occur.Must, c) for c in clauses])
        hits = searcher.search(query, 1000, count=True).hits
        assert {timed._post(searcher, addr)["id"] for _, addr in hits} == _expected(since, until), now


def _plan(since: datetime | None, until: datetime | None, now: datetime | None = None) -> list[str]:
    schema = EmbeddedIndex(Path("unused")).schema
    return ["buckets" if "InvertedIndexRangeQuery" in repr(q) else "exact"
            for q in time_filter(schema, since, until, now=now)]


def test_time_filter_plan() -> None:
    assert _plan(T0, T0 + timedelta(days=30)) == ["buckets"]
    assert _plan(T0 + S, T0 + timedelta(days=30)) == ["buckets", "exact"]
    assert _plan(T0, T0 + timedelta(days=30, milliseconds=1)) == ["buckets", "exact"]
    assert _plan(T0, T0 + BUCKET_SPAN_MAX + H) == ["exact"]
    assert _plan(T0, None, now=T0 + timedelta(days=7)) == ["buckets"]
    assert _plan(T0, None, now=T0 + timedelta(days=100)) == ["exact"]
    assert _plan(None, T0) == ["exact"]


def test_covering_bigrams() -> None:
    assert covering_bigrams("ab") == [(0, "ab")]
    assert covering_bigrams("abc") == [(0, "ab"), (1, "bc")]
    assert covering_bigrams("abcd") == [(0, "ab"), (2, "cd")]
    assert covering_bigrams("人身安全保护令") == [(0, "人身"), (2, "安全"), (4, "保护"), (5, "护令")]


TEXTS = ["人身安全保护令", "申请人身安全保护令。", "人身安全x保护令", "人身安全保护", "保护令人身安全",
         "人身安安全保护令", "人身安全保保护令", "全保护令人身安", "相关部门", "相关 部门", "部门相关",
         "相关的部门", "离婚冷静期", "离婚冷静", "离婚冷冷静期", "冷静期离婚", "离婚x冷静期 离婚冷静期"]
TERM_QUERIES = ["人身安全保护令", "相关部门", "离婚冷静期", "冷静期", "全保护", "人身安全保护令 离婚冷静期",
                "相关部门 -部门相关", "人身安全保护令 | 离婚冷静期", '"相关 部门"']


@pytest.fixture(scope="module")
def texts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedIndex]:
    docs = [_doc(f"x{i:02d}", T0 + i * H, text) for i, text in enumerate(TEXTS)]
    index = _index(tmp_path_factory.mktemp("texts"), docs)
    yield index
    index.close()


@pytest.mark.parametrize("query", TERM_QUERIES)
def test_long_terms_match_exactly_like_the_in_memory_matcher(texts: EmbeddedIndex, query: str) -> None:
    matcher = compile_matcher(parse(query))
    expected = {f"x{i:02d}" for i, text in enumerate(TEXTS) if matcher.matches(None, text)}
    assert {h.id for h in texts.search(SearchRequest(query=query, size=100)).hits} == expected
    # with a time filter the AND's clauses are flattened next to the filter clauses
    since = T0 + 3 * H
    filtered = {f"x{i:02d}" for i, text in enumerate(TEXTS) if matcher.matches(None, text) and i >= 3}
    res = texts.search(SearchRequest(query=query, since=since, until=since + timedelta(days=2), size=100))
    assert {h.id for h in res.hits} == filtered and res.total == len(filtered)


def test_shared_sort_keys_page_in_id_order(tmp_path: Path) -> None:
    """Posts with the same time key (a hash collision) come by id, however the pages fall."""
    docs = [_doc(f"s{i}", T0 + i * H, "妇联回应") for i in range(6)]
    shared = docs[2][TIME_KEY]
    tied = [_doc(f"k{i}", T0 + 2 * H, "妇联回应") for i in (4, 1, 3, 0, 2)]
    for doc in tied:
        doc[TIME_KEY] = shared
    index = _index(tmp_path / "ties", docs + tied)
    try:
        expected = ["s5", "s4", "s3", "k0", "k1", "k2", "k3", "k4", "s2", "s1", "s0"]
        for request in (SearchRequest(), SearchRequest(query="妇联 回应", since=T0, until=T0 + timedelta(days=1))):
            assert [h.id for h in index.search(SearchRequest(query=request.query, since=request.since,
                                                             until=request.until, size=100)).hits] == expected
            for size in (1, 2, 3, 4, 5):
                seen: list[str] = []
                after = None
                for _ in range(20):
                    res = index.search(SearchRequest(query=request.query, since=request.since, until=request.until,
                                                     size=size, search_after=after))
                    seen += [h.id for h in res.hits]
                    after = res.search_after
                    if after is None:
                        break
                assert seen == expected, size
    finally:
        index.close()


def test_an_index_of_an_older_schema_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "old"
    index = _index(path, [_doc("o1", T0)])
    index.close()
    (path / _VERSION_FILE).write_text("2")
    with pytest.raises(IndexError_, match="结构版本过旧"):
        EmbeddedIndex(path).count()
    fresh = EmbeddedIndex(path, writer=True)
    assert "旧索引已删除" in fresh.create()
    assert fresh.count() == 0 and (path / _VERSION_FILE).read_text() == SCHEMA_VERSION
    fresh.close()
