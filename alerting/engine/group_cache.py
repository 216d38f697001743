"""In-memory candidate index over the incidents that can still take posts (one per database).

Guarantees: ``entries(session, since)`` brings the cache in line with the database before it is
read — incidents added, changed (``updated_at`` moved: a new member, a stage change, a merge or
split through the web), merged away or out of the grouping window are re-read or dropped — with
one light query (id, updated_at, last_post_at) over the incidents active since ``since``, read
as the driver returns them (compared as stored, no datetime conversion); only the changed rows
are read in full and their ``features["g"]`` parsed. ``put`` updates an entry in place when this
process adds a member, so a post can join an incident opened a moment earlier in the same batch.
Nothing here is the source of truth: dropping the cache loses nothing.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, or_, select, type_coerce
from sqlalchemy.orm import Session

from alerting.engine.evidence import IncidentState
from alerting.engine.group_model import Candidate, TermIndex
from yuqing.db.models import IncidentRow

STATE_KEY = "g"


@dataclass
class Entry:
    state: IncidentState
    category: str
    last_post_at: datetime | None
    stage: str
    updated_at: datetime | None
    stamp: tuple[Any, Any] | None = None  # (updated_at, last_post_at) as the sync query read them


class GroupCache:
    def __init__(self) -> None:
        self.entries: dict[int, Entry] = {}
        self.index = TermIndex()

    def put(self, incident: IncidentRow, state: IncidentState) -> None:
        self.entries[incident.id] = Entry(state, incident.category, incident.last_post_at, incident.stage,
                                          incident.updated_at)
        self.index.put(incident.id, state)

    def drop(self, incident_id: int) -> None:
        self.entries.pop(incident_id, None)
        self.index.drop(incident_id)

    def sync(self, session: Session, since: datetime) -> None:
        rows = session.execute(select(IncidentRow.id, type_coerce(IncidentRow.updated_at, String),
                                      type_coerce(IncidentRow.last_post_at, String)).where(
            IncidentRow.merged_into.is_(None),
            or_(IncidentRow.last_post_at.is_(None), IncidentRow.last_post_at >= since))).all()
        stamps = {r[0]: (r[1], r[2]) for r in rows}
        for stale in [i for i in self.entries if i not in stamps]:
            self.drop(stale)
        changed = [i for i, stamp in stamps.items() if i not in self.entries or self.entries[i].stamp != stamp]
        for start in range(0, len(changed), 500):  # only the columns an entry keeps, only features["g"]
            chunk = changed[start:start + 500]
            for incident_id, data, category, last_post_at, stage, updated_at in session.execute(
                    select(IncidentRow.id, IncidentRow.features[STATE_KEY], IncidentRow.category,
                           IncidentRow.last_post_at, IncidentRow.stage, IncidentRow.updated_at)
                    .where(IncidentRow.id.in_(chunk))):
                state = IncidentState.from_json(data if isinstance(data, dict) else None)
                self.entries[incident_id] = Entry(state, category, last_post_at, stage, updated_at,
                                                  stamps[incident_id])
                self.index.put(incident_id, state)

    def candidates(self, ids: list[int]) -> list[Candidate]:
        out = []
        for i in ids:
            entry = self.entries.get(i)
            if entry is not None:
                out.append(Candidate(i, entry.state, entry.category, entry.last_post_at, entry.stage == "dismissed"))
        return out


_CACHES: weakref.WeakKeyDictionary[Any, GroupCache] = weakref.WeakKeyDictionary()


def cache_for(session: Session) -> GroupCache:
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    cache = _CACHES.get(engine)
    if cache is None:
        cache = _CACHES[engine] = GroupCache()
    return cache


def state_of(incident: IncidentRow) -> IncidentState:
    """The incident's grouping state as stored in its features (parsed once per features object)."""
    features = incident.features or {}
    cached = getattr(incident, "_yq_state", None)
    if cached is not None and cached[0] is features:
        return cached[1]
    state = IncidentState.from_json(features.get(STATE_KEY))
    incident._yq_state = (features, state)  # type: ignore[attr-defined]
    return state
