"""Which incident a crisis post belongs to.

Order of evidence:
1. a repost or near-duplicate (``repost_of`` / ``near_dup_of``) joins its original's incident;
2. otherwise the post is scored against every incident active within ``engine.group_window_days``::

       T = min(1, cos / 0.3)
       score = 0.6·T + 0.4·E     when the post and the incident share a place or name
             = 0.8·T − 0.5       when both name places/people but none in common
                                 (0.5 for a near-identical text, cos ≥ 0.85)
             = T                 when one side names none
       (with sentence embeddings: 0.75·score + 0.25·S)

   cos = the best binary cosine between the post's character bigrams and a member's, E = the
   share of the post's places/names (jieba ``ns``/``nr`` + a suffix rule) found in the incident,
   S = the embedding similarity rescaled from [0.80, 0.95] to [0, 1]. The best incident at or
   above ``engine.similarity_threshold`` wins; none ⇒ the post opens a new incident.

That hand-tuned score is the ``legacy`` grouper (``engine.params.grouping: legacy``). The default,
``model``, replaces step 2 with the fitted model of ``alerting.engine.group_model`` over the
evidence of ``alerting.engine.evidence`` (salient terms with news IDF, character n-grams, place
hierarchy, descriptors, time, category), candidates from the in-memory index of
``alerting.engine.group_cache``; the incident keeps only its small state in ``features["g"]``.
See docs/grouping.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session

from alerting.engine import group_model
from alerting.engine.evidence import IncidentState, PostEvidence
from alerting.engine.features import Fingerprint
from alerting.engine.group_cache import STATE_KEY, cache_for, state_of
from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow
from yuqing.settings import Settings

MAX_MEMBERS = 12  # member fingerprints kept per incident
TEXT_FULL = 0.3  # a bigram cosine at or above this is full text evidence
CONFLICT_IDENTICAL = 0.85  # different places/names join only a near-identical text
_SUFFIXES = ("自治区", "自治州", "省", "市", "县", "区", "镇", "乡")


@dataclass
class Match:
    incident: IncidentRow | None
    reason: str  # repost|near_dup|similar|opened
    score: float | None = None
    merge: list[int] | None = None  # incidents the post shows to be the same event (model grouper)


def expand_entities(ents: set[str]) -> set[str]:
    """江西省 also matches 江西: add the name without its administrative suffix."""
    out = set(ents)
    for ent in ents:
        for suffix in _SUFFIXES:
            if ent.endswith(suffix) and len(ent) - len(suffix) >= 2:
                out.add(ent[: -len(suffix)])
    return out


def post_text(row: PostRow) -> str:
    return f"{row.title}\n{row.text}" if row.title else (row.text or "")


def cosine(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def root_incident(session: Session, incident: IncidentRow | None) -> IncidentRow | None:
    seen = set()
    while incident is not None and incident.merged_into is not None and incident.id not in seen:
        seen.add(incident.id)
        incident = session.get(IncidentRow, incident.merged_into)
    return incident


def incident_of_post(session: Session, post_id: str) -> IncidentRow | None:
    link = session.scalars(select(IncidentPostRow).where(IncidentPostRow.post_id == post_id)
                           .order_by(IncidentPostRow.added_at)).first()
    return root_incident(session, session.get(IncidentRow, link.incident_id)) if link else None


def incidents_of_posts(session: Session, post_ids: list[str], held: dict[int, IncidentRow] | None = None
                       ) -> dict[str, IncidentRow]:
    """``incident_of_post`` for many posts in two queries (links, then their incidents, followed to
    the incident they were merged into); ``held`` receives the incidents read (strong references)."""
    first: dict[str, tuple[datetime, int]] = {}
    for start in range(0, len(post_ids), 500):
        chunk = post_ids[start:start + 500]
        for post_id, incident_id, added_at in session.execute(
                select(IncidentPostRow.post_id, IncidentPostRow.incident_id, IncidentPostRow.added_at)
                .where(IncidentPostRow.post_id.in_(chunk))):
            if post_id not in first or added_at < first[post_id][0]:
                first[post_id] = (added_at, incident_id)
    wanted = sorted({i for _, i in first.values()})
    rows = {r.id: r for r in session.scalars(select(IncidentRow).where(IncidentRow.id.in_(wanted)))} if wanted else {}
    out: dict[str, IncidentRow] = {}
    for post_id, (_, incident_id) in first.items():
        incident = root_incident(session, rows.get(incident_id))
        if incident is not None:
            out[post_id] = incident
            if held is not None:
                held[incident.id] = incident
    return out


def _fingerprint_sets(incident: IncidentRow) -> tuple[list[set[str]], set[str]]:
    """Member bigram sets and expanded entities, cached on the object until its features change."""
    features = incident.features or {}
    cached = getattr(incident, "_yq_sets", None)
    if cached is not None and cached[0] is features:
        return cached[1], cached[2]
    sets = [set(m.get("grams") or []) for m in features.get("members") or []]
    ents = expand_entities(set(features.get("ents") or []))
    incident._yq_sets = (features, sets, ents)  # type: ignore[attr-defined]
    return sets, ents


def score(fp: Fingerprint, incident: IncidentRow, embedding: list[float] | None = None) -> float:
    features = incident.features or {}
    member_sets, inc_ents = _fingerprint_sets(incident)
    best_cos = max((cosine(fp.grams, grams) for grams in member_sets), default=0.0)
    text = min(1.0, best_cos / TEXT_FULL)
    shared = expand_entities(fp.ents) & inc_ents
    if shared:
        value = 0.6 * text + 0.4 * min(1.0, len(shared) / max(1, min(len(fp.ents), 2)))
    elif fp.ents and inc_ents:  # both name places/people, none in common: another event, unless near-identical
        value = 0.5 if best_cos >= CONFLICT_IDENTICAL else 0.8 * text - 0.5
    else:
        value = text
    centroid = features.get("centroid")
    if embedding is not None and centroid:
        sim = sum(x * y for x, y in zip(embedding, centroid, strict=False))
        norm = math.sqrt(sum(x * x for x in centroid)) or 1.0
        value = 0.75 * value + 0.25 * min(1.0, max(0.0, (sim / norm - 0.80) / 0.15))
    return value


DEFAULT_MODE = "model"  # "legacy": the hand-tuned score, kept as the measured baseline


def mode(settings: Settings) -> str:
    """``model`` (default) or ``legacy`` (``engine.params.grouping``)."""
    value = str(settings.engine.params.get("grouping", DEFAULT_MODE))
    if value not in ("model", "legacy"):
        raise ValueError(f"engine.params.grouping 无效: {value!r}（应为 model 或 legacy）")
    return value


def fingerprint(row: PostRow, settings: Settings) -> Fingerprint | PostEvidence:
    """What the configured grouper compares: a legacy fingerprint or the model's evidence."""
    if mode(settings) == "legacy":
        return Fingerprint.of(post_text(row))
    return PostEvidence.of(post_text(row), row.category or "", row.published_at or row.first_seen_at)


