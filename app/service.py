"""`yuqing run`: the long-lived service (APScheduler 3, persistent SQLAlchemy job store).

Jobs: one crawl per enabled source at its interval (``crawlers.runner.run_source``, Scrapy in a
child process), the pipeline worker, the clock tick (every minute: heat, reminders, breaches,
escalations, digests), the outbox sender, the daily report file, and ``config_reload`` (every
instance, every 20 s: the latest configuration version from the web swapped in, no restart). Misfires coalesce into one
run; each job has one instance at a time. The web app is served in a thread when it exists.

Two `yuqing run` on one database: only the holder of the ``scheduler`` lease (table ``leases``,
renewed every ``LEASE_SECONDS / 3``) runs jobs; the other waits as a hot standby and takes over
when the lease expires.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app import wiring  # noqa: F401  (the playbooks' engine hooks run on every tick)
from yuqing.db.models import LeaseRow
from yuqing.runtime import Runtime, worker_id
from yuqing.timeutil import to_shanghai

log = logging.getLogger("app.service")
LEASE_NAME = "scheduler"
LEASE_SECONDS = 60.0
JOBS_TABLE = "apscheduler_jobs"
CONFIG_RELOAD_SECONDS = 20.0  # a configuration change from the web is in force within this


# -- lease -------------------------------------------------------------------------------------
def acquire_lease(rt: Runtime, holder: str, now: datetime, ttl: float = LEASE_SECONDS,
                  name: str = LEASE_NAME) -> bool:
    """Take or renew the lease; True if ``holder`` holds it until ``now + ttl``."""
    until = now + timedelta(seconds=ttl)
    try:
        with rt.session() as s:
            row = s.get(LeaseRow, name)
            if row is None:
                s.add(LeaseRow(name=name, holder=holder, expires_at=until))
                s.flush()
                return True
            if row.holder != holder and row.expires_at > now:
                return False
            result = s.execute(update(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == row.holder,
                                                      LeaseRow.expires_at == row.expires_at)
                               .values(holder=holder, expires_at=until).execution_options(synchronize_session=False))
            return result.rowcount == 1
    except IntegrityError:
        return False  # another instance inserted it first


def release_lease(rt: Runtime, holder: str, name: str = LEASE_NAME) -> None:
    with rt.session() as s:
        row = s.get(LeaseRow, name)
        if row is not None and row.holder == holder:
            s.delete(row)


# -- jobs (module-level: the persistent job store keeps references to them) --------------------
class _State:
    rt: Runtime | None = None
    holder: str = ""
    leader: bool = False
    worker: Any = None
    scheduler: Any = None  # the running scheduler, for config_reload to redeclare the jobs
    sources: Any = None  # the sources its crawl jobs were declared for


STATE = _State()


def _rt() -> Runtime:
    if STATE.rt is None:
        STATE.rt = Runtime.load()
    return STATE.rt


def job_lease() -> None:
    rt = _rt()
    was = STATE.leader
    STATE.leader = acquire_lease(rt, STATE.holder, rt.clock.now())
    if STATE.leader != was:
        log.warning("%s", "已成为主实例，开始执行任务" if STATE.leader else "未持有调度租约，作为备用实例等待")


def _leading(fn):  # type: ignore[no-untyped-def]
    def run(*args: Any) -> Any:
        if not STATE.leader:
            return None
        try:
            return fn(*args)
        except Exception:  # a job must never take the scheduler down
            log.exception("任务 %s 失败", fn.__name__)
            return None

    run.__name__ = fn.__name__
    run.__qualname__ = fn.__qualname__
    run.__wrapped__ = fn  # type: ignore[attr-defined]
    return run


def job_config_reload() -> None:
    """Every instance: the latest configuration version from the web in force within
    ``CONFIG_RELOAD_SECONDS`` (keywords, sources, roster, channels); sources' jobs redeclared."""
    from yuqing.config_store import reload

    rt = _rt()
    try:
        reload(rt)  # the web of this process may have swapped the settings already
        if STATE.scheduler is not None and rt.settings.sources != STATE.sources:
            add_jobs(STATE.scheduler, rt)
            STATE.sources = rt.settings.sources
    except Exception:  # never take the scheduler down
        log.exception("载入配置版本失败")


@_leading
def job_crawl(source: str) -> None:
    from crawlers.runner import run_source

    run_source(_rt().settings, source)


@_leading
def job_crawl_hot() -> None:
    """Open incidents' keywords, newest first, more often than the sources' own intervals."""
    from crawlers.freshness import crawl_hot

    crawl_hot(_rt())


