"""The database-facing paths on PostgreSQL: migrations, ingest, and the pipeline's claim of
pending posts (FOR UPDATE SKIP LOCKED) by two workers at once."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, inspect, select

from app.worker import claim, process
from yuqing.db.migrate import current_revision, head_revision, upgrade
from yuqing.db.models import EngagementRow, IncidentRow, PostRow
from yuqing.domain import Post
from yuqing.ingest import ingest_stream
from yuqing.runtime import Runtime
from yuqing.settings import load_settings
from yuqing.store import store_posts

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_migrations_reach_head_and_are_idempotent(pg_runtime: Runtime) -> None:
    engine = pg_runtime.engine
    assert engine.dialect.name == "postgresql"
    assert current_revision(engine) == head_revision(engine)
    upgrade(engine)  # a second run changes nothing
    assert current_revision(engine) == head_revision(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"posts", "incidents", "notifications", "users", "leases"} <= tables


def test_ingest_dedupes_and_keeps_engagement_history(pg_runtime: Runtime) -> None:
    def line(pid: str, reposts: int) -> str:
        return json.dumps({"id": pid, "platform": "weibo", "text": "某地发生家暴事件，妇联已介入",
                           "published_at": "2026-03-02T09:15:00+08:00", "reposts": reposts}, ensure_ascii=False)

    first = ingest_stream(pg_runtime, io.StringIO("\n".join([line("weibo:1", 10), line("weibo:2", 1), "{bad"])))
    assert (first.result.new, len(first.errors)) == (2, 1)
    second = ingest_stream(pg_runtime, io.StringIO("\n".join([line("weibo:1", 50), line("weibo:2", 1)])))
    assert (second.result.new, second.result.updated, second.result.unchanged) == (0, 1, 1)
    with pg_runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(PostRow)) == 2
        assert s.get(PostRow, "weibo:1").reposts == 50
        history = s.scalars(select(EngagementRow.reposts).where(EngagementRow.post_id == "weibo:1")).all()
        assert sorted(history) == [10, 50]


def _pending(rt: Runtime, n: int, **extra: object) -> list[str]:
    posts = [Post(id=f"weibo:{i}", platform="weibo", text=f"第{i}条：某县妇女遭家暴，妇联介入{i}",
                  published_at=NOW - timedelta(minutes=i), **extra) for i in range(n)]
    with rt.session() as s:
        store_posts(s, posts, NOW, source="test")
    return [p.id for p in posts]


def test_two_workers_claim_disjoint_posts(pg_runtime: Runtime, pg_config: Path) -> None:
    ids = _pending(pg_runtime, 300)
    other = Runtime(load_settings(pg_config, environ={}))  # a second worker: its own engine and pool
    won: dict[str, list[str]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def worker(name: str, rt: Runtime) -> None:
        barrier.wait()
        while batch := claim(rt, 7, NOW):
            won[name] += batch

    threads = [threading.Thread(target=worker, args=("a", pg_runtime)),
               threading.Thread(target=worker, args=("b", other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    other.close()
    assert not set(won["a"]) & set(won["b"])
    assert sorted(won["a"] + won["b"]) == sorted(ids)
    assert won["a"] and won["b"]  # both workers got a share
    with pg_runtime.session() as s:
        assert s.scalar(select(func.count()).where(PostRow.status == "processing")) == 300


def test_pipeline_groups_preclassified_posts_on_postgres(pg_runtime: Runtime) -> None:
    _pending(pg_runtime, 5, category="rights", severity=2)
    report = process(pg_runtime)
    assert report.done == 5 and report.failed == 0
    with pg_runtime.session() as s:
        assert s.scalar(select(func.count()).where(PostRow.status == "done")) == 5
        assert s.scalar(select(func.count()).select_from(IncidentRow)) >= 1


