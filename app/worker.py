"""The pipeline worker (`yuqing process`; not Scrapy's item pipelines, which are crawlers/pipelines.py): pending posts → classify → incidents → index → done.

Each batch goes through four short steps, never holding a transaction across inference or
index I/O:

1. claim: pending posts (and posts whose claim is older than ``STALE_CLAIM``, one minute: their
   worker died) become ``processing`` with ``claimed_at = now`` and ``attempts + 1``; on
   PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so several workers share the queue, on SQLite with
   an UPDATE guarded by the previous state;
2. classify outside any transaction (posts that already carry ``category``/``severity`` — in the
   row, or in ``extra`` from a scenario — are taken as classified);
3. one transaction: classification rows, the engine (incidents, heat, notifications in the outbox);
4. index the posts with their incident ids, then mark them ``done`` (``attempts`` back to 0).

Heartbeat: while a worker holds posts, a daemon thread (:class:`Heartbeat`, every
``HEARTBEAT_EVERY``, 15 s) moves their ``claimed_at`` to the present, so a live worker — however
slow its classification — never looks dead, and a dead one's posts are retaken one minute after
its last beat. The ``claimed_at`` this worker last wrote is its fencing token: the heartbeat, the
engine step and the final ``done`` only touch rows that still carry it, so a worker that lost its
claim (it stalled for a minute) never applies or finishes a post another worker has taken.

Attempts are counted when a post is claimed, so a post that kills its worker outright (OOM,
segfault, kill -9) is counted too. A post whose batch already died twice (``attempts >
ISOLATE_AFTER``) is processed on its own, so a poison post soon takes down only itself; when a
stale post has been claimed ``MAX_ATTEMPTS`` times it becomes ``dead`` (a dead letter, shown in
管理 with its reason, requeued from there) instead of being claimed again; so does a post whose
engine step raised ``MAX_ATTEMPTS`` times.

A crash anywhere leaves the posts ``processing``; the next run retakes them and the engine is
idempotent (a post joins an incident once, notifications are keyed), so nothing is counted or
sent twice. A post re-queued by an engagement update goes through again: heat follows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from alerting.engine.core import handle_posts
from app import wiring  # noqa: F401  (the playbooks' engine hooks)
from classifier.api import PostClassifier
from search import get_index
from search.indexing import index_posts
from search.types import PostIndex
from yuqing.db.models import ClassificationRow, PostRow
from yuqing.domain import Category, Classification, Post, Severity
from yuqing.errors import YuqingError
from yuqing.runtime import Runtime

log = logging.getLogger(__name__)
STALE_CLAIM = timedelta(minutes=1)  # a claim without a heartbeat for this long belongs to a dead worker
HEARTBEAT_EVERY = timedelta(seconds=15)
MAX_ATTEMPTS = 5
ISOLATE_AFTER = 2  # a post claimed more often than this goes through alone (its batch died twice)
DEAD_REASON = ("处理进程多次中断：该帖子已被认领 {n} 次仍未处理完成（进程崩溃、内存耗尽或被强制结束），"
               "已转入死信，不再自动重试；请检查后在“管理 → 死信”中重新排队")


@dataclass
class ProcessReport:
    claimed: int = 0
    classified: int = 0  # by the model
    preclassified: int = 0
    crisis: int = 0
    opened: int = 0
    joined: int = 0
    indexed: int = 0
    done: int = 0
    failed: int = 0
    released: int = 0  # put back to pending (classifier not available)
    dead: int = 0  # dead letters: retries spent
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"处理 {self.done} 条（模型分类 {self.classified}，已带分类 {self.preclassified}），"
                f"危机帖子 {self.crisis} 条，新建事件 {self.opened} 个，并入已有事件 {self.joined} 条，"
                f"已索引 {self.indexed} 条，失败 {self.failed} 条，退回待处理 {self.released} 条"
                + (f"，转入死信 {self.dead} 条" if self.dead else ""))


def claim(rt: Runtime, limit: int, now: datetime, exclude: Iterable[str] = ()) -> list[str]:
    """Take up to ``limit`` posts for this worker (short transaction); ``claimed_at = now`` is the token.

    A stale claim whose post was already claimed ``MAX_ATTEMPTS`` times is not taken again: the
    post becomes ``dead`` with :data:`DEAD_REASON`. ``exclude``: ids this run already handled.
    """
    stale = now - STALE_CLAIM
    due = or_(PostRow.status == "pending",
              and_(PostRow.status == "processing", or_(PostRow.claimed_at.is_(None), PostRow.claimed_at < stale)))
    skip = list(exclude)
    won: list[str] = []
    with rt.session() as s:
        while len(won) < limit:
            query = select(PostRow.id, PostRow.status, PostRow.claimed_at, PostRow.attempts).where(due)
            if skip:
                query = query.where(PostRow.id.not_in(skip))
            query = query.order_by(PostRow.first_seen_at, PostRow.id).limit(limit - len(won))
            if s.bind is not None and s.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            candidates = s.execute(query).all()
            if not candidates:
                break
            groups: dict[tuple[str, datetime | None], list[str]] = {}
            for post_id, status, claimed_at, attempts in candidates:
                skip.append(post_id)
                if (attempts or 0) >= MAX_ATTEMPTS:
                    guard = [PostRow.id == post_id, PostRow.status == status,
                             PostRow.claimed_at.is_(None) if claimed_at is None else PostRow.claimed_at == claimed_at]
                    values = {"status": "dead", "claimed_at": None, "processed_at": now,
                              "error": DEAD_REASON.format(n=attempts)}
                    result = s.execute(update(PostRow).where(*guard).values(**values)
                                       .execution_options(synchronize_session=False))
                    if result.rowcount == 1:
                        log.warning("post %s dead-lettered after %s claims", post_id, attempts)
                    continue
                groups.setdefault((status, claimed_at), []).append(post_id)
            taken: set[str] = set()
            for (status, claimed_at), group in groups.items():  # one guarded UPDATE per previous state
                guard = [PostRow.id.in_(group), PostRow.status == status,
                         PostRow.claimed_at.is_(None) if claimed_at is None else PostRow.claimed_at == claimed_at]
                taken.update(s.scalars(update(PostRow).where(*guard)
                                       .values(status="processing", claimed_at=now, attempts=PostRow.attempts + 1)
                                       .returning(PostRow.id).execution_options(synchronize_session=False)))
            won.extend(post_id for post_id, *_ in candidates if post_id in taken)
    return won


class Heartbeat:
    """The posts this worker holds, each with its token (the ``claimed_at`` it last wrote).

    ``beat()`` renews every held claim to ``rt.clock.now()``; a daemon thread calls it every
    ``every`` seconds between ``start()`` and ``stop()``. A post whose row no longer carries
    our token (another worker took it after our claim went stale, or it was re-queued) is
    dropped. ``lock`` is held while a step must see the tokens unchanged (engine, ``done``).
    """

    def __init__(self, rt: Runtime, every: float | None = None) -> None:
        self.rt = rt
        self.every = HEARTBEAT_EVERY.total_seconds() if every is None else every
        self.lock = threading.RLock()
        self.beats = 0
        self._held: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, ids: Iterable[str], token: datetime) -> None:
        with self.lock:
            for post_id in ids:
                self._held[post_id] = token

    def drop(self, ids: Iterable[str]) -> None:
        with self.lock:
            for post_id in ids:
                self._held.pop(post_id, None)

    def token(self, post_id: str) -> datetime | None:
        with self.lock:
            return self._held.get(post_id)

    def held(self) -> list[str]:
        with self.lock:
            return list(self._held)

    def beat(self) -> int:
        """Renew every held claim now; returns how many are still ours."""
        with self.lock:
            if not self._held:
                return 0
            now = self.rt.clock.now()
            groups: dict[datetime, list[str]] = {}
            for post_id, token in self._held.items():
                groups.setdefault(token, []).append(post_id)
            with self.rt.session() as s:
                for token, ids in groups.items():
                    s.execute(update(PostRow).where(PostRow.id.in_(ids), PostRow.status == "processing",
                                                    PostRow.claimed_at == token)
                              .values(claimed_at=now).execution_options(synchronize_session=False))
                kept = set(s.scalars(select(PostRow.id).where(PostRow.id.in_(list(self._held)),
                                                              PostRow.status == "processing",
                                                              PostRow.claimed_at == now)))
            lost = [i for i in self._held if i not in kept]
            if lost:
                log.warning("lost the claim of %d posts (another worker took them): %s", len(lost), lost[:5])
            self._held = {i: now for i in kept}
            self.beats += 1
            return len(kept)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
            except Exception:  # a failed beat (database busy) is retried at the next one
                log.exception("heartbeat failed")

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="yuqing-claims-heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def given_classification(row: PostRow) -> Classification | None:
    """The classification a post already carries (a scenario's category/severity), if any."""
    if row.category:
        return Classification(category=Category(row.category), severity=Severity(int(row.severity or 0)))
    extra = row.extra or {}
    if "category" not in extra or "severity" not in extra:
        return None
    try:
        return Classification(category=Category(str(extra["category"])), severity=Severity(int(extra["severity"])),
                              category_scores=dict(extra.get("category_scores") or {}), model_version="given")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"帖子 {row.id} 的 category/severity 无效: {exc}") from None


