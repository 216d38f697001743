"""`yuqing run` picks up a configuration version without a restart: the config_reload job swaps the
settings and redeclares the crawl jobs (interval, enabled), also when the web of the same process
already swapped them."""

from __future__ import annotations

from datetime import UTC, datetime

from app import service
from yuqing import config_store
from yuqing.runtime import Runtime

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _crawl_jobs(scheduler) -> dict[str, float]:
    return {job.id: job.trigger.interval.total_seconds() / 60 for job in scheduler.get_jobs()
            if job.id.startswith("crawl:") and job.id != "crawl:open_incidents"}


def test_config_reload_job_swaps_settings_and_redeclares_jobs(runtime: Runtime) -> None:
    saved = (service.STATE.rt, service.STATE.scheduler, service.STATE.sources)
    scheduler = service.build_scheduler(runtime, blocking=False)
    scheduler.start(paused=True)
    try:
        service.STATE.rt, service.STATE.scheduler = runtime, scheduler
        assert "config_reload" in service.add_jobs(scheduler, runtime)
        service.STATE.sources = runtime.settings.sources
        enabled = [s.name for s in runtime.settings.sources if s.enabled]
        assert set(_crawl_jobs(scheduler)) == {f"crawl:{n}" for n in enabled}
        service.job_config_reload()  # nothing new: nothing changes
        assert runtime.config_version is None
        sources = config_store.section_data(runtime.settings, "sources")
        first, second = next(s for s in sources if s["name"] == enabled[0]), \
            next(s for s in sources if s["name"] == enabled[1])
        first["enabled"] = False
        second["interval_minutes"] = 7
        roster = config_store.section_data(runtime.settings, "roster")
        roster["ack_timeout_minutes"] = 4
        with runtime.session() as s:  # as the web of another process (or `yuqing config import`) saves it
            v = config_store.save(s, runtime.settings, {"sources": sources, "roster": roster}, "admin", T0)
        service.job_config_reload()
        assert runtime.config_version == v.id and runtime.settings.roster.ack_timeout_minutes == 4
        jobs = _crawl_jobs(scheduler)
        assert f"crawl:{first['name']}" not in jobs and jobs[f"crawl:{second['name']}"] == 7
        # the web of this very process swapped the settings first: the jobs still follow
        second["interval_minutes"] = 9
        with runtime.session() as s:
            config_store.save(s, runtime.settings, {"sources": sources}, "admin", T0)
        assert config_store.reload(runtime) is True
        service.job_config_reload()
        assert _crawl_jobs(scheduler)[f"crawl:{second['name']}"] == 9
    finally:
        scheduler.shutdown(wait=False)
        service.STATE.rt, service.STATE.scheduler, service.STATE.sources = saved
