"""Run several crawls one after another in ONE child process (tests, bench).

Each `scrapy crawl` pays the interpreter and import start-up (Scrapy, SQLAlchemy, OpenCC,
datasketch/SciPy) of a few seconds; a batch pays it once. Crawls stay isolated: each has its
own Crawler, settings, spider context and feed, exactly as `scrapy crawl` would build them.

    python -m crawlers.testing.batch JOBS.json
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from crawlers.state import CrawlSummary


@dataclass
class BatchJob:
    spider: str
    output: str
    summary_file: str
    args: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


def run_batch(jobs: Sequence[BatchJob], workdir: Path, env: Mapping[str, str] | None = None,
              timeout: float = 300) -> list[CrawlSummary]:
    """Run the jobs in one child process; one CrawlSummary per job (status failed if it did not end)."""
    from yuqing.settings import ROOT

    workdir.mkdir(parents=True, exist_ok=True)
    spec = workdir / "jobs.json"
    spec.write_text(json.dumps([asdict(j) for j in jobs], ensure_ascii=False), encoding="utf-8")
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), child_env.get("PYTHONPATH")) if p)
    with (workdir / "batch.log").open("wb") as log:
        subprocess.run([sys.executable, "-m", "crawlers.testing.batch", str(spec)], cwd=ROOT, env=child_env,
                       stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    out = []
    for job in jobs:
        path = Path(job.summary_file)
        if path.exists():
            out.append(CrawlSummary.from_json(json.loads(path.read_text(encoding="utf-8"))))
        else:
            out.append(CrawlSummary(source=job.spider, status="failed", message="no summary"))
    return out


def _main(spec_path: str) -> None:
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from scrapy.crawler import AsyncCrawlerRunner
    from scrapy.utils.log import configure_logging
    from scrapy.utils.project import get_project_settings
    from twisted.internet import defer, reactor
    from twisted.python.failure import Failure

    jobs = [BatchJob(**j) for j in json.loads(Path(spec_path).read_text(encoding="utf-8"))]
    base = get_project_settings()
    configure_logging(base)

    async def run_all() -> None:
        for job in jobs:
            os.environ.update(job.env)
            settings = base.copy()
            settings.setdict(job.settings, priority="cmdline")
            settings.set("YUQING_SUMMARY_FILE", job.summary_file, priority="cmdline")
            settings.set("FEEDS", {job.output: {"format": "jsonlines", "overwrite": True}}, priority="cmdline")
            try:
                await AsyncCrawlerRunner(settings).crawl(job.spider, **job.args)
            except Exception as exc:  # one broken job must not hide the others' results
                print(f"job {job.spider} failed: {exc!r}", file=sys.stderr)

    def finished(result: Any) -> None:
        if isinstance(result, Failure):
            print(f"batch failed: {result.getErrorMessage()}", file=sys.stderr)
        reactor.stop()

    # AsyncCrawlerRunner.crawl returns asyncio futures: drive the loop with an asyncio task
    d = defer.Deferred.fromFuture(asyncio.ensure_future(run_all()))
    d.addBoth(finished)
    reactor.run()


if __name__ == "__main__":
    _main(sys.argv[1])