def as_post(row: PostRow) -> Post:
    return Post(id=row.id, platform=row.platform, text=row.text or "", title=row.title, url=row.url,
                author=row.author, author_verified=row.author_verified, author_followers=row.author_followers,
                published_at=row.published_at, reposts=row.reposts, comments=row.comments, likes=row.likes,
                views=row.views)


class Worker:
    """One worker's state across batches: the lazily loaded classifier and index writer."""

    def __init__(self, rt: Runtime, classifier: PostClassifier | None = None, index: PostIndex | None = None,
                 *, indexing: bool = True, heartbeat_seconds: float | None = None) -> None:
        """``indexing=False``: posts are not indexed (replay: the index is derived, not in the contract).
        ``heartbeat_seconds``: how often the claims are renewed (default ``HEARTBEAT_EVERY``)."""
        self.rt = rt
        self.heartbeat = Heartbeat(rt, heartbeat_seconds)
        self._indexing = indexing
        self._classifier = classifier
        self._classifier_error: str | None = None
        self._index = index
        self._index_error: str | None = None
        self._own_index = index is None

    def classifier(self) -> PostClassifier | None:
        if self._classifier is None and self._classifier_error is None:
            try:
                from classifier.api import load_classifier  # torch: loaded only when a post needs the model

                self._classifier = load_classifier(self.rt.settings)
            except YuqingError as exc:
                self._classifier_error = str(exc)
        return self._classifier

    def index(self) -> PostIndex | None:
        if not self._indexing:
            return None
        if self._index is None and self._index_error is None:
            try:
                self._index = get_index(self.rt.settings, writer=True)
            except Exception as exc:  # the index is derived data: report and go on
                self._index_error = f"检索索引不可用（{exc}），帖子暂不建索引，可稍后运行 yuqing reindex"
        return self._index

    def close(self) -> None:
        if self._own_index and self._index is not None:
            self._index.close()