def candidates(session: Session, when: datetime, settings: Settings) -> list[IncidentRow]:
    since = when - timedelta(days=settings.engine.group_window_days)
    if mode(settings) == "model":
        cache_for(session).sync(session, since)
        return []  # the model reads its candidates from the cache's index
    return list(session.scalars(select(IncidentRow).where(
        IncidentRow.merged_into.is_(None),
        or_(IncidentRow.last_post_at.is_(None), IncidentRow.last_post_at >= since),
    )))


def find(session: Session, row: PostRow, fp: Fingerprint, settings: Settings,
         embedding: list[float] | None = None, pool: list[IncidentRow] | None = None,
         known: dict[str, IncidentRow] | None = None) -> Match:
    """The incident ``row`` belongs to; ``pool`` = candidates loaded once for a batch (else queried);
    ``known``: the incidents of posts read for the batch (``incidents_of_posts``), kept up to date
    by the caller (else queried)."""
    for attr, reason in (("repost_of", "repost"), ("near_dup_of", "near_dup")):
        original = getattr(row, attr, None) or (row.extra or {}).get(attr)
        if original:
            incident = (root_incident(session, known.get(str(original))) if known is not None
                        else incident_of_post(session, str(original)))
            if incident is not None:
                return Match(incident, reason, 1.0)
    when = row.published_at or row.first_seen_at
    since = when - timedelta(days=settings.engine.group_window_days)
    if isinstance(fp, PostEvidence):
        return _find_model(session, fp, since, settings, synced=pool is not None)
    if pool is None:
        pool = candidates(session, when, settings)
    best: tuple[float, IncidentRow | None] = (-1.0, None)
    for incident in pool:
        if incident.merged_into is not None or (incident.last_post_at is not None and incident.last_post_at < since):
            continue
        value = score(fp, incident, embedding)
        if value > best[0] or (value == best[0] and best[1] is not None and incident.id < best[1].id):
            best = (value, incident)
    if best[1] is not None and best[0] >= settings.engine.similarity_threshold:
        return Match(best[1], "similar", round(best[0], 3))
    return Match(None, "opened", None)


