"""The outbox worker: claim due notifications, send each through its channel, record the result.

Protocol (every step its own short transaction, so a crash anywhere leaves a consistent row):

1. claim: rows ``pending`` with ``not_before <= now`` (or ``sending`` whose claim is older than
   ``notify.claim_timeout_seconds``, one minute is enough: their worker died) become ``sending``
   with ``claimed_by``, ``claimed_at`` and ``attempts + 1``. The UPDATE is guarded by the row's
   previous state, so two workers never both win a row. Attempts are counted here, at the claim,
   so a row whose sending kills the worker outright is counted too.
   Heartbeat: before each send, when ``heartbeat_interval`` (a quarter of the timeout, at most
   15 s) has passed, the worker moves ``claimed_at`` of the rows it still holds to the present, so
   a batch that takes long never looks dead; a killed sender's rows are retaken one timeout after
   its last beat.
2. send outside any transaction. A row that had an earlier attempt is first checked with the
   channel's ``already_sent`` (Slack: message metadata in the channel/thread; file: the exact
   line); if it was delivered, it is only marked ``sent``. A stale row already claimed
   ``max_attempts`` times (each of its senders died) is not sent again: unless ``already_sent``
   finds it delivered, it becomes ``dead`` — a dead letter, shown in 管理 with its reason.
3. mark ``sent`` (with ``external_id``), or back to ``pending`` with exponential back-off
   (``retry_base_seconds * 2**(attempts-1)``, capped at 6 h; a 429's Retry-After is honoured and
   not counted as an attempt), or ``dead`` after ``max_attempts`` or on a permanent error.

Guarantees per channel: slack and file are exactly-once; console, wecom, dingtalk, feishu and
email are exactly-once except when the worker dies after the remote side accepted the message
and before step 3 commits — then they are sent again (at-least-once; e-mail keeps the same
Message-ID). A crash before or during the claim never loses a notification.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from alerting.channels.base import Channel, Note, SendError
from alerting.channels.registry import make_channel
from yuqing.db.models import NotificationRow
from yuqing.runtime import worker_id as runtime_worker_id
from yuqing.settings import Person, Settings
from yuqing.timeutil import to_utc

MAX_BACKOFF = timedelta(hours=6)
DEFAULT_BATCH = 100
HEARTBEAT_EVERY = 15.0  # seconds, at most; a quarter of notify.claim_timeout_seconds when that is shorter
DEAD_REASON = ("发送进程多次中断：该通知已被认领 {n} 次仍未发送完成（进程崩溃、内存耗尽或被强制结束），"
               "渠道未查到已送达记录，已转入死信，不再自动重试；请检查后在“管理 → 死信”中重新排队")


@dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    already_delivered: int = 0  # found delivered by an earlier, interrupted attempt
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"认领 {self.claimed} 条，发送成功 {self.sent} 条（其中此前已送达 {self.already_delivered} 条），"
                f"待重试 {self.retried} 条，放弃 {self.dead} 条")


def backoff(settings: Settings, attempts: int) -> timedelta:
    seconds = settings.notify.retry_base_seconds * (2 ** max(0, attempts - 1))
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


@dataclass
class Claimed:
    id: int
    reclaimed: bool  # an earlier attempt happened (stale claim or a failed try)
    attempts: int = 1  # counting this claim


def claim_due(rt: Any, now: datetime, worker_id: str, limit: int = DEFAULT_BATCH) -> list[Claimed]:
    """Mark due rows ``sending`` for ``worker_id`` in one short transaction; return what we won."""
    now = to_utc(now)
    stale = now - timedelta(seconds=rt.settings.notify.claim_timeout_seconds)
    won: list[Claimed] = []
    with rt.session() as s:
        candidates = s.execute(
            select(NotificationRow.id, NotificationRow.status, NotificationRow.claimed_at,
                   NotificationRow.attempts)
            .where(or_(
                and_(NotificationRow.status == "pending", NotificationRow.not_before <= now),
                and_(NotificationRow.status == "sending", NotificationRow.claimed_at < stale),
            ))
            .order_by(NotificationRow.not_before, NotificationRow.id)
            .limit(limit)
        ).all()
        for row_id, status, claimed_at, attempts in candidates:
            guard = [NotificationRow.id == row_id, NotificationRow.status == status]
            guard.append(NotificationRow.claimed_at.is_(None) if claimed_at is None
                         else NotificationRow.claimed_at == claimed_at)
            result = s.execute(
                update(NotificationRow).where(*guard)
                .values(status="sending", claimed_by=worker_id, claimed_at=now, attempts=attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                won.append(Claimed(row_id, reclaimed=status == "sending" or attempts > 0, attempts=attempts + 1))
    return won


def heartbeat_interval(settings: Settings) -> float:
    """Seconds between two renewals of a sender's claims."""
    return min(HEARTBEAT_EVERY, settings.notify.claim_timeout_seconds / 4)


def renew_claims(rt: Any, ids: list[int], worker_id: str, at: datetime) -> int:
    """Heartbeat: ``claimed_at = at`` for the rows of ``ids`` this worker still holds; returns how many."""
    if not ids:
        return 0
    with rt.session() as s:
        result = s.execute(
            update(NotificationRow)
            .where(NotificationRow.id.in_(ids), NotificationRow.status == "sending",
                   NotificationRow.claimed_by == worker_id)
            .values(claimed_at=to_utc(at)).execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)


