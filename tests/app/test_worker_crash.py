"""Stuck work after a crash: claim heartbeats, attempts counted at the claim, dead letters, and
20 kill -9 of the pipeline worker and the outbox sender together (real processes, real SQLite,
the file channel): no post lost, none processed twice, every notification delivered once."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from alerting.channels.base import Note
from alerting.channels.file import line_for
from alerting.sender import send_due
from app.worker import (
    DEAD_REASON,
    ISOLATE_AFTER,
    MAX_ATTEMPTS,
    STALE_CLAIM,
    ProcessReport,
    Worker,
    _apply,
    _classify,
    _index_and_finish,
    claim,
    process,
)
from tests.conftest import write_config
from yuqing.db.migrate import upgrade
from yuqing.db.models import ClassificationRow, IncidentPostRow, LeaseRow, NotificationRow, PostRow
from yuqing.domain import Post
from yuqing.runtime import Runtime
from yuqing.settings import ROOT, load_settings
from yuqing.store import store_posts
from yuqing.timeutil import SimClock

T0 = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


def _post(pid: str, text: str, when: datetime, category: str = "rights", severity: int = 2) -> Post:
    return Post.model_validate({"id": pid, "platform": "weibo", "text": text, "category": category,
                                "severity": severity, "published_at": when.isoformat()})


def _store(rt: Runtime, posts: list[Post], now: datetime) -> None:
    with rt.session() as s:
        store_posts(s, posts, now)


def _status(rt: Runtime) -> dict[str, tuple[str, int, str | None]]:
    with rt.session() as s:
        return {r.id: (r.status, r.attempts, r.error) for r in s.scalars(select(PostRow))}


def _wait_for(predicate, seconds: float = 10.0, poll: float = 0.005) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(poll)


# -- heartbeat ----------------------------------------------------------------------------------
def test_a_live_slow_worker_keeps_its_posts(runtime: Runtime) -> None:
    runtime.clock = SimClock(T0)
    _store(runtime, [_post(f"p{i}", f"湖南邵阳女子遭家暴重伤{i}", T0) for i in range(3)], T0)
    worker = Worker(runtime, heartbeat_seconds=0.01)
    ids = claim(runtime, 10, T0)
    worker.heartbeat.hold(ids, T0)
    worker.heartbeat.start()
    try:
        for _ in range(6):  # three minutes of a slow classification: the heartbeat keeps beating
            runtime.clock.advance(timedelta(seconds=30))
            beats = worker.heartbeat.beats
            _wait_for(lambda b=beats: worker.heartbeat.beats >= b + 2)
            assert claim(runtime, 10, runtime.clock.now()) == []  # another worker finds nothing stale
    finally:
        worker.heartbeat.stop()
    with runtime.session() as s:
        rows = list(s.scalars(select(PostRow)))
        classes, errors, emb = _classify(worker, rows, ProcessReport())
    report = ProcessReport()
    good = _apply(worker, ids, classes, emb, report)
    _index_and_finish(worker, good, report)
    assert sorted(good) == sorted(ids) and report.done == 3
    assert {v[:2] for v in _status(runtime).values()} == {("done", 0)}  # attempts restart after success


def test_a_dead_workers_posts_are_retaken_after_one_minute(runtime: Runtime) -> None:
    runtime.clock = SimClock(T0)
    _store(runtime, [_post("p1", "江西南昌一幼儿园女童坠楼身亡", T0)], T0)
    assert claim(runtime, 10, T0) == ["p1"]  # ... and the worker dies: no heartbeat any more
    assert STALE_CLAIM == timedelta(minutes=1)
    runtime.clock.advance(timedelta(seconds=59))
    assert process(runtime).claimed == 0
    runtime.clock.advance(timedelta(seconds=2))
    report = process(runtime)
    assert (report.claimed, report.done) == (1, 1)
    assert _status(runtime)["p1"][:2] == ("done", 0)


def test_a_worker_that_lost_its_claim_never_applies_or_finishes(runtime: Runtime) -> None:
    """A stalls for over a minute (no beat), B retakes and finishes: A's late steps are no-ops."""
    runtime.clock = SimClock(T0)
    _store(runtime, [_post("p1", "江西南昌一幼儿园女童坠楼身亡", T0)], T0)
    slow = Worker(runtime)
    ids = claim(runtime, 10, T0)
    slow.heartbeat.hold(ids, T0)
    with runtime.session() as s:
        classes, _, emb = _classify(slow, list(s.scalars(select(PostRow))), ProcessReport())
    runtime.clock.advance(timedelta(seconds=61))
    assert process(runtime).done == 1  # B
    late = ProcessReport()
    assert _apply(slow, ids, classes, emb, late) == []
    _index_and_finish(slow, ids, late)
    assert late.done == 0 and late.opened == 0
    assert slow.heartbeat.beat() == 0  # its heartbeat finds the claim gone
    with runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(IncidentPostRow)) == 1