def _find_model(session: Session, post: PostEvidence, since: datetime, settings: Settings, *,
                synced: bool) -> Match:
    cache = cache_for(session)
    if not synced:
        cache.sync(session, since)
    ids = cache.index.lookup(post)
    cands = [c for c in cache.candidates(ids) if c.last_post_at is None or c.last_post_at >= since]
    threshold = group_model.join_threshold(post, settings.engine.params.get("grouping_threshold"))
    merge_at = settings.engine.params.get("grouping_merge_threshold", group_model.model().get("merge_threshold"))
    ranked = group_model.ranked(post, cands)
    if not ranked or ranked[0][1] < threshold:
        return Match(None, "opened", None)
    with session.no_autoflush:  # loading an incident row needs none of the batch's pending links
        incident = root_incident(session, session.get(IncidentRow, ranked[0][0]))
    if incident is None:
        return Match(None, "opened", None)
    merge: list[int] = []
    if merge_at is not None and incident.stage != "dismissed":
        best_state = state_of(incident)
        for other, p in ranked[1:]:
            entry = cache.entries.get(other)
            if p >= float(merge_at) and entry is not None and entry.stage not in ("dismissed", "closed") \
                    and other != incident.id and group_model.mergeable(best_state, entry.state):
                merge.append(other)
    return Match(incident, "similar", round(ranked[0][1], 3), merge or None)


def _remember_model(incident: IncidentRow, row: PostRow, post: PostEvidence) -> None:
    # a copy (the stored dict stays as read): parsed from the stored JSON, which is exactly the
    # current state's to_json (the state is always stored right after it changes)
    state = IncidentState.from_json((incident.features or {}).get(STATE_KEY))
    state.add(post)
    features: dict[str, Any] = dict(incident.features or {})
    features[STATE_KEY] = state.to_json()
    # places and named institutions as plain names, the list other readers (crawlers/freshness) use
    features["ents"] = sorted({p.name for p in state.place_objs.values()}
                              | {d[4:] for d in state.desc if d.startswith("org:")})
    incident.features = features
    incident._yq_state = (features, state)  # type: ignore[attr-defined]
    session = object_session(incident)
    if session is not None and incident.id is not None:
        when = row.published_at or row.first_seen_at
        times = [t for t in (incident.last_post_at, when, row.first_seen_at) if t is not None]
        cache = cache_for(session)
        cache.put(incident, state)
        cache.entries[incident.id].last_post_at = max(times) if times else None


def remember(incident: IncidentRow, row: PostRow, fp: Fingerprint | PostEvidence,
             embedding: list[float] | None) -> None:
    """Fold a member's fingerprint into the incident's features (a new dict: JSON is not tracked)."""
    if isinstance(fp, PostEvidence):
        _remember_model(incident, row, fp)
        return
    features: dict[str, Any] = dict(incident.features or {})
    members = list(features.get("members") or [])
    if len(members) < MAX_MEMBERS and all(m.get("id") != row.id for m in members):
        members.append({"id": row.id, **fp.to_json()})
    features["members"] = members
    features["ents"] = sorted(set(features.get("ents") or []) | fp.ents)
    if embedding is not None:
        count = int(features.get("n_emb") or 0)
        centroid = features.get("centroid") or [0.0] * len(embedding)
        features["centroid"] = [(c * count + e) / (count + 1) for c, e in zip(centroid, embedding, strict=False)]
        features["n_emb"] = count + 1
    incident.features = features