def _classify(worker: Worker, rows: list[PostRow], report: ProcessReport) -> tuple[
        dict[str, Classification], dict[str, str], dict[str, list[float]]]:
    """Classifications by post id, errors by post id, embeddings of crisis posts (when the model is loaded)."""
    result: dict[str, Classification] = {}
    errors: dict[str, str] = {}
    todo: list[PostRow] = []
    for row in rows:
        try:
            given = given_classification(row)
        except ValueError as exc:
            errors[row.id] = str(exc)
            continue
        if given is None:
            todo.append(row)
        else:
            result[row.id] = given
            report.preclassified += 1
    embeddings: dict[str, list[float]] = {}
    if todo:
        model = worker.classifier()
        if model is None:
            for row in todo:
                errors[row.id] = "release"
        else:
            for row, cls in zip(todo, model.classify([as_post(r) for r in todo]), strict=True):
                result[row.id] = cls
            report.classified += len(todo)
    model = worker._classifier
    crisis = [r for r in rows if r.id in result and result[r.id].category is not Category.none]
    if model is not None and crisis:
        vectors = model.embed([f"{r.title}\n{r.text}" if r.title else r.text for r in crisis])
        if vectors is not None:  # None: this classifier has no embeddings (grouping uses text features)
            embeddings = {r.id: [float(x) for x in v] for r, v in zip(crisis, vectors, strict=True)}
    return result, errors, embeddings