# -- dead letters ----------------------------------------------------------------------------
# a real worker process that dies (SIGKILL) when the engine opens the incident of one poison post
POISON_CHILD = """
import os, signal, sys
from yuqing import hooks
from app.worker import Worker, process
from yuqing.runtime import Runtime
from yuqing.timeutil import SimClock, parse_datetime

def _die(session, incident, stage, now, settings):
    if "致命测试帖" in (incident.title or ""):
        os.kill(os.getpid(), signal.SIGKILL)

hooks.on_stage_entered(_die)
rt = Runtime.load(clock=SimClock(parse_datetime(sys.argv[1])))
print(process(rt, worker=Worker(rt, indexing=False)).summary(), flush=True)  # the index is not the point
"""


def test_a_post_that_always_kills_its_worker_ends_dead(runtime: Runtime, config_file: Path) -> None:
    _store(runtime, [_post("good", "湖南邵阳女子遭家暴重伤，妇联介入", T0 - timedelta(minutes=5), "rights", 3),
                     _post("poison", "致命测试帖：某地网传女童失踪", T0)], T0)
    kills = 0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        when = T0 + attempt * 2 * STALE_CLAIM  # each run after the previous claim went stale
        proc = subprocess.run([sys.executable, "-c", POISON_CHILD, when.isoformat()], cwd=ROOT,
                              env=dict(os.environ), capture_output=True, text=True, timeout=120)
        assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
        kills += 1
        state = _status(runtime)
        assert state["poison"][:2] == ("processing", attempt)  # counted at the claim, before the crash
        # runs 1 and 2 had both in one batch; from run 3 on a post goes alone: the good one gets through
        assert state["good"][0] == ("processing" if attempt <= ISOLATE_AFTER else "done")
    runtime.clock = SimClock(T0 + (MAX_ATTEMPTS + 1) * 2 * STALE_CLAIM)
    report = process(runtime)
    assert report.claimed == 0 and report.dead == 0  # dead-lettered at the claim, never handed out
    status, attempts, error = _status(runtime)["poison"]
    assert (status, attempts, kills) == ("dead", MAX_ATTEMPTS, MAX_ATTEMPTS)
    assert error == DEAD_REASON.format(n=MAX_ATTEMPTS) and "处理进程多次中断" in error
    assert process(runtime).claimed == 0 and _status(runtime)["poison"][0] == "dead"


# -- 20 kill -9 of worker and sender together ----------------------------------------------------
SENDER_LOOP = """
import time
from alerting.sender import send_due
from yuqing.runtime import Runtime
rt = Runtime.load()
while True:
    if not send_due(rt, limit=20).claimed:
        time.sleep(0.05)
"""
EVENTS = ["江西南昌{}幼儿园女童坠楼身亡", "湖南邵阳{}女子遭家暴重伤", "河南周口{}女职工被辞退维权",
          "广东东莞{}女童遭猥亵案", "四川凉山{}留守儿童辍学", "山东临沂{}拐卖妇女案",
          "浙江温州{}女子网暴自杀", "云南昭通{}少女被逼婚", "江苏徐州{}铁链女后续", "陕西榆林{}产妇坠楼"]
CATEGORIES = ["rights", "rights", "work", "rights", "policy", "rights", "image", "rights",
              "emergency", "emergency"]