def rebuild_features(session: Session, incident: IncidentRow) -> None:
    """Recompute the grouping state from the members (after a split or merge)."""
    legacy = "members" in (incident.features or {})
    incident.features = {k: v for k, v in (incident.features or {}).items()
                         if k not in ("members", "ents", "centroid", "n_emb", STATE_KEY)}
    rows = session.scalars(select(PostRow).join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
                           .where(IncidentPostRow.incident_id == incident.id)
                           .order_by(PostRow.published_at)).all()
    for row in rows:
        if legacy:
            remember(incident, row, Fingerprint.of(post_text(row)), None)
        else:
            remember(incident, row, PostEvidence.of(post_text(row), row.category or "",
                                                    row.published_at or row.first_seen_at), None)


def _hot_model(session: Session, row: PostRow, now: datetime, settings: Settings
               ) -> tuple[float, IncidentRow | None]:
    """A 热搜 topic against the open incidents: the share of its term weight in the incident's terms,
    plus 0.3 when it names a place of the incident (city level or finer)."""
    from alerting.engine.evidence import place_relation

    topic = PostEvidence.of(post_text(row), "", now)
    cache = cache_for(session)
    cache.sync(session, now - timedelta(days=settings.engine.group_window_days))
    best: tuple[float, int | None] = (0.0, None)
    for cand in cache.candidates(cache.index.lookup(topic)):
        entry = cache.entries[cand.key]
        if entry.stage in ("closed", "dismissed"):
            continue
        contained = sum(v * v for k, v in topic.terms.items() if k in cand.state.centroid)
        depth, _ = place_relation(topic.places, list(cand.state.place_objs.values()))
        value = contained + (0.3 if depth >= 2 else 0.0)
        if value > best[0] or (value == best[0] and best[1] is not None and cand.key < best[1]):
            best = (value, cand.key)
    return best[0], (session.get(IncidentRow, best[1]) if best[1] is not None else None)


def match_hot_search(session: Session, row: PostRow, now: datetime, settings: Settings) -> IncidentRow | None:
    """A 热搜 entry (platform weibo_hot) whose topic matches an open incident marks it as trending."""
    fp = Fingerprint.of(post_text(row))
    rank = (row.extra or {}).get("rank") or (row.extra or {}).get("hot_rank")
    try:
        rank = int(rank) if rank is not None else 50
    except (TypeError, ValueError):
        rank = 50
    best: tuple[float, IncidentRow | None] = (0.0, None)
    if mode(settings) == "model":
        best = _hot_model(session, row, now, settings)
    for incident in candidates(session, now, settings) if mode(settings) == "legacy" else []:
        if incident.stage in ("closed", "dismissed"):
            continue
        members = (incident.features or {}).get("members") or []
        contained = max((len(fp.grams & set(m.get("grams") or [])) / max(1, len(fp.grams))
                         for m in members), default=0.0)
        shared = bool(expand_entities(fp.ents) & expand_entities(set((incident.features or {}).get("ents") or [])))
        value = contained + (0.3 if shared else 0.0)
        if value > best[0]:
            best = (value, incident)
    if best[1] is None or best[0] < 0.6:
        return None
    incident = best[1]
    features = dict(incident.features or {})
    previous = features.get("hot") or {}
    if not previous or rank <= int(previous.get("rank") or 99) or previous.get("at", "") < now.isoformat():
        features["hot"] = {"post_id": row.id, "rank": rank, "at": now.isoformat(), "topic": (row.text or "")[:60]}
    incident.features = features
    incident.hot_search_rank = rank
    return incident