@_leading
def job_process() -> None:
    from app.worker import Worker, process

    rt = _rt()
    if STATE.worker is None:
        STATE.worker = Worker(rt)
    report = process(rt, worker=STATE.worker)
    if report.claimed:
        log.info("%s", report.summary())


@_leading
def job_tick() -> None:
    from alerting.engine.core import tick

    rt = _rt()
    with rt.session() as s:
        tick(s, rt.clock.now(), rt.settings)


@_leading
def job_send() -> None:
    from alerting.sender import send_due

    report = send_due(_rt())
    if report.claimed:
        log.info("%s", report.summary())


@_leading
def job_daily_report() -> None:
    from reports import build

    rt = _rt()
    day = to_shanghai(rt.clock.now()).date()
    out = rt.settings.data_file("reports") / f"daily-{day.isoformat()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(build("daily", rt, fmt="md", day=day))


def add_jobs(scheduler: Any, rt: Runtime) -> list[str]:
    """(Re)declare every job with a fixed id (``replace_existing``), so the store never duplicates them."""
    sched = rt.settings.scheduler
    common = {"replace_existing": True, "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    ids: list[str] = []

    def add(func: str, job_id: str, trigger: str, **kw: Any) -> None:
        scheduler.add_job(func, trigger, id=job_id, **common, **kw)
        ids.append(job_id)

    add("app.service:job_lease", "lease", "interval", seconds=LEASE_SECONDS / 3)
    add("app.service:job_config_reload", "config_reload", "interval", seconds=CONFIG_RELOAD_SECONDS)
    add("app.service:job_process", "process", "interval", seconds=sched.process_interval_seconds)
    add("app.service:job_tick", "tick", "interval", seconds=sched.tick_interval_seconds)
    add("app.service:job_send", "send", "interval", seconds=sched.outbox_interval_seconds)
    for source in rt.settings.sources:
        if source.enabled:
            add("app.service:job_crawl", f"crawl:{source.name}", "interval",
                minutes=source.interval_minutes, args=[source.name])
    from crawlers.freshness import hot_sources, open_incident_interval_minutes

    if hot_sources(rt.settings):
        add("app.service:job_crawl_hot", "crawl:open_incidents", "interval",
            minutes=open_incident_interval_minutes(rt.settings))
    hour, minute = (int(x) for x in sched.daily_report_time.split(":"))
    add("app.service:job_daily_report", "daily_report", "cron", hour=hour, minute=minute,
        timezone=rt.settings.timezone)
    # jobs of sources removed from the settings
    for job in scheduler.get_jobs():
        if job.id not in ids:
            job.remove()
    return ids


def build_scheduler(rt: Runtime, blocking: bool = True) -> Any:
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BlockingScheduler if blocking else BackgroundScheduler
    store = SQLAlchemyJobStore(engine=rt.engine, tablename=JOBS_TABLE)
    return cls(jobstores={"default": store}, executors={"default": ThreadPoolExecutor(4)},
               timezone=rt.settings.timezone)


def _serve_web(rt: Runtime) -> threading.Thread:
    import uvicorn

    from web.app import create_app

    config = uvicorn.Config(create_app(rt), host=rt.settings.web.host, port=rt.settings.web.port,
                            log_level="warning", proxy_headers=False)  # only web.trusted_proxies are believed
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="yuqing-web", daemon=True)
    thread.start()
    return thread


def run_once(rt: Runtime, holder: str | None = None) -> bool:
    """Every job once, in order (``yuqing run --once``); returns whether this instance led."""
    STATE.rt, STATE.holder = rt, holder or STATE.holder or worker_id()
    job_lease()
    if STATE.leader:
        for job in (job_process, job_tick, job_send):
            job()
    return STATE.leader


def serve(rt: Runtime, web: bool = True, once: bool = False) -> None:
    from yuqing.cli.context import console
    from yuqing.db.migrate import upgrade

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    upgrade(rt.engine)
    STATE.rt, STATE.holder = rt, worker_id()
    if once:
        led = run_once(rt)
        console.print("已执行一轮任务。" if led else "另一实例持有调度租约，本实例未执行任务。")
        release_lease(rt, STATE.holder)
        return
    scheduler = build_scheduler(rt, blocking=True)
    STATE.scheduler = scheduler
    ids = add_jobs(scheduler, rt)
    STATE.sources = rt.settings.sources
    job_lease()
    if web:
        _serve_web(rt)
        console.print(f"网页：http://{rt.settings.web.host}:{rt.settings.web.port}{rt.settings.web.root_path}")
    console.print(f"调度已启动（{len(ids)} 个任务，{'主实例' if STATE.leader else '备用实例'}），按 Ctrl+C 停止。")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        release_lease(rt, STATE.holder)
        if STATE.worker is not None:
            STATE.worker.close()