def _arrivals(now: datetime, rnd: random.Random, start: int, count: int) -> list[Post]:
    out = []
    for i in range(start, start + count):
        if i % 3 == 2:
            out.append(_post(f"k{i}", f"妇联举办第{i}期读书会", now, "none", 0))
        else:
            event = rnd.randrange(len(EVENTS))
            out.append(_post(f"k{i}", EVENTS[event].format("某地") + f"，网友第{i}条评论",
                             now - timedelta(minutes=rnd.randrange(30)), CATEGORIES[event], rnd.choice([2, 2, 3, 4])))
    return out


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_twenty_kills_of_worker_and_sender_lose_nothing_and_send_once(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(20260302)
    config = write_config(tmp_path, {
        "engine": {"group_window_days": 14, "similarity_threshold": 0.5, "batch_size": 6},
        "notify": {"claim_timeout_seconds": 60, "max_attempts": 8, "retry_base_seconds": 30,
                   "repeat_suppression_minutes": 60, "digest_times": []},
    })
    monkeypatch.setenv("YUQING_CONFIG", str(config))
    monkeypatch.delenv("YUQING_DATABASE_URL", raising=False)
    monkeypatch.delenv("YUQING_DATA_DIR", raising=False)
    env = {**os.environ, "YUQING_CONFIG": str(config), "TOKENIZERS_PARALLELISM": "false"}
    rt = Runtime(load_settings(config))
    upgrade(rt.engine)
    logs = tmp_path / "children.log"
    started = time.monotonic()
    kills = rounds = posts = 0
    worker_kills = sender_kills = 0
    while kills < 20 and rounds < 40:
        rounds += 1
        now = rt.clock.now()
        batch = _arrivals(now, rnd, posts, 15)
        posts += len(batch)
        _store(rt, batch, now)
        if rounds > 1:  # the crawler sees a few old posts spread: re-queued, heat follows
            old = [f"k{i}" for i in rnd.sample(range(posts - 15), 3)]
            with rt.session() as s:
                s.execute(update(PostRow).where(PostRow.id.in_(old), PostRow.status == "done")
                          .values(status="pending", reposts=func.coalesce(PostRow.reposts, 0) + 500)
                          .execution_options(synchronize_session=False))
        worker = _spawn(["-m", "app.cli", "process"], env, logs)
        sender = _spawn(["-c", SENDER_LOOP], env, logs)
        round_start = rt.clock.now()

        # odd rounds: a random moment after the first claim (inside the first batch); even rounds: after
        # the first batch of the round is done (a later batch, the tick or the sending)
        column = PostRow.claimed_at if rounds % 2 else PostRow.processed_at

        def working(since: datetime = round_start, proc: subprocess.Popen = worker,
                    column=column) -> bool:  # type: ignore[no-untyped-def]
            with rt.session() as s:
                return bool(s.scalar(select(func.count()).select_from(PostRow)
                                     .where(column >= since))) or proc.poll() is not None
        try:
            _wait_for(working, 90, poll=0.02)
            time.sleep(rnd.uniform(0.0, 1.5))  # a random moment of the work
        finally:
            alive = worker.poll() is None
            for proc in (worker, sender):
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        if alive:
            kills += 1
            worker_kills += 1
        sender_kills += 1
        # every process is dead now: let one stale-claim time pass for the rows and the lease they held
        shift = timedelta(seconds=61)
        with rt.session() as s:
            for table in (PostRow, NotificationRow):
                for row in s.scalars(select(table).where(table.claimed_at.is_not(None))):
                    row.claimed_at = row.claimed_at - shift
            for lease in s.scalars(select(LeaseRow)):
                lease.expires_at = lease.expires_at - shift
    # the survivors: one clean worker run, then the sender until the outbox is drained
    final = subprocess.run([sys.executable, "-m", "app.cli", "process"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr
    while send_due(rt).claimed:
        pass
    elapsed = time.monotonic() - started

    with rt.session() as s:
        state = {r.id: (r.status, r.error) for r in s.scalars(select(PostRow))}
        memberships = collections.Counter(s.scalars(select(IncidentPostRow.post_id)))
        classified = collections.Counter(s.scalars(select(ClassificationRow.post_id)))
        rows = list(s.scalars(select(NotificationRow)))
    out = rt.settings.data_file("notifications.jsonl")
    lines = collections.Counter(out.read_text(encoding="utf-8").splitlines() if out.exists() else [])
    sent = [r for r in rows if r.status == "sent"]
    by_status = collections.Counter(r.status for r in rows)
    expected = {line_for(Note(id=r.id, dedupe_key=r.dedupe_key, kind=r.kind, channel=r.channel,
                              payload=dict(r.payload or {}))) for r in sent}
    new_incident = collections.Counter((r.incident_id, r.channel) for r in sent if r.kind == "new_incident")
    incidents = {r.incident_id for r in rows if r.kind == "new_incident"}

    lost = [pid for pid, (status, error) in state.items() if status != "done" and not (status == "dead" and error)]
    dead = [pid for pid, (status, _) in state.items() if status == "dead"]
    duplicates = (sum(n - 1 for n in memberships.values() if n > 1) + sum(n - 1 for n in lines.values() if n > 1)
                  + sum(n - 1 for n in new_incident.values() if n > 1))
    print(f"\nkill -9: {kills} kills of worker and sender together in {rounds} rounds "
          f"({worker_kills} worker, {sender_kills} sender), {posts} posts in {elapsed:.0f} s; "
          f"posts done {sum(1 for s_, _ in state.values() if s_ == 'done')}, dead letters {len(dead)}, "
          f"lost {len(lost)}, duplicates {duplicates}; notifications {dict(by_status)}, "
          f"file lines {sum(lines.values())}, incidents alerted {len(incidents)}")
    assert kills == 20, logs.read_text(encoding="utf-8", errors="replace")[-3000:]
    assert sent, logs.read_text(encoding="utf-8", errors="replace")[-3000:] + final.stdout + final.stderr
    assert len(state) == posts and not lost, lost[:5]
    assert all(DEAD_REASON.split("：")[0] in (state[pid][1] or "") for pid in dead)
    assert duplicates == 0
    assert max(classified.values(), default=1) <= 2  # at most a re-classification, never a duplicate pass
    assert by_status.get("pending", 0) == 0 and by_status.get("sending", 0) == 0, by_status
    assert by_status.get("dead", 0) == 0, [r.last_error for r in rows if r.status == "dead"][:3]
    # exactly once: every sent row's line is in the file exactly once, and nothing else is
    assert set(lines) == expected and sum(lines.values()) == len(sent)
    assert len({r.dedupe_key for r in sent}) == len(sent)
    assert set(new_incident.values()) == {1} and len(new_incident) == len(incidents) > 5
    rt.close()