def _people(settings: Settings, recipients: list[Any]) -> list[Person]:
    by_id = {p.id: p for p in settings.all_people()}
    out = []
    for ref in recipients or []:
        if isinstance(ref, str) and ref in by_id:
            out.append(by_id[ref])
        elif isinstance(ref, str) and "@" in ref:
            out.append(Person(id=ref, name=ref, email=ref))
    return out


def _thread_ts(s: Any, row: NotificationRow) -> str | None:
    """Slack: the ts of the incident's first message on this channel (the thread root)."""
    if row.incident_id is None:
        return None
    return s.execute(
        select(NotificationRow.external_id).where(
            NotificationRow.incident_id == row.incident_id, NotificationRow.channel == row.channel,
            NotificationRow.status == "sent", NotificationRow.external_id.is_not(None),
            NotificationRow.id != row.id)
        .order_by(NotificationRow.sent_at, NotificationRow.id).limit(1)
    ).scalar()


def _load_note(rt: Any, row_id: int, worker_id: str, channel_type: dict[str, str]) -> Note | None:
    with rt.session() as s:
        row = s.get(NotificationRow, row_id)
        if row is None or row.status != "sending" or row.claimed_by != worker_id:
            return None
        thread = _thread_ts(s, row) if channel_type.get(row.channel) == "slack" else None
        return Note(id=row.id, dedupe_key=row.dedupe_key, kind=row.kind, channel=row.channel,
                    payload=dict(row.payload or {}), recipients=_people(rt.settings, row.recipients),
                    thread_ts=thread, created_at=row.created_at)


def _mark(rt: Any, row_id: int, worker_id: str, **values: Any) -> bool:
    with rt.session() as s:
        result = s.execute(
            update(NotificationRow)
            .where(NotificationRow.id == row_id, NotificationRow.status == "sending",
                   NotificationRow.claimed_by == worker_id)
            .values(**values).execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def _fail(rt: Any, row_id: int, worker_id: str, now: datetime, error: SendError, report: SendReport) -> None:
    settings: Settings = rt.settings
    with rt.session() as s:
        row = s.get(NotificationRow, row_id)
        if row is None or row.status != "sending" or row.claimed_by != worker_id:
            return
        attempts = row.attempts
        message = str(error)
        if error.retry_after is not None:
            # rate limited: wait as told, do not count it as a failed attempt
            row.attempts = max(0, attempts - 1)
            row.status, row.not_before = "pending", now + timedelta(seconds=error.retry_after)
            report.retried += 1
        elif error.permanent or attempts >= settings.notify.max_attempts:
            row.status = "dead"
            report.dead += 1
        else:
            row.status, row.not_before = "pending", now + backoff(settings, attempts)
            report.retried += 1
        row.last_error = message[:2000]
        row.claimed_by = None
        report.errors.append(f"通知 #{row_id}（{row.channel}）: {message}")


def send_due(rt: Any, now: datetime | None = None, worker_id: str | None = None,
             limit: int = DEFAULT_BATCH) -> SendReport:
    """Send every due notification once. ``now`` defaults to ``rt.clock.now()``."""
    now = to_utc(now or rt.clock.now())
    worker_id = worker_id or runtime_worker_id()
    report = SendReport()
    claimed = claim_due(rt, now, worker_id, limit)
    report.claimed = len(claimed)
    if not claimed:
        return report
    configs = {c.name: c for c in rt.settings.all_channels()}  # units may have channels of their own
    channel_type = {c.name: c.type for c in configs.values()}
    channels: dict[str, Channel] = {}
    started = last_beat = time.monotonic()
    every = heartbeat_interval(rt.settings)
    max_attempts = rt.settings.notify.max_attempts
    try:
        for position, item in enumerate(claimed):
            if time.monotonic() - last_beat >= every:  # heartbeat: the rows still waiting stay ours
                last_beat = time.monotonic()
                renew_claims(rt, [c.id for c in claimed[position:]], worker_id,
                             now + timedelta(seconds=last_beat - started))
            note = _load_note(rt, item.id, worker_id, channel_type)
            if note is None:
                continue
            config = configs.get(note.channel)
            if config is None:
                _fail(rt, item.id, worker_id, now,
                      SendError(f"通道 {note.channel} 已不在配置中", permanent=True), report)
                continue
            channel = channels.get(note.channel) or channels.setdefault(
                note.channel, make_channel(config, rt.settings))
            try:
                external: str | None = None
                delivered: Any = channel.already_sent(note, now) if item.reclaimed else False
                if delivered:
                    external = delivered if isinstance(delivered, str) else None
                    report.already_delivered += 1
                elif item.attempts > max_attempts:  # every earlier sender died on it: a dead letter
                    if _mark(rt, item.id, worker_id, status="dead", claimed_by=None,
                             last_error=DEAD_REASON.format(n=item.attempts - 1)):
                        report.dead += 1
                        report.errors.append(f"通知 #{item.id}（{note.channel}）: "
                                             + DEAD_REASON.format(n=item.attempts - 1))
                    continue
                else:
                    external = channel.send(note, now)
            except SendError as exc:
                _fail(rt, item.id, worker_id, now, exc, report)
                continue
            if _mark(rt, item.id, worker_id, status="sent", sent_at=now, external_id=external,
                     last_error=None):
                report.sent += 1
    finally:
        for channel in channels.values():
            channel.close()
    return report
