"""From the database (the record) to the index (derived): incremental indexing and full rebuilds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from search import get_index
from search.documents import doc_from_row
from search.types import PostIndex
from yuqing.db.models import IncidentPostRow, KeyValueRow, PostRow
from yuqing.query import SchemeMatcher
from yuqing.runtime import Runtime

REINDEX_KEY = "search.reindex"
Progress = Callable[[int, int], None]


def _incident_ids(session: Session, post_ids: Iterable[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    ids = list(post_ids)
    for i in range(0, len(ids), 500):
        rows = session.execute(select(IncidentPostRow.post_id, IncidentPostRow.incident_id)
                               .where(IncidentPostRow.post_id.in_(ids[i:i + 500])))
        for post_id, incident_id in rows:
            out[post_id].append(int(incident_id))
    return out


def build_docs(session: Session, rows: list[PostRow], schemes: SchemeMatcher | None) -> list[dict[str, Any]]:
    incidents = _incident_ids(session, [r.id for r in rows])
    return [doc_from_row(r, incidents.get(r.id, []), schemes) for r in rows]


def _schemes(rt: Runtime) -> SchemeMatcher | None:
    return SchemeMatcher.from_schemes(rt.settings.keyword_schemes) if rt.settings.keyword_schemes else None


def index_posts(rt: Runtime, post_ids: list[str], index: PostIndex | None = None) -> int:
    """Upsert these posts (with their incident ids) and set ``posts.indexed_at``; ids no longer in the
    database are deleted from the index. Returns the number of documents written."""
    if not post_ids:
        return 0
    own = index is None
    idx = index if index is not None else get_index(rt.settings, writer=True)
    try:
        schemes = _schemes(rt)
        with rt.session() as s:
            rows = list(s.scalars(select(PostRow).where(PostRow.id.in_(post_ids))))
            docs = build_docs(s, rows, schemes)
        gone = sorted(set(post_ids) - {r.id for r in rows})
        if docs:
            idx.upsert(docs)
        if gone:
            idx.delete(gone)
        idx.refresh()
        now = rt.clock.now()
        with rt.session() as s:
            s.execute(update(PostRow).where(PostRow.id.in_([d["id"] for d in docs])).values(indexed_at=now))
        return len(docs)
    finally:
        if own:
            idx.close()


def _marker(session: Session) -> dict[str, Any] | None:
    row = session.get(KeyValueRow, REINDEX_KEY)
    return dict(row.value) if row is not None else None


def reindex(rt: Runtime, index: PostIndex, *, fresh: bool = False, batch_size: int = 1000,
            progress: Progress | None = None) -> tuple[int, bool]:
    """Rebuild the index from the database. Resumable: an interrupted run continues where it stopped
    (posts already written keep ``indexed_at``); ``fresh`` starts over. Returns (documents, resumed)."""
    from search.elastic import ElasticIndex

    schemes = _schemes(rt)
    with rt.session() as s:
        marker = None if fresh else _marker(s)
    resumed = marker is not None
    if marker is None:
        marker = {"started_at": rt.clock.now().isoformat()}
        if isinstance(index, ElasticIndex):
            index.put_template()
            target = index.new_index_name()
            index.create_physical(target)
            marker["target"] = target
        else:
            index.create()
            index.clear()
        with rt.session() as s:
            s.execute(update(PostRow).values(indexed_at=None))
            row = s.get(KeyValueRow, REINDEX_KEY)
            if row is None:
                s.add(KeyValueRow(key=REINDEX_KEY, value=marker, updated_at=rt.clock.now()))
            else:
                row.value, row.updated_at = marker, rt.clock.now()
    target = marker.get("target")
    with rt.session() as s:
        total = int(s.scalar(select(func.count()).select_from(PostRow)) or 0)
        remaining = int(s.scalar(select(func.count()).select_from(PostRow).where(PostRow.indexed_at.is_(None))) or 0)
    done = total - remaining
    if progress:
        progress(done, total)
    last_id = ""
    while True:
        with rt.session() as s:
            rows = list(s.scalars(select(PostRow).where(PostRow.indexed_at.is_(None), PostRow.id > last_id)
                                  .order_by(PostRow.id).limit(batch_size)))
            if not rows:
                break
            docs = build_docs(s, rows, schemes)
        if isinstance(index, ElasticIndex) and target:
            index.upsert(docs, index=target)
        else:
            index.upsert(docs)
            index.refresh()  # commit before marking, so a crash never loses marked posts
        last_id = rows[-1].id
        with rt.session() as s:
            s.execute(update(PostRow).where(PostRow.id.in_([d["id"] for d in docs])).values(indexed_at=rt.clock.now()))
        done += len(docs)
        if progress:
            progress(done, total)
    if isinstance(index, ElasticIndex) and target:
        index.refresh(target)
        index.swap_alias(target)
    index.refresh()
    with rt.session() as s:
        row = s.get(KeyValueRow, REINDEX_KEY)
        if row is not None:
            s.delete(row)
    return total, resumed
