"""Kill the worker between outbox write and send (or between send and mark), restart:
each notification arrives exactly once; the claim's heartbeat and staleness (one minute); a row
whose senders all died becomes a dead letter unless its channel finds it delivered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from alerting.sender import send_due
from tests.alerting.conftest_notify import T0, add_incident
from yuqing.db.models import NotificationRow
from yuqing.settings import ROOT

# enqueue in one transaction, claim in another, optionally send, then die without marking
CHILD = """
import os, signal, sys
from alerting.channels.registry import make_channel
from alerting.outbox import enqueue
from alerting.sender import _load_note, claim_due
from yuqing.db.models import IncidentRow
from yuqing.runtime import Runtime
from yuqing.timeutil import parse_datetime

now = parse_datetime(sys.argv[1]); incident_id = int(sys.argv[2]); send_first = sys.argv[3] == "send"
rt = Runtime.load()
with rt.session() as s:
    enqueue(s, kind="new_incident", incident=s.get(IncidentRow, incident_id), text="新事件", now=now,
            settings=rt.settings, dedupe_key="crash")
types = {c.name: c.type for c in rt.settings.channels}
for item in claim_due(rt, now, "doomed-worker"):
    if send_first:
        note = _load_note(rt, item.id, "doomed-worker", types)
        channel = next(c for c in rt.settings.channels if c.name == note.channel)
        make_channel(channel, rt.settings).send(note, now)