def _mine(s: Session, heartbeat: Heartbeat, ids: list[str]) -> list[str]:
    """Of ``ids``, those whose row still carries this worker's claim (call with ``heartbeat.lock``)."""
    tokens = {i: heartbeat.token(i) for i in ids}
    rows = s.execute(select(PostRow.id, PostRow.claimed_at)
                     .where(PostRow.id.in_(ids), PostRow.status == "processing")).all()
    return [i for i, claimed_at in rows if tokens.get(i) is not None and claimed_at == tokens[i]]


def _apply(owner: Worker | Runtime, ids: list[str], classes: dict[str, Classification],
           embeddings: dict[str, list[float]], report: ProcessReport) -> list[str]:
    """Classification rows and the engine for the posts still ours, in one transaction; returns them.

    ``owner``: the worker whose claims fence the step; a bare ``Runtime`` (a tool or test that
    holds no heartbeat) applies ``ids`` as given."""
    heartbeat = owner.heartbeat if isinstance(owner, Worker) else None
    rt = owner.rt if isinstance(owner, Worker) else owner
    now = rt.clock.now()
    with heartbeat.lock if heartbeat else nullcontext(), rt.session() as s:
        mine = _mine(s, heartbeat, ids) if heartbeat else list(ids)
        rows = list(s.scalars(select(PostRow).where(PostRow.id.in_(mine))
                              .order_by(PostRow.first_seen_at, PostRow.id)))
        for row in rows:
            cls = classes[row.id]
            if row.category != cls.category.value or row.severity != int(cls.severity):
                row.category, row.severity = cls.category.value, int(cls.severity)
                s.add(ClassificationRow(post_id=row.id, category=row.category, severity=row.severity,
                                        scores=dict(cls.category_scores), model_version=cls.model_version or "",
                                        created_at=now))
        s.flush()
        engine = handle_posts(s, rows, now, rt.settings, embeddings)
        report.crisis += sum(1 for r in rows if r.category not in (None, "none"))
        report.opened += len(engine.opened)
        report.joined += engine.joined
    return [r.id for r in rows]


def _index_and_finish(worker: Worker, ids: list[str], report: ProcessReport) -> None:
    """Index the posts with their incident ids (search.indexing.index_posts), then mark them done."""
    rt = worker.rt
    index = worker.index()
    if index is not None and ids:
        try:
            report.indexed += index_posts(rt, ids, index=index)
        except Exception as exc:  # derived data: keep the database result, report
            report.errors.append(f"建索引失败（{exc}），可稍后运行 yuqing reindex")
    now = rt.clock.now()
    with worker.heartbeat.lock, rt.session() as s:
        mine = _mine(s, worker.heartbeat, ids)
        if mine:
            s.execute(update(PostRow).where(PostRow.id.in_(mine), PostRow.status == "processing")
                      .values(status="done", processed_at=now, claimed_at=None, error=None, attempts=0)
                      .execution_options(synchronize_session=False))
    worker.heartbeat.drop(ids)
    report.done += len(mine)


def _settle(worker: Worker, errors: dict[str, str], report: ProcessReport) -> None:
    """Posts that could not go through: back to pending (no classifier) or failed (bad data), or
    ``dead`` (``"dead:" + reason``: its retries are spent)."""
    if not errors:
        return
    rt = worker.rt
    with worker.heartbeat.lock, rt.session() as s:
        mine = set(_mine(s, worker.heartbeat, list(errors)))
        for post_id, reason in errors.items():
            row = s.get(PostRow, post_id) if post_id in mine else None
            if row is None:
                continue
            row.claimed_at = None
            if reason == "release":
                row.status, row.attempts = "pending", max(0, row.attempts - 1)
                report.released += 1
            elif reason.startswith("dead:"):
                row.status, row.error, row.processed_at = "dead", reason[len("dead:"):], rt.clock.now()
                report.dead += 1
                report.errors.append(row.error)
            else:
                row.status, row.error = "failed", reason
                report.failed += 1
                report.errors.append(reason)
    worker.heartbeat.drop(errors)


