"""The pipeline worker (`yuqing process`; not Scrapy's item pipelines, which are crawlers/pipelines.py): pending posts → classify → incidents → index → done.

Each batch goes through four short steps, never holding a transaction across inference or
index I/O:

1. claim: pending posts (and posts whose claim is older than ``STALE_CLAIM``: a worker died)
   become ``processing``; on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so several workers share
   the queue, on SQLite with an UPDATE guarded by the previous state;
2. classify outside any transaction (posts that already carry ``category``/``severity`` — in the
   row, or in ``extra`` from a scenario — are taken as classified);
3. one transaction: classification rows, the engine (incidents, heat, notifications in the outbox);
4. index the posts with their incident ids, then mark them ``done``.

A crash anywhere leaves the posts ``processing``; the next run retakes them and the engine is
idempotent (a post joins an incident once, notifications are keyed), so nothing is counted or
sent twice. A post re-queued by an engagement update goes through again: heat follows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

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
STALE_CLAIM = timedelta(minutes=10)
MAX_ATTEMPTS = 5


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
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"处理 {self.done} 条（模型分类 {self.classified}，已带分类 {self.preclassified}），"
                f"危机帖子 {self.crisis} 条，新建事件 {self.opened} 个，并入已有事件 {self.joined} 条，"
                f"已索引 {self.indexed} 条，失败 {self.failed} 条，退回待处理 {self.released} 条")


def claim(rt: Runtime, limit: int, now: datetime) -> list[str]:
    """Take up to ``limit`` posts for this worker (short transaction)."""
    stale = now - STALE_CLAIM
    due = or_(PostRow.status == "pending",
              and_(PostRow.status == "processing", or_(PostRow.claimed_at.is_(None), PostRow.claimed_at < stale)))
    won: list[str] = []
    with rt.session() as s:
        query = select(PostRow.id, PostRow.status, PostRow.claimed_at).where(due) \
            .order_by(PostRow.first_seen_at, PostRow.id).limit(limit)
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for post_id, status, claimed_at in s.execute(query).all():
            guard = [PostRow.id == post_id, PostRow.status == status,
                     PostRow.claimed_at.is_(None) if claimed_at is None else PostRow.claimed_at == claimed_at]
            result = s.execute(update(PostRow).where(*guard)
                               .values(status="processing", claimed_at=now, attempts=PostRow.attempts + 1)
                               .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                won.append(post_id)
    return won


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
                 *, indexing: bool = True) -> None:
        """``indexing=False``: posts are not indexed (replay: the index is derived, not in the contract)."""
        self.rt = rt
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
    if model is not None:
        crisis = [r for r in rows if r.id in result and result[r.id].category is not Category.none]
        if crisis:
            vectors = model.embed([f"{r.title}\n{r.text}" if r.title else r.text for r in crisis])
            embeddings = {r.id: [float(x) for x in v] for r, v in zip(crisis, vectors, strict=True)}
    return result, errors, embeddings


def _apply(rt: Runtime, ids: list[str], classes: dict[str, Classification],
           embeddings: dict[str, list[float]], report: ProcessReport) -> None:
    now = rt.clock.now()
    with rt.session() as s:
        rows = list(s.scalars(select(PostRow).where(PostRow.id.in_(ids)).order_by(PostRow.first_seen_at, PostRow.id)))
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
    with rt.session() as s:
        s.execute(update(PostRow).where(PostRow.id.in_(ids), PostRow.status == "processing")
                  .values(status="done", processed_at=now, claimed_at=None, error=None)
                  .execution_options(synchronize_session=False))
    report.done += len(ids)


def _settle(rt: Runtime, errors: dict[str, str], report: ProcessReport) -> None:
    """Posts that could not go through: back to pending (no classifier) or failed (bad data)."""
    if not errors:
        return
    with rt.session() as s:
        for post_id, reason in errors.items():
            row = s.get(PostRow, post_id)
            if row is None:
                continue
            row.claimed_at = None
            if reason == "release":
                row.status, row.attempts = "pending", max(0, row.attempts - 1)
                report.released += 1
            else:
                row.status, row.error = "failed", reason
                report.failed += 1
                report.errors.append(reason)


def process_batch(worker: Worker, ids: list[str], report: ProcessReport) -> None:
    rt = worker.rt
    with rt.session() as s:
        rows = list(s.scalars(select(PostRow).where(PostRow.id.in_(ids))))
    classes, errors, embeddings = _classify(worker, rows, report)
    _settle(rt, errors, report)
    good = [r.id for r in rows if r.id in classes]
    if not good:
        return
    try:
        _apply(rt, good, classes, embeddings, report)
    except Exception as exc:
        if len(good) == 1:
            log.exception("engine failed on post %s", good[0])
            attempts = 0
            with rt.session() as s:
                row = s.get(PostRow, good[0])
                attempts = row.attempts if row else 0
            reason = f"帖子 {good[0]} 处理失败: {exc}"
            if attempts < MAX_ATTEMPTS:
                with rt.session() as s:
                    s.execute(update(PostRow).where(PostRow.id == good[0])
                              .values(status="pending", claimed_at=None, error=reason))
                report.errors.append(reason)
            else:
                _settle(rt, {good[0]: reason}, report)
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
    try:
        seen: set[str] = set()
        while limit is None or report.claimed < limit:
            take = size if limit is None else min(size, limit - report.claimed)
            ids = [i for i in claim(rt, take, rt.clock.now()) if i not in seen]
            if not ids:
                break
            seen.update(ids)
            report.claimed += len(ids)
            process_batch(worker, ids, report)
        if worker._classifier_error and report.released:
            report.errors.append(worker._classifier_error)
        if worker._index_error and report.done:
            report.errors.append(worker._index_error)
    finally:
        if own:
            worker.close()
    return report
