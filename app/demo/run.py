"""The demo loop: the real service against the replay site on a simulated, accelerated clock.

Per round (one simulated hour; four in ``fast`` mode) the site releases what was published
by then, the due sources are crawled by the real spiders (``scrapy crawl`` child processes
storing into the demo database), and the pipeline classifies, groups into incidents and
indexes. Between rounds the clock moves in steps of at most ``step_minutes`` and to every
moment something is due, running what ``yuqing run`` runs: the clock tick (heat, stages,
reminders, breaches, escalations) and the outbox sender (console + file channels). The duty
officers' actions of the bundled day (ack, respond, dismiss, close) are applied through
``alerting.actions`` at their time. Nothing sleeps: the clock is a SimClock.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from app import wiring  # noqa: F401  (the playbooks' engine hooks)
from app.demo.bundle import DemoAction, DemoDay, load_day
from yuqing.errors import YuqingError
from yuqing.runtime import Runtime
from yuqing.settings import ROOT, Settings, load_settings
from yuqing.timeutil import SHANGHAI, SimClock, fmt_local, to_shanghai

DEMO_USER = "demo"
DEMO_PASSWORD = "yuqing-demo"
FAST_CRAWL = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1,
              "YUQING_RETRY_BACKOFF_BASE": 0, "LOG_LEVEL": "INFO", "YUQING_STORE": "1"}


@dataclass
class DemoOptions:
    demo_dir: Path = ROOT / "var" / "demo"
    fast: bool = False  # shortened day: core posts, four crawl rounds
    labels: str = "auto"  # auto (model if available, else the bundled labels) | model | given
    day: date | None = None  # default: yesterday (local), so the demo ends about now
    round_minutes: int | None = None  # simulated minutes between crawl rounds (60; fast: 240)
    step_minutes: int | None = None  # largest simulated step between clock ticks
    parallel: int = 2  # crawl processes at once
    prepare_model: bool = True
    echo: Callable[[str], None] = print


@dataclass
class DemoResult:
    settings: Settings
    config_path: Path
    day: DemoDay
    started: datetime
    ended: datetime
    classifier_note: str
    given_labels: bool
    wall_seconds: float = 0.0
    crawls: Counter = field(default_factory=Counter)  # source -> runs
    crawl_failures: list[str] = field(default_factory=list)
    posts: int = 0
    posts_by_platform: Counter = field(default_factory=Counter)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    notifications: Counter = field(default_factory=Counter)  # kind -> sent (file channel)
    notification_status: Counter = field(default_factory=Counter)
    actions_done: list[str] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    extra_channels: list[str] = field(default_factory=list)
    crawl_seconds: float = 0.0


def prepare_model(echo: Callable[[str], None]) -> bool:
    """`yuqing model prepare` for the operator's config (the converted base is shared)."""
    cmd = [sys.executable, "-m", "app.cli", "model", "prepare"]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        echo(f"基座模型准备失败：{exc}")
        return False
    lines = [line for line in (proc.stdout + proc.stderr).strip().splitlines() if line.strip()]
    if proc.returncode != 0:
        echo("基座模型准备失败：" + (" | ".join(lines[-3:]) or f"退出码 {proc.returncode}"))
        return False
    if lines:
        echo(lines[-1])
    return True


def choose_classifier(settings: Settings, mode: str, day: DemoDay) -> tuple[Any, str, bool]:
    """(classifier, Chinese note, whether the bundled labels are used)."""
    from app.demo.labels import GivenLabels

    given = GivenLabels(day.labels())
    if mode == "given":
        return given, "分类：按要求使用演示数据自带的人工标注（未使用分类模型）。", True
    try:
        from classifier.api import load_classifier

        model = load_classifier(settings)
        return model, f"分类：微调分类模型 {model.version}（真实推理）。", False
    except Exception as exc:  # not trained, not prepared, or the module is broken: say which
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if mode == "model":
            raise YuqingError(f"分类模型不可用：{reason}") from None
        return given, (f"分类：微调分类模型不可用（{reason}），本次演示改用演示数据自带的人工标注"
                       "（category/severity），其余环节均为真实运行。"), True


