"""One contract suite, run against both backends with the same fixtures and expectations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from search import PostIndex, SearchRequest
from search.documents import doc_from_row
from search.elastic import ElasticIndex
from search.embedded import EmbeddedIndex
from search.sortkeys import engagement_key, time_key
from search.types import IndexError_
from tests.search.fixtures import POSTS, QUERIES, T0, incidents, rows
from yuqing.query import SchemeMatcher, compile_matcher, parse, scheme_to_ast
from yuqing.settings import load_settings
from yuqing.timeutil import to_shanghai

BACKENDS = ["embedded", "elasticsearch"]
SCHEMES = load_settings().keyword_schemes


def _docs() -> list[dict]:
    inc = incidents()
    matcher = SchemeMatcher.from_schemes(SCHEMES)
    return [doc_from_row(r, inc[r.id], matcher) for r in rows()]


def make_index(backend: str, tmp: Path, es_url: str | None, prefix: str) -> PostIndex:
    if backend == "embedded":
        return EmbeddedIndex(tmp / "index", writer=True, heap_bytes=15_000_000, threads=1)
    assert es_url is not None
    return ElasticIndex(es_url, prefix=prefix, analyzer="auto")


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostIndex]:
    url = request.getfixturevalue("es_url") if request.param == "elasticsearch" else None
    index = make_index(request.param, tmp_path_factory.mktemp(request.param), url, "yqtest-contract")
    index.create()
    index.clear()
    index.upsert(_docs())
    index.refresh()
    yield index
    index.close()


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path, es_prefix: str) -> Iterator[PostIndex]:
    url = request.getfixturevalue("es_url") if request.param == "elasticsearch" else None
    index = make_index(request.param, tmp_path, url, es_prefix)
    index.create()
    yield index
    index.close()


def _all(index: PostIndex, **kw: object) -> list[str]:
    res = index.search(SearchRequest(size=100, **kw))  # type: ignore[arg-type]
    assert res.total == len(res.hits)
    return [h.id for h in res.hits]


def _expected(query: str) -> set[str]:
    m = compile_matcher(parse(query))
    return {r.id for r in rows() if m.matches(r.title, r.text)}


@pytest.mark.parametrize("query", QUERIES)
def test_query_ids_equal_in_memory_matcher(loaded: PostIndex, query: str) -> None:
    assert set(_all(loaded, query=query)) == _expected(query)


def test_fixture_queries_are_discriminating() -> None:
    assert _expected("家暴") == {"p01", "p02", "p04", "p10", "p12", "p15"}  # 反家暴 yes, 家庭暴力 no
    assert "p10" not in _expected('"家 暴" 家庭暴力') and _expected('"家 暴"') == {"p10"}
    assert "p04" in _expected("妇联")  # traditional 婦聯 folds to 妇联


@pytest.mark.parametrize("scheme", [s.name for s in SCHEMES])
def test_scheme_ast_matches_in_memory(loaded: PostIndex, scheme: str) -> None:
    node = scheme_to_ast(next(s for s in SCHEMES if s.name == scheme))
    m = compile_matcher(node)
    expected = {r.id for r in rows() if m.matches(r.title, r.text)}
    assert set(_all(loaded, query=node)) == expected
    assert set(_all(loaded, scheme=scheme)) == expected  # keywords carry the matching scheme names


def _by(pred: object) -> set[str]:
    return {p[0] for p in POSTS if pred(p)}  # type: ignore[operator]


def test_filters(loaded: PostIndex) -> None:
    assert set(_all(loaded, categories=["rights"])) == _by(lambda p: p[6] == "rights")
    assert set(_all(loaded, categories=["rights", "policy"])) == _by(lambda p: p[6] in ("rights", "policy"))
    assert set(_all(loaded, severity_min=3)) == _by(lambda p: (p[7] or 0) >= 3)
    assert set(_all(loaded, platforms=["news", "wechat"])) == _by(lambda p: p[1] in ("news", "wechat"))
    assert set(_all(loaded, author="张三")) == {"p01", "p07"}
    assert set(_all(loaded, incident_id=1)) == {"p01", "p04", "p08"}
    since, until = T0 + timedelta(hours=26), T0 + timedelta(hours=51)
    assert set(_all(loaded, since=since, until=until)) == _by(lambda p: 26 <= p[5] < 51)
    assert set(_all(loaded, query="妇联", platforms=["weibo"], since=since)) == {"p09", "p16"}


def test_sort_orders_are_identical_and_documented(loaded: PostIndex) -> None:
    docs = {d["id"]: d for d in _docs()}
    by_time = sorted(docs, key=lambda i: (-time_key(i, rows()[0].published_at.__class__.fromisoformat(
        docs[i]["published_at"])), i))
    assert _all(loaded) == by_time
    assert by_time[0] == "p16" and by_time[-1] == "p01"
    by_eng = sorted(docs, key=lambda i: (-engagement_key(i, docs[i]["engagement"]), i))
    assert _all(loaded, sort="engagement") == by_eng
    assert by_eng[0] == "p08"
    rel = loaded.search(SearchRequest(query="家暴 OR 妇联", sort="relevance", size=100))
    scores = [h.score for h in rel.hits]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)  # type: ignore[type-var]


@pytest.mark.parametrize("sort", ["time", "engagement", "relevance"])
def test_search_after_pages_cover_everything_once(loaded: PostIndex, sort: str) -> None:
    full = _all(loaded, sort=sort, query="")
    seen: list[str] = []
    after = None
    for _ in range(20):
        res = loaded.search(SearchRequest(sort=sort, size=3, search_after=after))  # type: ignore[arg-type]
        assert res.total == len(POSTS)
        seen += [h.id for h in res.hits]
        after = res.search_after
        if after is None:
            break
    assert sorted(seen) == sorted(full) and len(seen) == len(set(seen))
    if sort != "relevance":
        assert seen == full


def test_highlight(loaded: PostIndex) -> None:
    res = loaded.search(SearchRequest(query="家暴 婦聯", size=10))
    hl = {h.id: h.highlight for h in res.hits}
    assert set(hl) == {"p01", "p04"}
    assert "<em>家暴</em>" in hl["p01"]["text"][0] and "<em>妇联</em>" in hl["p01"]["text"][0]
    assert "<em>婦聯</em>" in hl["p04"]["text"][0]  # original characters marked
    res = loaded.search(SearchRequest(query="妇联 儿童", size=10))
    p03 = next(h for h in res.hits if h.id == "p03")
    assert p03.highlight["title"] == ["<em>妇联</em>发布<em>儿童</em>安全提示"]
    assert p03.post["title"] == "妇联发布儿童安全提示" and p03.post["severity"] == 1


def _local_day(hours: int) -> str:
    return to_shanghai(T0 + timedelta(hours=hours)).replace(hour=0, minute=0, second=0).isoformat()


def test_aggregations(loaded: PostIndex) -> None:
    req = SearchRequest(query="", size=0, histogram="day", terms=["platform", "author", "category", "source"],
                        severity_counts=True)
    res = loaded.search(req)
    assert res.total == len(POSTS) and res.hits == []
    days = Counter(_local_day(p[5]) for p in POSTS)
    assert res.aggregations["histogram"] == [{"key": k, "count": v} for k, v in sorted(days.items())]
    platforms = Counter(p[1] for p in POSTS)
    assert res.aggregations["terms"]["platform"] == [
        {"key": k, "count": v} for k, v in sorted(platforms.items(), key=lambda kv: (-kv[1], kv[0]))]
    assert res.aggregations["terms"]["author"][0] == {"key": "孙七", "count": 2} or \
        res.aggregations["terms"]["author"][0]["count"] == 2
    assert res.aggregations["terms"]["source"] == [{"key": "fixture", "count": len(POSTS)}]
    sev = Counter(str(p[7]) for p in POSTS if p[7] is not None)
    assert res.aggregations["severity"] == {str(i): sev.get(str(i), 0) for i in range(5)}


def test_week_and_hour_histograms(loaded: PostIndex) -> None:
    week = loaded.search(SearchRequest(query="", size=0, histogram="week")).aggregations["histogram"]
    # T0 is Monday 09:00 +08:00; the next week starts 159 hours later (posts at 170-173 h)
    assert week == [{"key": "2024-03-04T00:00:00+08:00", "count": 12},
                    {"key": "2024-03-11T00:00:00+08:00", "count": 4}]
    hour = loaded.search(SearchRequest(query="家暴", size=0, histogram="hour",
                                       until=T0 + timedelta(hours=10))).aggregations["histogram"]
    assert hour == [{"key": "2024-03-04T09:00:00+08:00", "count": 1}, {"key": "2024-03-04T10:00:00+08:00", "count": 1},
                    {"key": "2024-03-04T12:00:00+08:00", "count": 1}]


def test_count(loaded: PostIndex) -> None:
    assert loaded.count() == len(POSTS)
    assert loaded.count(SearchRequest(query="家暴")) == len(_expected("家暴"))


def test_upsert_is_idempotent_update_and_delete(fresh: PostIndex) -> None:
    docs = _docs()
    fresh.upsert(docs)
    fresh.upsert(docs)
    fresh.refresh()
    assert fresh.count() == len(POSTS)
    changed = dict(docs[0])
    r = rows()[0]
    r.text = "内容已更新：性骚扰"
    changed = doc_from_row(r, [1])
    fresh.upsert([changed])
    fresh.refresh()
    assert fresh.count() == len(POSTS)
    assert "p01" not in _all(fresh, query="家暴")
    assert _all(fresh, query="性骚扰") == ["p01"]
    fresh.delete(["p01", "p02", "nonexistent"])
    fresh.refresh()
    assert fresh.count() == len(POSTS) - 2
    fresh.clear()
    fresh.refresh()
    assert fresh.count() == 0


def test_bad_documents_are_reported_and_the_rest_kept(fresh: PostIndex) -> None:
    docs = _docs()
    bad = dict(docs[1])
    bad["published_at"] = "not a time"
    with pytest.raises(IndexError_) as exc:
        fresh.upsert([docs[0], bad, docs[2]])
    assert "p02" in str(exc.value) and "1 条" in str(exc.value)
    fresh.refresh()
    assert sorted(_all(fresh)) == ["p01", "p03"]


def test_missing_index_is_a_clear_error(tmp_path: Path, es_url: str, es_prefix: str) -> None:
    for index in (EmbeddedIndex(tmp_path / "nothing"), ElasticIndex(es_url, prefix=es_prefix)):
        assert not index.exists()
        with pytest.raises(IndexError_, match="不存在"):
            index.search(SearchRequest(query="家暴"))


def test_unreachable_elasticsearch_is_a_clear_error() -> None:
    from tests.search.conftest import free_port

    index = ElasticIndex(f"http://127.0.0.1:{free_port()}", request_timeout=2)
    with pytest.raises(IndexError_, match="无法连接 Elasticsearch"):
        index.search(SearchRequest(query="家暴"))