def _retry_later(worker: Worker, post_id: str, exc: Exception, report: ProcessReport) -> None:
    """The engine raised on this one post: back to pending, or a dead letter once its attempts are spent."""
    rt = worker.rt
    with rt.session() as s:
        row = s.get(PostRow, post_id)
        attempts = row.attempts if row else 0
    reason = f"帖子 {post_id} 处理失败（第 {attempts} 次）: {exc}"
    if attempts >= MAX_ATTEMPTS:
        _settle(worker, {post_id: f"dead:{reason}；已达最多 {MAX_ATTEMPTS} 次，转入死信"}, report)
        return
    with worker.heartbeat.lock, rt.session() as s:
        if _mine(s, worker.heartbeat, [post_id]):
            s.execute(update(PostRow).where(PostRow.id == post_id)
                      .values(status="pending", claimed_at=None, error=reason)
                      .execution_options(synchronize_session=False))
    worker.heartbeat.drop([post_id])
    report.errors.append(reason)


def process_batch(worker: Worker, ids: list[str], report: ProcessReport) -> None:
    """Process claimed posts (held by ``worker.heartbeat``). Posts whose batch died twice
    (``attempts > ISOLATE_AFTER``) go one at a time, so a post that kills its worker takes down only itself."""
    rt = worker.rt
    with rt.session() as s:
        rows = list(s.scalars(select(PostRow).where(PostRow.id.in_(ids))
                              .order_by(PostRow.first_seen_at, PostRow.id)))
    retaken = [r.id for r in rows if (r.attempts or 0) > ISOLATE_AFTER]
    if len(rows) > 1 and retaken:
        fresh = [r.id for r in rows if r.id not in retaken]
        if fresh:
            process_batch(worker, fresh, report)
        for post_id in retaken:
            process_batch(worker, [post_id], report)
        return
    classes, errors, embeddings = _classify(worker, rows, report)
    _settle(worker, errors, report)
    good = [r.id for r in rows if r.id in classes]
    if not good:
        return
    worker.heartbeat.beat()  # classification may have been long: renew before the engine step
    try:
        good = _apply(worker, good, classes, embeddings, report)
    except Exception as exc:
        if len(good) == 1:
            log.exception("engine failed on post %s", good[0])
            _retry_later(worker, good[0], exc, report)
            return
        for post_id in good:  # isolate the bad post: one at a time
            process_batch(worker, [post_id], report)
        return
    _index_and_finish(worker, good, report)


def process(rt: Runtime, *, limit: int | None = None, classifier: PostClassifier | None = None,
            index: PostIndex | None = None,
            batch_size: int | None = None, worker: Worker | None = None) -> ProcessReport:
    """Run the pipeline over every pending post (or ``limit`` of them), then return.

    Pass a long-lived ``worker`` to keep the classifier and index writer across calls.
    """
    report = ProcessReport()
    size = batch_size or rt.settings.engine.batch_size
    own = worker is None
    worker = worker or Worker(rt, classifier, index)
    worker.heartbeat.start()
    try:
        seen: set[str] = set()
        while limit is None or report.claimed < limit:
            take = size if limit is None else min(size, limit - report.claimed)
            now = rt.clock.now()
            with worker.heartbeat.lock:  # held before the claim commits: no beat sees a half state
                ids = claim(rt, take, now, exclude=seen)
                worker.heartbeat.hold(ids, now)
            if not ids:
                break
            seen.update(ids)
            report.claimed += len(ids)
            process_batch(worker, ids, report)
            worker.heartbeat.drop(ids)  # whatever is left (lost claims) is not ours any more
        if worker._classifier_error and report.released:
            report.errors.append(worker._classifier_error)
        if worker._index_error and report.done:
            report.errors.append(worker._index_error)
    finally:
        worker.heartbeat.stop()
        if own:
            worker.close()
    return report
