"""`yuqing run`: the scheduler lease (two instances never both send), the persistent job store, one round."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, inspect, select, text

from app import service
from yuqing.db.models import IncidentRow, NotificationRow, PostRow
from yuqing.domain import Post
from yuqing.runtime import Runtime
from yuqing.store import store_posts
from yuqing.timeutil import SimClock

T0 = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


def test_only_one_instance_holds_the_lease(runtime: Runtime) -> None:
    assert service.acquire_lease(runtime, "a", T0)
    assert not service.acquire_lease(runtime, "b", T0 + timedelta(seconds=30))
    assert service.acquire_lease(runtime, "a", T0 + timedelta(seconds=30))  # renewal
    # a dies: once its lease has run out, b takes over and a is now the standby
    assert service.acquire_lease(runtime, "b", T0 + timedelta(seconds=91))
    assert not service.acquire_lease(runtime, "a", T0 + timedelta(seconds=95))
    service.release_lease(runtime, "b")
    assert service.acquire_lease(runtime, "a", T0 + timedelta(seconds=96))


def test_run_once_processes_ticks_and_sends_only_on_the_leader(runtime: Runtime) -> None:
    runtime.clock = SimClock(T0 + timedelta(minutes=5))
    with runtime.session() as s:
        store_posts(s, [Post.model_validate({"id": "p1", "platform": "weibo", "text": "江西南昌一幼儿园女童坠楼身亡",
                                             "category": "rights", "severity": 2,
                                             "published_at": T0.isoformat()})], runtime.clock.now())
    # another instance holds the lease: this one does nothing
    assert service.acquire_lease(runtime, "other", runtime.clock.now())
    assert service.run_once(runtime, holder="me") is False
    with runtime.session() as s:
        assert s.get(PostRow, "p1").status == "pending"
    service.release_lease(runtime, "other")
    assert service.run_once(runtime, holder="me") is True
    with runtime.session() as s:
        assert s.get(PostRow, "p1").status == "done"
        assert s.scalar(select(func.count()).select_from(IncidentRow)) == 1
        sent = s.scalars(select(NotificationRow.status).where(NotificationRow.kind == "new_incident")).all()
    assert sent and set(sent) == {"sent"}
    out = runtime.settings.data_file("notifications.jsonl").read_text(encoding="utf-8").splitlines()
    # the alert only: the 08:30 digest was due before this instance's first tick (09:05)
    assert [json.loads(line)["kind"] for line in out] == ["new_incident"]
    service.release_lease(runtime, "me")


def test_jobs_are_stored_once_and_coalesce(runtime: Runtime) -> None:
    for _ in range(2):  # a restart re-declares the same jobs, never duplicates
        scheduler = service.build_scheduler(runtime, blocking=False)
        ids = service.add_jobs(scheduler, runtime)
        scheduler.start(paused=True)
        scheduler.shutdown(wait=False)
    assert {"lease", "process", "tick", "send"} <= set(ids)
    assert service.JOBS_TABLE in inspect(runtime.engine).get_table_names()
    with runtime.engine.connect() as conn:
        stored = [r[0] for r in conn.execute(text(f"SELECT id FROM {service.JOBS_TABLE}"))]
    assert sorted(stored) == sorted(ids)
    scheduler = service.build_scheduler(runtime, blocking=False)
    scheduler.start(paused=True)
    try:
        tick = scheduler.get_job("tick")
        assert tick.coalesce is True and tick.max_instances == 1
    finally:
        scheduler.shutdown(wait=False)
