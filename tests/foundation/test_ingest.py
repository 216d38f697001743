"""`yuqing ingest`: dedupe by id, engagement history, bad lines reported, exit codes 0/2/1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from yuqing.db.models import EngagementRow, PostRow
from yuqing.runtime import Runtime


def _yuqing(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=300)


def _post(pid: str, **kw: object) -> str:
    obj = {"id": pid, "platform": "weibo", "text": "某地发生家暴事件，妇联已介入", **kw}
    return json.dumps(obj, ensure_ascii=False)


def test_init_and_ingest_twice_without_duplicates(config_file: Path, tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join([
        _post("weibo:1", published_at="2026-03-02T09:15:00+08:00", reposts=10, likes=3, custom_field="kept"),
        _post("weibo:2", published_at="2026-03-02T10:00:00+08:00", reposts=1),
    ]) + "\n", encoding="utf-8")
    for _ in range(2):
        assert _yuqing("init", config=config_file).returncode == 0
        proc = _yuqing("ingest", str(sample), config=config_file)
        assert proc.returncode == 0, proc.stderr
    rt = Runtime.load(str(config_file))
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(PostRow)) == 2
        assert s.scalar(select(func.count()).select_from(EngagementRow)) == 2
        row = s.get(PostRow, "weibo:1")
        assert row is not None and row.extra == {"custom_field": "kept"}
        assert row.published_at.isoformat() == "2026-03-02T01:15:00+00:00"
    rt.close()


def test_duplicate_updates_engagement_and_keeps_history(config_file: Path, tmp_path: Path) -> None:
    _yuqing("init", config=config_file)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(_post("weibo:9", reposts=100, comments=5) + "\n", encoding="utf-8")
    second.write_text(_post("weibo:9", reposts=12000, comments=5, keywords=["家暴"]) + "\n", encoding="utf-8")
    assert _yuqing("ingest", str(first), config=config_file).returncode == 0
    proc = _yuqing("ingest", str(second), config=config_file)
    assert proc.returncode == 0 and "更新互动数 1 条" in proc.stdout
    rt = Runtime.load(str(config_file))
    with rt.session() as s:
        row = s.get(PostRow, "weibo:9")
        assert row is not None and row.reposts == 12000 and row.keywords == ["家暴"]
        history = [e.reposts for e in row.engagement]
        assert history == [100, 12000]
    rt.close()


def test_bad_lines_are_reported_and_good_lines_kept(config_file: Path, tmp_path: Path) -> None:
    _yuqing("init", config=config_file)
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([
        _post("ok:1"),
        "{not json",
        "",
        json.dumps({"platform": "weibo", "text": "缺少 id"}, ensure_ascii=False),
        json.dumps({"id": "x", "platform": "weibo", "text": "t", "reposts": "很多"}, ensure_ascii=False),
        json.dumps({"id": "y", "platform": "weibo", "text": "t", "published_at": "昨天"}, ensure_ascii=False),
        "[1, 2]",
        _post("ok:2"),
    ]) + "\n", encoding="utf-8")
    proc = _yuqing("ingest", str(path), config=config_file)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in lines] == ["line 2", "line 4", "line 5", "line 6", "line 7"]
    assert "JSON" in lines[0] and "id" in lines[1] and "reposts" in lines[2] and "published_at" in lines[3]
    assert "新增 2 条" in proc.stdout
    rt = Runtime.load(str(config_file))
    with rt.session() as s:
        assert sorted(s.scalars(select(PostRow.id))) == ["ok:1", "ok:2"]
    rt.close()


def test_missing_file_is_fatal_and_bad_encoding_rejects_only_its_line(config_file: Path, tmp_path: Path) -> None:
    _yuqing("init", config=config_file)
    proc = _yuqing("ingest", str(tmp_path / "absent.jsonl"), config=config_file)
    assert proc.returncode == 1 and "文件不存在" in proc.stderr and "Traceback" not in proc.stderr
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes(_post("g:1").encode("gbk") + b"\n" + _post("u:2").encode("utf-8") + b"\n")
    proc = _yuqing("ingest", str(gbk), config=config_file)
    assert proc.returncode == 2 and "line 1: 不是 UTF-8 编码" in proc.stderr and "Traceback" not in proc.stderr
    assert "新增 1 条" in proc.stdout


def test_empty_file_is_fine(config_file: Path, tmp_path: Path) -> None:
    _yuqing("init", config=config_file)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    proc = _yuqing("ingest", str(empty), config=config_file)
    assert proc.returncode == 0 and "新增 0 条" in proc.stdout


def test_reingest_of_processed_post_requeues_only_on_change(runtime: Runtime) -> None:
    from yuqing.domain import Post
    from yuqing.store import store_posts

    now = runtime.clock.now()
    with runtime.session() as s:
        store_posts(s, [Post(id="p", platform="weibo", text="t", reposts=1)], now)
    with runtime.session() as s:
        s.get(PostRow, "p").status = "done"
    with runtime.session() as s:
        result = store_posts(s, [Post(id="p", platform="weibo", text="t", reposts=1)], now)
        assert (result.new, result.updated, result.unchanged) == (0, 0, 1)
        assert s.get(PostRow, "p").status == "done"
    with runtime.session() as s:
        result = store_posts(s, [Post(id="p", platform="weibo", text="t", reposts=5)], now)
        assert result.updated == 1 and s.get(PostRow, "p").status == "pending"
