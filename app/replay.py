"""`yuqing replay`: a scenario (posts and actions) on a simulated clock, in a throw-away instance.

Each post arrives at its ``fetched_at`` (else ``published_at``); between arrivals the clock moves
in steps of at most ``step`` (30 simulated minutes) and to every moment something is due
(reminder, deadline, acknowledgement timeout, quiet-aftermath reminder), running what the
scheduler would run: the pipeline, the clock tick and the outbox sender, whose only channel is a
file channel writing OUT. Nothing touches the configured database, index or channels.

An action the engine refuses (an incident already closed, a checklist guard, a bad field) is
recorded as ``line N: reason`` in the report's errors and the replay goes on to the end; OUT and
INC are written in every case (the CLI prints the errors on stderr and exits 2 at the end).
Notification kinds in OUT are those of ``alerting.outbox.KINDS`` (the contract's list, with
``checklist_overdue`` for overdue checklist items; ``reminder`` is only the clock's).

Federation units come from the scenario's settings (``units:``); every unit's notifications go to
the one file channel, and with units configured each OUT line also carries ``"unit"``: the id of
the unit it went to (the owner, or the parent for a 上报 copy: a breach, or severity >= 3). An
action ``{"action": "move", "post_id", "unit", "reason", "at"}`` moves the post's incident to
another unit by hand (``yuqing incidents move``).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from app import wiring  # noqa: F401  (the playbooks' engine hooks)
from yuqing.errors import InputError
from yuqing.settings import ChannelSettings, Settings, load_settings
from yuqing.timeutil import SimClock, parse_datetime, to_utc
from yuqing.validation import LineError, loads_line, post_from_obj

ACTIONS = ("ack", "advance", "respond", "dismiss", "close", "move")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)?\s*$", re.I)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """'24h', '90m', '2d', '30s', '1.5h' (a bare number is hours)."""
    match = _DURATION.match(text or "")
    if not match:
        raise InputError(f"时长格式无效: {text!r}（例如 24h、90m、2d）")
    unit = (match.group(2) or "h").lower()
    return timedelta(seconds=float(match.group(1)) * _UNITS[unit])


@dataclass
class Event:
    at: datetime
    line: int
    post: Any = None  # yuqing.domain.Post
    action: dict[str, Any] | None = None


@dataclass
class ReplayReport:
    posts: int = 0
    actions: int = 0
    notifications: int = 0
    incidents: int = 0
    errors: list[str] = field(default_factory=list)
    started: datetime | None = None
    ended: datetime | None = None


def read_scenario(stream: IO[str]) -> tuple[list[Event], list[LineError]]:
    events: list[Event] = []
    errors: list[LineError] = []
    for number, raw in enumerate(stream, start=1):
        line = raw.strip()
        if not line:
            continue
        try:  # every refusal (decoding, an action's fields, a post's fields) is a ValueError with a reason
            obj = loads_line(line)
            if isinstance(obj, dict) and "action" in obj:
                events.append(_action(obj, number))
                continue
            post = post_from_obj(obj)
        except ValueError as exc:
            errors.append(LineError(number, str(exc)))
            continue
        when = post.fetched_at or post.published_at
        if when is None:
            errors.append(LineError(number, "帖子缺少 fetched_at 与 published_at，无法确定到达时间"))
            continue
        events.append(Event(to_utc(when), number, post=post))
    events.sort(key=lambda e: (e.at, e.line))
    return events, errors


def _action(obj: dict[str, Any], number: int) -> Event:
    name = obj.get("action")
    if name not in ACTIONS:
        raise ValueError(f"字段 action 无效: {name!r}（应为 {'/'.join(ACTIONS)} 之一）")
    if not obj.get("post_id"):
        raise ValueError("动作缺少必填字段: post_id")
    try:
        at = to_utc(parse_datetime(obj.get("at")))
    except ValueError as exc:
        raise ValueError(f"字段 at 无效: {exc}") from None
    if name == "dismiss" and not str(obj.get("reason") or "").strip():
        raise ValueError("dismiss 动作缺少必填字段: reason")
    if name == "move" and not str(obj.get("unit") or "").strip():
        raise ValueError("move 动作缺少必填字段: unit")
    if obj.get("response_at"):
        try:
            parse_datetime(obj["response_at"])
        except ValueError as exc:
            raise ValueError(f"字段 response_at 无效: {exc}") from None
    return Event(at, number, action=obj)


def replay_settings(base: Settings, data_dir: Path, notify_file: Path) -> Settings:
    """The configured knobs (clock, roster, engine, notify) with a private data dir and one file channel."""
    data = base.model_dump(exclude={"source_path"})
    data.update(database_url=None, data_dir=str(data_dir), sources=[])
    data["index"] = {**data["index"], "backend": "embedded"}
    # the model lives in the configured instance (models cache under its data dir), not in the throw-away one
    data["classifier"] = {**data["classifier"],
                          "base_dir": str(base.data_file(base.classifier.base_dir)),
                          "model_dir": str(base.resolve(base.classifier.model_dir))}
    data["channels"] = [ChannelSettings(name="replay", type="file", path=str(notify_file.resolve()),
                                        min_severity=0).model_dump()]
    for unit in data.get("units") or []:  # every unit's notifications go to the one file (each line names it)
        unit["channels"] = []
    settings = Settings.model_validate(data)
    settings.source_path = base.source_path
    return settings


class Replayer:
    def __init__(self, settings: Settings, start: datetime, step: timedelta, classifier: Any = None) -> None:
        from sqlalchemy import event

        from app.worker import Worker
        from yuqing.db.migrate import upgrade
        from yuqing.runtime import Runtime

        self.clock = SimClock(start)
        self.rt = Runtime(settings, self.clock)

        @event.listens_for(self.rt.engine, "connect")
        def _fast(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.execute("PRAGMA synchronous=OFF")  # a throw-away database: no need to survive a crash

        upgrade(self.rt.engine)
        self.step = step
        self.worker = Worker(self.rt, classifier, indexing=False)  # the index is derived, not replayed
        self.report = ReplayReport(started=start)

    def jobs(self, pipeline: bool = False) -> None:
        """What the scheduler runs: pipeline (only when posts arrived), clock tick, outbox sender."""
        from alerting.engine.core import tick
        from alerting.sender import send_due
        from app.worker import process

        now = self.clock.now()
        if pipeline:
            result = process(self.rt, worker=self.worker)
            if result.released:  # posts without category/severity and no usable classifier
                from yuqing.errors import YuqingError

                raise YuqingError("场景中有未带 category/severity 的帖子，需要分类模型："
                                  + (self.worker._classifier_error or "分类模型不可用"))
            self.report.errors += [e for e in result.errors if e not in self.report.errors]
        with self.rt.session() as s:
            tick(s, now, self.rt.settings)
        sent = send_due(self.rt, now)
        self.report.notifications += sent.sent
        self.report.errors += sent.errors

    def advance_to(self, target: datetime) -> None:
        from alerting.engine.core import next_due

        while self.clock.now() < target:
            now = self.clock.now()
            with self.rt.session() as s:
                due = next_due(s, now, self.rt.settings)
            nxt = min(t for t in (now + self.step, due, target) if t is not None)
            self.clock.set(nxt)
            self.jobs()

    def post(self, event: Event) -> None:
        from yuqing.store import store_posts

        with self.rt.session() as s:
            store_posts(s, [event.post], self.clock.now(), source="replay")
        self.report.posts += 1

    def act(self, event: Event) -> None:
        from alerting import actions
        from alerting.engine.grouping import incident_of_post
        from yuqing.errors import YuqingError

        obj = event.action or {}
        now = self.clock.now()
        actor = str(obj.get("by") or obj.get("actor") or "值班员")
        try:
            with self.rt.session() as s:
                incident = incident_of_post(s, str(obj["post_id"]))
                if incident is None:
                    raise YuqingError(f"帖子 {obj['post_id']} 不属于任何事件，动作 {obj['action']} 未执行")
                name = obj["action"]
                settings = self.rt.settings
                if name == "ack":
                    actions.ack(s, incident.id, actor, now)
                elif name == "advance":
                    actions.advance(s, incident.id, actor, now, reason=str(obj.get("reason") or ""),
                                    override_reason=obj.get("override_reason") or "场景回放", settings=settings)
                elif name == "respond":
                    at = to_utc(parse_datetime(obj["response_at"])) if obj.get("response_at") else now
                    actions.respond(s, incident.id, actor, now, obj.get("url"), at=at,
                                    text=str(obj.get("text") or ""), settings=settings)
                elif name == "dismiss":
                    actions.dismiss(s, incident.id, actor, now, str(obj.get("reason")), settings=settings)
                elif name == "move":
                    from alerting import units

                    units.move(s, incident.id, str(obj["unit"]), actor, now,
                               str(obj.get("reason") or "场景回放移交"), settings)
                elif name == "close":
                    actions.close(s, incident.id, actor, now, reason=str(obj.get("reason") or "场景回放关闭"),
                                  settings=settings)
            self.report.actions += 1
        except (YuqingError, ValueError) as exc:  # refused: reported, and the replay goes on
            self.report.errors.append(f"line {event.line}: {exc}")

    def write_incidents(self, path: Path) -> None:
        from alerting.engine.incident_json import incident_json, list_incidents

        with self.rt.session() as s:
            rows = [incident_json(s, i) for i in list_incidents(s)]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for obj in rows:
                fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.report.incidents = len(rows)


def replay(scenario: Path, notify_file: Path, incidents_file: Path, *, tail: timedelta = timedelta(hours=24),
           settings: Settings | None = None, step: timedelta = timedelta(minutes=30),
           classifier: Any = None, keep_dir: Path | None = None) -> ReplayReport:
    """Run ``scenario`` and write OUT (notifications) and INC (incidents); see the module docstring."""
    if not scenario.exists():
        raise InputError(f"场景文件不存在: {scenario}")
    try:
        with scenario.open(encoding="utf-8") as fh:
            events, line_errors = read_scenario(fh)
    except UnicodeDecodeError as exc:
        raise InputError(f"{scenario}: 不是 UTF-8 编码（位置 {exc.start}）") from None
    base = settings or load_settings()
    notify_file.parent.mkdir(parents=True, exist_ok=True)
    notify_file.write_text("", encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="yuqing-replay-")) if keep_dir is None else keep_dir
    try:
        if not events:
            incidents_file.write_text("", encoding="utf-8")
            report = ReplayReport()
            report.errors = [str(e) for e in line_errors]
            return report
        start = events[0].at - timedelta(seconds=1)
        player = Replayer(replay_settings(base, work, notify_file), start, step, classifier)
        player.report.errors += [str(e) for e in line_errors]
        try:
            try:
                for event in events:
                    player.advance_to(event.at)
                    if event.post is not None:
                        player.post(event)
                        player.jobs(pipeline=True)
                    else:
                        player.act(event)
                        player.jobs()
                player.advance_to(events[-1].at + tail)
                player.report.ended = player.clock.now()
            finally:  # both output files exist whatever happened
                player.write_incidents(incidents_file)
        finally:
            player.worker.close()
            player.rt.close()
        return player.report
    finally:
        if keep_dir is None:
            shutil.rmtree(work, ignore_errors=True)
