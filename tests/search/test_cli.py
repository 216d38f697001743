"""`yuqing search` / `yuqing reindex` / init / doctor through the real CLI, and index_posts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from sqlalchemy import func, select

from search import SearchRequest, get_index
from search.indexing import index_posts, reindex
from tests.search.fixtures import rows
from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow
from yuqing.runtime import Runtime


def _yuqing(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120)


def _load(rt: Runtime) -> None:
    with rt.session() as s:
        for r in rows():
            s.add(r)
        s.flush()
        inc = IncidentRow(title="t", category="rights", severity=3, stage="warning", detected_at=rows()[0].first_seen_at,
                          created_at=rows()[0].first_seen_at, updated_at=rows()[0].first_seen_at)
        s.add(inc)
        s.flush()
        s.add(IncidentPostRow(incident_id=inc.id, post_id="p08", added_at=rows()[0].first_seen_at))


def test_search_cli_end_to_end(runtime: Runtime, config_file: Path) -> None:
    missing = _yuqing(config_file, "search", "家暴")
    assert missing.returncode == 1 and "检索索引不存在" in missing.stderr and "Traceback" not in missing.stderr
    _load(runtime)
    init = _yuqing(config_file, "init")
    assert init.returncode == 0 and "嵌入式检索索引已创建" in init.stdout
    done = _yuqing(config_file, "reindex")
    assert done.returncode == 0 and "共 16 条帖子" in done.stdout
    out = _yuqing(config_file, "search", "家暴 OR 婦聯", "--platform", "weibo", "--json", "--limit", "2")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"total", "hits", "aggregations"}
    assert data["total"] == 5  # p01 p02 p04 (家暴/反家暴/婦聯), p09 p16 (妇联), all weibo
    assert [h["id"] for h in data["hits"]] == ["p16", "p09"]
    assert {"id", "score", "highlight", "text", "platform", "published_at"} <= set(data["hits"][0])
    assert data["aggregations"]["terms"]["platform"] == [{"key": "weibo", "count": 5}]
    table = _yuqing(config_file, "search", "家暴", "--category", "rights", "--severity-min", "3")
    assert table.returncode == 0 and "共 1 条" in table.stdout and "p01" in table.stdout
    bad = _yuqing(config_file, "search", "家暴 AND (妇联")
    assert bad.returncode == 2 and "第 8 个字符" in bad.stderr and "左括号没有闭合" in bad.stderr  # usage error
    badtime = _yuqing(config_file, "search", "家暴", "--since", "昨天")
    assert badtime.returncode == 2 and "--since" in badtime.stderr
    doctor = _yuqing(config_file, "doctor")
    assert "检索索引（embedded）：16 条文档" in doctor.stdout


def test_reindex_is_resumable_and_idempotent(runtime: Runtime) -> None:
    _load(runtime)
    index = get_index(runtime.settings, writer=True)
    calls: list[tuple[int, int]] = []

    class Stop(Exception):
        pass

    def interrupt(done: int, total: int) -> None:
        calls.append((done, total))
        if done >= 10:
            raise Stop

    try:
        reindex(runtime, index, batch_size=5, progress=interrupt)
    except Stop:
        pass
    with runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(PostRow).where(PostRow.indexed_at.is_not(None))) == 10
    total, resumed = reindex(runtime, index, batch_size=5)
    assert (total, resumed) == (16, True)
    assert index.count() == 16
    total, resumed = reindex(runtime, index, batch_size=7)
    assert (total, resumed) == (16, False) and index.count() == 16
    assert [h.id for h in index.search(SearchRequest(incident_id=1)).hits] == ["p08"]
    index.close()


def test_index_posts_sets_indexed_at_and_deletes_vanished(runtime: Runtime) -> None:
    _load(runtime)
    assert index_posts(runtime, ["p01", "p02"]) == 2
    with runtime.session() as s:
        assert s.get(PostRow, "p01").indexed_at is not None and s.get(PostRow, "p03").indexed_at is None
        s.delete(s.get(PostRow, "p02"))
    assert index_posts(runtime, ["p02"]) == 0
    with get_index(runtime.settings) as idx:
        assert [h.id for h in idx.search(SearchRequest(query="家暴")).hits] == ["p01"]


def test_elasticsearch_backend_through_settings(tmp_path: Path, es_url: str, es_prefix: str,
                                                monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import write_config
    from yuqing.db.migrate import upgrade
    from yuqing.settings import load_settings

    cfg = write_config(tmp_path, {"index": {"backend": "elasticsearch", "elasticsearch": {
        "url": es_url, "index_prefix": es_prefix, "analyzer": "cjk"}}})
    rt = Runtime(load_settings(cfg))
    upgrade(rt.engine)
    _load(rt)
    with get_index(rt.settings) as idx:
        assert "已创建 Elasticsearch 索引" in idx.create()
        total, _ = reindex(rt, idx)
        total, _ = reindex(rt, idx, fresh=True)  # a rebuild into a new index, then an alias swap
        assert total == 16 and idx.count() == 16
        assert len(idx.client.indices.get_alias(name=es_prefix)) == 1
    out = _yuqing(cfg, "search", "家暴", "--json")
    assert out.returncode == 0, out.stderr
    assert {h["id"] for h in json.loads(out.stdout)["hits"]} == {"p01", "p02", "p04", "p10", "p12", "p15"}
    data = yaml.safe_load(cfg.read_text())
    data["index"]["elasticsearch"]["url"] = "http://127.0.0.1:9"
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True))
    down = _yuqing(cfg, "search", "家暴")
    assert down.returncode == 1 and "无法连接 Elasticsearch" in down.stderr and "Traceback" not in down.stderr
    rt.close()