class DemoRunner:
    def __init__(self, options: DemoOptions) -> None:
        self.o = options
        self.echo = options.echo

    # -- set-up -----------------------------------------------------------------------
    def _fresh_dir(self) -> Path:
        demo_dir = self.o.demo_dir.resolve()
        main = load_settings().data_path.resolve()
        if demo_dir == main or demo_dir in main.parents or demo_dir == ROOT:
            raise YuqingError(f"演示目录不能是正式数据目录或仓库根目录：{demo_dir}")
        if demo_dir.exists():
            shutil.rmtree(demo_dir)
        demo_dir.mkdir(parents=True)
        return demo_dir

    def _init(self, rt: Runtime) -> None:
        from yuqing import hooks
        from yuqing.db.migrate import upgrade

        upgrade(rt.engine)
        self.echo(f"数据库已初始化：{rt.engine.url.render_as_string(hide_password=True)}")
        for hook in hooks.INIT_HOOKS:
            try:
                self.echo(hook(rt))
            except YuqingError as exc:
                self.echo(f"初始化步骤未完成：{exc}")

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> DemoResult:
        from app.demo.config import write_demo_config
        from app.demo.site import ReplaySite
        from app.worker import Worker
        from crawlers.runner import run_source  # noqa: F401  (fail early if the crawlers are missing)

        wall = time.monotonic()
        demo_dir = self._fresh_dir()
        day_date = self.o.day or (to_shanghai(datetime.now(SHANGHAI)).date() - timedelta(days=1))
        day = load_day(day_date, fast=self.o.fast)
        start = (day.first - timedelta(minutes=20)).replace(minute=0)
        end = max([day.start + timedelta(days=1, hours=9)] + [a.at + timedelta(minutes=30) for a in day.actions])
        self.site = ReplaySite(day, start).start()
        try:
            config_path, extra = write_demo_config(demo_dir, self.site.url, self.site.feed_url)
            settings = load_settings(config_path)
            self.clock = SimClock(start)
            self.rt = Runtime(settings, self.clock)
            self._init(self.rt)
            if self.o.prepare_model and self.o.labels != "given":
                prepare_model(self.echo)
            classifier, note, given = choose_classifier(settings, self.o.labels, day)
            self.echo(note)
            self.result = DemoResult(settings=settings, config_path=config_path, day=day, started=start, ended=end,
                                     classifier_note=note, given_labels=given, extra_channels=extra)
            self.day = day
            self.pending: list[DemoAction] = list(day.actions)
            self.worker = Worker(self.rt, classifier)
            self.last_crawl: dict[str, datetime] = {}
            round_minutes = self.o.round_minutes or (240 if self.o.fast else 60)
            last_round = day.last + timedelta(minutes=round_minutes)
            at = start + timedelta(minutes=round_minutes)
            self.echo(f"回放站点：{self.site.url}（演示日 {day_date:%Y-%m-%d}，{len(day.posts)} 条帖子，"
                      f"模拟时间 {fmt_local(start)} → {fmt_local(end)}）")
            try:
                while at <= last_round:
                    self.advance_to(at)
                    self.crawl_round(at)
                    at += timedelta(minutes=round_minutes)
                self.advance_to(end)
            finally:
                self.worker.close()
            self.result.ended = self.clock.now()
            self.reports()
            self.demo_user()
            self.collect()
        finally:
            self.site.stop()
        self.result.wall_seconds = time.monotonic() - wall
        return self.result

    def crawl_round(self, at: datetime) -> None:
        from app.worker import process
        from crawlers.runner import run_source

        self.site.now = at
        due = [s for s in self.rt.settings.sources
               if s.name not in self.last_crawl
               or at - self.last_crawl[s.name] >= timedelta(minutes=s.interval_minutes)
               or self.o.fast]
        args = {"now": at.isoformat()}

        def one(name: str) -> Any:
            return run_source(self.rt.settings, name, extra_args=args, scrapy_settings=FAST_CRAWL, timeout=300)

        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, self.o.parallel)) as pool:
            summaries = list(pool.map(one, [s.name for s in due]))
        self.result.crawl_seconds += time.monotonic() - began
        parts = []
        for source, summary in zip(due, summaries, strict=True):
            self.last_crawl[source.name] = at
            self.result.crawls[source.name] += 1
            if summary.status not in ("ok",):
                self.result.crawl_failures.append(f"{fmt_local(at)} {source.name}: {summary.status} {summary.message}")
            parts.append(f"{source.name} 新{summary.new}/更新{summary.updated}")
        report = process(self.rt, worker=self.worker)
        self.result.errors += [e for e in report.errors if e not in self.result.errors]
        self.echo(f"[模拟 {fmt_local(at)}] 采集 {'，'.join(parts)}；{report.summary()}")
        self.jobs()

    def jobs(self) -> None:
        """What the scheduler runs on its timers: actions that are due, clock tick, outbox."""
        from alerting.engine.core import tick
        from alerting.sender import send_due

        self.apply_actions()
        with self.rt.session() as s:
            tick(s, self.clock.now(), self.rt.settings)
        sent = send_due(self.rt, self.clock.now())
        self.result.errors += sent.errors

    def advance_to(self, target: datetime) -> None:
        from alerting.engine.core import next_due

        step = timedelta(minutes=self.o.step_minutes or (30 if self.o.fast else 15))
        while self.clock.now() < target:
            now = self.clock.now()
            with self.rt.session() as s:
                due = next_due(s, now, self.rt.settings)
            action = min((a.at for a in self.pending if a.at > now), default=None)
            self.clock.set(min(t for t in (now + step, due, action, target) if t is not None))
            self.jobs()

    def apply_actions(self) -> None:
        """Due actions of the bundled day; one whose incident has not been crawled yet waits."""
        from alerting import actions
        from alerting.engine.grouping import incident_of_post

        now = self.clock.now()
        for action in [a for a in self.pending if a.at <= now]:
            post = self.day.by_key[action.post]
            try:
                with self.rt.session() as s:
                    incident = incident_of_post(s, post.post_id)
                    if incident is None:
                        continue  # not crawled yet: retried at the next step
                    settings = self.rt.settings
                    if action.action == "ack":
                        actions.ack(s, incident.id, action.by, now)
                    elif action.action == "respond":
                        actions.respond(s, incident.id, action.by, now, action.url, at=now, text=action.text,
                                        settings=settings)
                    elif action.action == "dismiss":
                        actions.dismiss(s, incident.id, action.by, now, action.reason, settings=settings)
                    elif action.action == "close":
                        actions.close(s, incident.id, action.by, now, reason=action.reason, settings=settings)
                    elif action.action == "advance":
                        actions.advance(s, incident.id, action.by, now, reason=action.reason,
                                        override_reason=action.reason or "演示", settings=settings)
                    else:
                        raise YuqingError(f"未知的演示动作 {action.action}")
                    label = f"事件 #{incident.id}"
                self.result.actions_done.append(f"{fmt_local(now)} {action.by} {action.action} {label}")
                self.echo(f"[模拟 {fmt_local(now)}] {action.by}：{_ACTION_ZH.get(action.action, action.action)} {label}")
            except YuqingError as exc:
                self.result.errors.append(f"演示动作 {action.action}（{action.post}）未执行：{exc}")
            self.pending.remove(action)

    # -- outputs ----------------------------------------------------------------------
    def reports(self) -> None:
        from sqlalchemy import select

        from reports import build

        out = self.rt.settings.data_path / "reports"
        out.mkdir(parents=True, exist_ok=True)
        day = self.day.start.date()
        for fmt in ("md", "html", "docx"):
            path = out / f"daily-{day:%Y%m%d}.{fmt}"
            path.write_bytes(build("daily", self.rt, fmt=fmt, day=day))
            self.result.reports.append(path)
        from yuqing.db.models import IncidentRow

        with self.rt.session() as s:
            ids = list(s.scalars(select(IncidentRow.id).where(IncidentRow.merged_into.is_(None))
                                 .order_by(IncidentRow.id)))
        for incident_id in ids:
            path = out / f"incident-{incident_id}.md"
            path.write_bytes(build("incident", self.rt, fmt="md", incident_id=incident_id))
            self.result.reports.append(path)

    def demo_user(self) -> None:
        from web.auth import add_user

        with self.rt.session() as s:
            add_user(s, DEMO_USER, DEMO_PASSWORD, "admin", self.clock.now(), display_name="演示管理员",
                     actor="demo")

    def collect(self) -> None:
        from sqlalchemy import func, select

        from yuqing.db.models import IncidentPostRow, IncidentRow, NotificationRow, PostRow, StageHistoryRow

        r = self.result
        with self.rt.session() as s:
            r.posts = s.scalar(select(func.count()).select_from(PostRow)) or 0
            r.posts_by_platform = Counter(dict(s.execute(
                select(PostRow.platform, func.count()).group_by(PostRow.platform)).all()))
            for inc in s.scalars(select(IncidentRow).where(IncidentRow.merged_into.is_(None)).order_by(IncidentRow.id)):
                stages = [h.to_stage for h in s.scalars(select(StageHistoryRow).where(
                    StageHistoryRow.incident_id == inc.id).order_by(StageHistoryRow.at, StageHistoryRow.id))]
                post_ids = list(s.scalars(select(IncidentPostRow.post_id).where(IncidentPostRow.incident_id == inc.id)))
                events = Counter(self._event_of(p) for p in post_ids)
                r.incidents.append({
                    "id": inc.id, "title": inc.title, "category": inc.category, "severity": inc.severity,
                    "peak_severity": inc.peak_severity, "stage": inc.stage, "stages": stages,
                    "posts": len(post_ids), "event": events.most_common(1)[0][0] if events else None,
                    "responded": inc.first_response_at is not None, "acknowledged": inc.acknowledged_at is not None,
                    "dismissed": bool(inc.dismissed_reason)})
            for kind, channel, status, n in s.execute(select(
                    NotificationRow.kind, NotificationRow.channel, NotificationRow.status, func.count())
                    .group_by(NotificationRow.kind, NotificationRow.channel, NotificationRow.status)).all():
                r.notification_status[status] += n
                if channel == "file" and status == "sent":
                    r.notifications[kind] += n

    def _event_of(self, post_id: str) -> str | None:
        for post in self.day.posts:
            if post.post_id == post_id:
                return post.event
        return None


_ACTION_ZH = {"ack": "确认告警", "respond": "记录首次公开回应", "dismiss": "排除误报", "close": "关闭事件",
              "advance": "推进阶段"}
