"""`yuqing run`: the scheduler lease (two instances never both send), the persistent job store, one round."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, inspect, select, text

from app import service
from yuqing.db.models import IncidentRow, LeaseRow, NotificationRow, PostRow
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


def _pending_post(runtime: Runtime) -> None:
    with runtime.session() as s:
        store_posts(s, [Post.model_validate({"id": "p1", "platform": "weibo", "text": "江西南昌一幼儿园女童坠楼身亡",
                                             "category": "rights", "severity": 3,
                                             "published_at": runtime.clock.now().isoformat()})],
                    runtime.clock.now())


def test_process_command_sends_only_when_it_can_take_the_lease(runtime: Runtime) -> None:
    """`yuqing process` leaves the outbox to a running `yuqing run` (the lease holder), else sends."""
    from typer.testing import CliRunner

    from app.cli import app

    _pending_post(runtime)
    assert service.acquire_lease(runtime, "running-service", runtime.clock.now())
    out = CliRunner().invoke(app, ["process"])
    assert out.exit_code == 0, out.output
    assert "调度服务正在运行（持有调度租约），待发通知留给它发送" in out.output
    with runtime.session() as s:
        statuses = set(s.scalars(select(NotificationRow.status)))
        lease = s.get(LeaseRow, service.LEASE_NAME)
        assert lease is not None and lease.holder == "running-service"  # untouched
    assert statuses == {"pending"}
    assert not runtime.settings.data_file("notifications.jsonl").exists()

    # the service stopped (its lease released): the next `yuqing process` sends, then lets go of the lease
    service.release_lease(runtime, "running-service")
    out = CliRunner().invoke(app, ["process"])
    assert out.exit_code == 0, out.output
    assert "通知：认领" in out.output and "发送成功" in out.output
    with runtime.session() as s:
        assert set(s.scalars(select(NotificationRow.status))) == {"sent"}
        assert s.get(LeaseRow, service.LEASE_NAME) is None
    lines = runtime.settings.data_file("notifications.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["kind"] for line in lines].count("new_incident") == 1


def test_expired_lease_of_a_dead_service_does_not_block_sending(runtime: Runtime) -> None:
    from app.commands import send_if_leader

    _pending_post(runtime)
    from app.worker import process

    process(runtime)
    # a service died 2 minutes ago holding the lease: it has run out
    assert service.acquire_lease(runtime, "dead-service", runtime.clock.now() - timedelta(minutes=2))
    summary = send_if_leader(runtime)
    assert "发送成功 1 条" in summary, summary
    with runtime.session() as s:
        assert s.get(LeaseRow, service.LEASE_NAME) is None