os.kill(os.getpid(), signal.SIGKILL)
"""


def run_child(incident_id: int, mode: str) -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD, T0.isoformat(), str(incident_id), mode],
                          cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


@pytest.mark.parametrize("mode", ["claim", "send"])
def test_killed_worker_then_restart_sends_exactly_once(make_runtime, monkeypatch, webhook_server, slack_server,
                                                       mode):
    monkeypatch.setenv("YUQING_TEST_WEBHOOK", f"{webhook_server.url}/hook?key=k")
    rt = make_runtime([
        {"name": "file", "type": "file", "path": "out.jsonl"},
        {"name": "slack", "type": "slack", "token_env": "YUQING_TEST_SLACK_TOKEN", "channel": "C0DUTY",
         "base_url": slack_server.url + "/api/"},
        # a webhook cannot be asked what it received: it is only covered when killed before sending
        *([{"name": "wecom", "type": "wecom", "webhook_env": "YUQING_TEST_WEBHOOK"}] if mode == "claim" else []),
    ], claim_timeout_seconds=60)
    inc = add_incident(rt, severity=3)
    run_child(inc, mode)

    with rt.session() as s:
        rows = list(s.execute(select(NotificationRow)).scalars())
    assert rows and {r.status for r in rows} == {"sending"} and {r.claimed_by for r in rows} == {"doomed-worker"}
    out = rt.settings.data_file("out.jsonl")
    delivered_before = 1 if mode == "send" else 0
    assert len(slack_server.messages) == delivered_before
    assert (len(out.read_text(encoding="utf-8").splitlines()) if out.exists() else 0) == delivered_before

    assert send_due(rt, T0 + timedelta(seconds=59)).claimed == 0  # a live worker's claim is respected
    report = send_due(rt, T0 + timedelta(seconds=61), worker_id="restarted")  # one minute without a beat
    assert report.sent == len(rows), report.errors
    assert report.already_delivered == (len(rows) if mode == "send" else 0)
    assert send_due(rt, T0 + timedelta(hours=1)).claimed == 0

    assert len(slack_server.messages) == 1
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["incident_id"] == inc
    if mode == "claim":
        assert len(webhook_server.posts()) == 1


def test_two_workers_never_claim_the_same_row(make_runtime):
    rt = make_runtime([{"name": "file", "type": "file", "path": "out.jsonl"}])
    inc = add_incident(rt)
    from alerting.outbox import enqueue
    from alerting.sender import claim_due
    from tests.alerting.conftest_notify import incident_row

    with rt.session() as s:
        for i in range(5):
            enqueue(s, kind="reminder", incident=incident_row(rt, inc), text=f"提醒{i}", now=T0,
                    settings=rt.settings, dedupe_key=f"r{i}", extra={"subkind": f"s{i}"})
    first = claim_due(rt, T0, "w1", limit=3)
    second = claim_due(rt, T0, "w2")
    assert len(first) == 3 and len(second) == 2
    assert not {c.id for c in first} & {c.id for c in second}


def _file_rows(rt, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    from alerting.outbox import enqueue
    from tests.alerting.conftest_notify import incident_row

    inc = add_incident(rt)
    with rt.session() as s:
        for i in range(n):
            enqueue(s, kind="reminder", incident=incident_row(rt, inc), text=f"提醒{i}", now=T0,
                    settings=rt.settings, dedupe_key=f"r{i}", extra={"subkind": f"s{i}"})
        return list(s.scalars(select(NotificationRow.id).order_by(NotificationRow.id)))


def test_heartbeat_keeps_a_live_senders_claims(make_runtime):
    from alerting.sender import claim_due, heartbeat_interval, renew_claims

    rt = make_runtime([{"name": "file", "type": "file", "path": "out.jsonl"}], claim_timeout_seconds=60)
    ids = _file_rows(rt, 3)
    assert heartbeat_interval(rt.settings) == 15
    assert len(claim_due(rt, T0, "slow")) == 3
    # the slow sender beats every 15 s: two minutes later its rows are still its own
    for seconds in range(15, 121, 15):
        assert renew_claims(rt, ids, "slow", T0 + timedelta(seconds=seconds)) == 3
        assert claim_due(rt, T0 + timedelta(seconds=seconds + 59), "other") == []
    # it dies after its last beat (T0+120 s): a minute later its rows are retaken
    assert claim_due(rt, T0 + timedelta(seconds=179), "other") == []
    assert {c.id for c in claim_due(rt, T0 + timedelta(seconds=181), "other")} == set(ids)
    assert renew_claims(rt, ids, "slow", T0 + timedelta(seconds=182)) == 0  # the dead one's beat is void


def test_send_due_renews_the_claims_of_rows_still_waiting(make_runtime):
    rt = make_runtime([{"name": "file", "type": "file", "path": "out.jsonl"}], claim_timeout_seconds=0.02)
    _file_rows(rt, 12)  # each file write is fsynced: the batch outlives the 5 ms heartbeat interval
    report = send_due(rt, T0)
    assert report.sent == 12, report.errors
    with rt.session() as s:
        claimed = list(s.scalars(select(NotificationRow.claimed_at).order_by(NotificationRow.id)))
    assert claimed[0] == T0 and max(claimed) > T0  # the later rows were renewed while they waited
    assert len(rt.settings.data_file("out.jsonl").read_text(encoding="utf-8").splitlines()) == 12


@pytest.mark.parametrize("delivered", [False, True])
def test_a_row_whose_senders_all_die_is_a_dead_letter(make_runtime, delivered):
    from alerting.channels.registry import make_channel
    from alerting.sender import DEAD_REASON, _load_note, claim_due

    rt = make_runtime([{"name": "file", "type": "file", "path": "out.jsonl"}], claim_timeout_seconds=60)
    (row_id,) = _file_rows(rt, 1)
    max_attempts = rt.settings.notify.max_attempts
    for i in range(max_attempts):  # each sender claims it and dies (the last one after writing the line)
        when = T0 + timedelta(minutes=2 * i)
        assert [c.id for c in claim_due(rt, when, f"doomed-{i}")] == [row_id]
        if delivered and i == max_attempts - 1:
            note = _load_note(rt, row_id, f"doomed-{i}", {"file": "file"})
            make_channel(rt.settings.channels[0], rt.settings).send(note, when)
    report = send_due(rt, T0 + timedelta(minutes=2 * max_attempts), worker_id="survivor")
    with rt.session() as s:
        row = s.get(NotificationRow, row_id)
    out = rt.settings.data_file("out.jsonl")
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    if delivered:  # found delivered: recorded as sent, never sent again
        assert (row.status, report.sent, report.already_delivered, len(lines)) == ("sent", 1, 1, 1)
    else:  # not sent again: a dead letter with its reason
        assert (row.status, report.dead, len(lines)) == ("dead", 1, 0)
        assert row.last_error == DEAD_REASON.format(n=max_attempts) and "发送进程多次中断" in row.last_error
        assert row.attempts == max_attempts + 1 and row.claimed_by is None
    assert send_due(rt, T0 + timedelta(hours=5)).claimed == 0
