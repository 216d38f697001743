"""The engine's two entry points: crisis posts in (``handle_posts``) and the minute tick (``tick``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import roster, units
from alerting.engine import clock, grouping, heat, region, texts
from alerting.engine import severity as evidence
from alerting.engine.digest import next_digest, send_due_digests
from alerting.engine.features import Fingerprint
from alerting.engine.group_cache import cache_for
from alerting.engine.notify import send
from alerting.engine.stages import OPEN_STAGES, history, instantiate_checklist, transition
from yuqing import hooks
from yuqing.audit import record
from yuqing.db.models import EngagementRow, HeatSampleRow, IncidentPostRow, IncidentRow, PostRow
from yuqing.privacy import mask_post, mask_then_cut
from yuqing.settings import Settings
from yuqing.timeutil import to_utc

SAMPLE_EVERY = timedelta(minutes=10)
REFRESH_CHUNK = 200  # incidents whose posts are read at once by refresh_many


@dataclass
class EngineReport:
    opened: list[int] = field(default_factory=list)
    joined: int = 0
    touched: set[int] = field(default_factory=set)


def is_crisis(row: PostRow) -> bool:
    return bool(row.category) and row.category != "none" and (row.severity or 0) > 0


def title_of(row: PostRow) -> str:
    """The incident's title: the first post's first 40 characters, masked first and then cut (the
    stored title is what every exit shows, so it never holds a cut-off ID or phone number)."""
    shown = mask_post({"title": row.title or "", "text": row.text or ""})  # a name cued in the body is
    text = str(shown["title"] or shown["text"] or "").strip().replace("\n", " ")  # masked in the title
    return mask_then_cut(text, 41)


def link(session: Session, incident: IncidentRow, row: PostRow, now: datetime, reason: str,
         score: float | None, fp: Fingerprint | grouping.PostEvidence | None = None,
         embedding: list[float] | None = None) -> None:
    session.add(IncidentPostRow(incident_id=incident.id, post_id=row.id, added_at=now, reason=reason, score=score))
    grouping.remember(incident, row, fp or Fingerprint.of(grouping.post_text(row)), embedding)
    when = row.published_at or row.first_seen_at
    incident.last_post_at = max(incident.last_post_at or when, when, row.first_seen_at or when)
    incident.updated_at = now
    region.note_post(incident, row)  # where it is: one text scan, the tally lives in features


def opening_stage(severity: int, settings: Settings | None) -> str:
    """应对 at once when the opening post reaches ``clock.auto_response_severity``, else 预警."""
    if settings is not None and severity >= settings.clock.auto_response_severity:
        return "response"
    return "warning"


def open_incident(session: Session, row: PostRow, now: datetime, settings: Settings | None = None) -> IncidentRow:
    severity = max(1, int(row.severity or 1))
    stage = opening_stage(severity, settings)
    incident = IncidentRow(title=title_of(row), category=row.category, severity=severity,
                           peak_severity=0, stage=stage, heat=0.0, peak_heat=0.0, detected_at=now,
                           stage_entered_at=now, created_at=now, updated_at=now, features={}, version=0)
    session.add(incident)
    session.flush()
    reason = "发现新舆情事件"
    if stage == "response":
        reason += f"，首帖等级达到{texts.severity_zh(severity)}，直接进入应对阶段"
    history(session, incident, None, stage, "system", now, reason)
    return incident


def handle_posts(session: Session, rows: Iterable[PostRow], now: datetime, settings: Settings,
                 embeddings: dict[str, list[float]] | None = None) -> EngineReport:
    """Group classified posts into incidents and bring those incidents up to date (one transaction).

    Batched: the links the batch's posts (and the originals they repost) already have are read in
    one query, the incidents the batch touches are held for the whole batch (no reload), nothing
    is flushed per post (a query flushes what it needs), and each touched incident is refreshed
    once, after every post of the batch has been grouped."""
    report = EngineReport()
    embeddings = embeddings or {}
    # originals before the reposts and near-duplicates that point at them, so that a repost
    # arriving in the same batch as its original joins the original's incident
    rows = sorted(rows, key=lambda r: bool(r.repost_of or r.near_dup_of or (r.extra or {}).get("repost_of")))
    times = [r.published_at or r.first_seen_at for r in rows if is_crisis(r)]
    pool = grouping.candidates(session, min(times), settings) if times else []
    held: dict[int, IncidentRow] = {}  # strong references: the session's identity map is weak
    known = grouping.incidents_of_posts(session, _post_ids_needed(rows), held) if times else {}
    for row in rows:
        if row.platform == "weibo_hot" and not is_crisis(row):
            hot = grouping.match_hot_search(session, row, now, settings)
            if hot is not None:
                held[hot.id] = hot
                report.touched.add(hot.id)
            continue
        if not is_crisis(row):
            continue
        existing = known.get(row.id)
        if existing is not None:  # re-queued (engagement changed): heat follows, no new alert
            existing = grouping.root_incident(session, existing)
            if existing is not None:
                held[existing.id] = existing
                report.touched.add(existing.id)
                continue
        fp = grouping.fingerprint(row, settings)
        match = grouping.find(session, row, fp, settings, embeddings.get(row.id), pool=pool, known=known)
        incident = apply_merges(session, match, now, settings)
        if incident is None:
            incident = open_incident(session, row, now, settings)
            pool.append(incident)
            report.opened.append(incident.id)
        else:
            report.joined += 1
        link(session, incident, row, now, match.reason, match.score, fp, embeddings.get(row.id))
        known[row.id] = incident
        held[incident.id] = incident
        report.touched.add(incident.id)
    session.flush()
    touched = [held.get(i) or session.get(IncidentRow, i) for i in sorted(report.touched)]
    refresh_many(session, [i for i in touched if i is not None], now, settings, opened=set(report.opened))
    return report


def members_of(session: Session, incident_ids: list[int]) -> dict[int, list[PostRow]]:
    """The posts of many incidents in one query per 500 incidents, by incident id."""
    out: dict[int, list[PostRow]] = {i: [] for i in incident_ids}
    for start in range(0, len(incident_ids), 500):
        chunk = incident_ids[start:start + 500]
        for incident_id, post in session.execute(
                select(IncidentPostRow.incident_id, PostRow).join(PostRow, IncidentPostRow.post_id == PostRow.id)
                .where(IncidentPostRow.incident_id.in_(chunk))):
            out[incident_id].append(post)
    return out


def refresh_many(session: Session, incidents: list[IncidentRow], now: datetime, settings: Settings, *,
                 opened: set[int] | frozenset[int] = frozenset()) -> None:
    """``refresh`` each incident, in id order, with their posts and engagement read in bulk first
    (the same figures as refreshing them one by one: each reads only its own posts)."""
    ordered = sorted(incidents, key=lambda i: i.id)
    for start in range(0, len(ordered), REFRESH_CHUNK):  # bounded memory on a tick over thousands
        chunk = ordered[start:start + REFRESH_CHUNK]
        session.flush()
        members = members_of(session, [i.id for i in chunk])
        samples = heat.load_samples(session, sorted({p.id for posts in members.values() for p in posts}))
        for incident in chunk:
            posts = members.get(incident.id, [])
            refresh(session, incident, now, settings, opened=incident.id in opened, posts=posts,
                    samples={p.id: samples[p.id] for p in posts if p.id in samples})


def _post_ids_needed(rows: list[PostRow]) -> list[str]:
    """The batch's crisis posts and the originals they repost or duplicate."""
    ids: set[str] = set()
    for row in rows:
        if not is_crisis(row):
            continue
        ids.add(row.id)
        for attr in ("repost_of", "near_dup_of"):
            original = getattr(row, attr, None) or (row.extra or {}).get(attr)
            if original:
                ids.add(str(original))
    return sorted(ids)


def _category(session: Session, incident: IncidentRow, posts: list[PostRow] | None = None) -> str:
    rows = ([(p.category, p.severity) for p in posts] if posts is not None else session.execute(
        select(PostRow.category, PostRow.severity).join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
        .where(IncidentPostRow.incident_id == incident.id)))
    votes: Counter[str] = Counter()
    for category, severity in rows:
        if category and category != "none":
            votes[category] += int(severity or 1)
    if not votes:
        return incident.category
    best = max(votes.values())
    return incident.category if votes.get(incident.category) == best else votes.most_common(1)[0][0]


def refresh(session: Session, incident: IncidentRow, now: datetime, settings: Settings, *,
            opened: bool = False, posts: list[PostRow] | None = None,
            samples: dict[str, list[EngagementRow]] | None = None) -> None:
    """Recompute heat, severity, category and clock; alert on what changed; run the clock checks.

    ``posts``/``samples``: the incident's posts and their engagement, read in bulk by ``refresh_many``."""
    reading = heat.compute(session, incident, now, settings, posts=posts, samples=samples)
    previous_heat = incident.heat
    incident.heat = reading.heat
    incident.peak_heat = max(incident.peak_heat or 0.0, reading.heat)
    old_severity = incident.severity
    old_peak = incident.peak_severity or 0
    assessment = evidence.assess(incident, reading.members, now, settings)
    incident.severity = assessment.severity
    incident.peak_severity = max(old_peak, incident.severity)
    incident.category = _category(session, incident, posts)
    clock.update_deadline(session, incident, settings, posts=posts)
    features = dict(incident.features or {})
    if features.get("severity_reason") != assessment.reason:
        features["severity_reason"] = assessment.reason
        incident.features = features
    last_sample = features.get("sampled_at")
    if (opened or last_sample is None or abs(previous_heat - reading.heat) >= 1.0
            or now - datetime.fromisoformat(last_sample) >= SAMPLE_EVERY):
        session.add(HeatSampleRow(incident_id=incident.id, at=now, heat=reading.heat, posts=reading.posts,
                                  engagement=reading.engagement, severity=incident.severity))
        features["sampled_at"] = now.isoformat()
        incident.features = features
    if incident.stage == "warning" and incident.severity >= settings.clock.auto_response_severity:
        # an incident that opens at this level is announced in 应对 by new_incident (no stage_change)
        transition(session, incident, "response", actor="system", now=now, settings=settings, notify=not opened,
                   reason=f"等级达到{texts.severity_zh(incident.severity)}（{assessment.reason}），自动进入应对阶段")
    if opened:
        instantiate_checklist(session, incident, incident.stage, now, settings)
        units.assign(incident, settings, session)  # the owner unit's roster (alerting.units)
        duty = units.roster_of(settings, units.owner(settings, incident))
        people = roster.recipients(duty, 0, now)
        send(session, kind="new_incident", incident=incident, now=now, settings=settings, key="open",
             text=texts.new_incident(incident, now, roster.names(duty, people)))
    elif incident.severity > old_peak and incident.stage in OPEN_STAGES:
        send(session, kind="severity_up", incident=incident, now=now, settings=settings,
             key=str(incident.severity), text=texts.severity_up(incident, old_severity, now))
    if incident.stage in OPEN_STAGES:
        clock.tick_incident(session, incident, now, settings)
    elif incident.stage == "closed":
        clock.check_heat_stages(session, incident, now, settings)


def open_incidents(session: Session) -> list[IncidentRow]:
    return list(session.scalars(select(IncidentRow).where(
        IncidentRow.stage.in_(OPEN_STAGES), IncidentRow.merged_into.is_(None)).order_by(IncidentRow.id)))


def tick(session: Session, now: datetime, settings: Settings) -> int:
    """The minute tick: heat decays, reminders, breaches, escalations, stage automation."""
    incidents = open_incidents(session)
    refresh_many(session, incidents, now, settings)
    for hook in hooks.TICK_HOOKS:
        hook(session, now, settings)
    send_due_digests(session, now, settings)
    return len(incidents)


def next_due(session: Session, now: datetime, settings: Settings) -> datetime | None:
    due = [d for d in (clock.next_due(i, now, settings) for i in open_incidents(session)) if d]
    due.append(next_digest(settings, now))
    due = [d for d in due if d is not None]
    return min(due) if due else None


def merge_incidents(session: Session, target: IncidentRow, sources: list[IncidentRow], actor: str, now: datetime,
                    settings: Settings) -> IncidentRow:
    """Fold ``sources`` into ``target``: their posts move, each source is kept marked merged (closed,
    no notification), the earliest first response counts, and the target's clock is recomputed from
    all posts. The one merge of the engine: a person's (alerting.actions.merge) and the grouper's."""
    for source in sources:
        links = session.scalars(select(IncidentPostRow).where(IncidentPostRow.incident_id == source.id)).all()
        have = set(session.scalars(select(IncidentPostRow.post_id).where(IncidentPostRow.incident_id == target.id)))
        for row in links:
            if row.post_id not in have:
                session.add(IncidentPostRow(incident_id=target.id, post_id=row.post_id, added_at=now,
                                            reason="manual", score=None))
            session.delete(row)
        source.merged_into = target.id
        target.last_post_at = max(t for t in (target.last_post_at, source.last_post_at) if t) \
            if (target.last_post_at or source.last_post_at) else None
        if source.first_response_at and (target.first_response_at is None
                                         or source.first_response_at < target.first_response_at):
            target.first_response_at = source.first_response_at
            target.first_response_url = source.first_response_url
        record(session, actor=actor, action="incident.merge", object_type="incident", object_id=source.id, at=now,
               after={"merged_into": target.id}, detail=f"并入事件 #{target.id}")
        if source.stage in OPEN_STAGES:
            transition(session, source, "closed", actor=actor, now=now, settings=settings, notify=False,
                       reason=f"并入事件 #{target.id}")
    session.flush()
    grouping.rebuild_features(session, target)
    region.rebuild(session, target)
    target.clock_started_at = None  # recomputed from all posts: the earliest one counts
    refresh(session, target, now, settings)
    return target


def apply_merges(session: Session, match: grouping.Match, now: datetime, settings: Settings) -> IncidentRow | None:
    """Fold the incidents a post bridges into the oldest of them (the model grouper only); the
    incident the post then joins. Merging keeps the earliest incident's clock and closes the others
    as merged (no notification), exactly as a person's merge does."""
    if match.incident is None or not match.merge:
        return match.incident
    ids = sorted({match.incident.id, *match.merge})
    rows = [session.get(IncidentRow, i) for i in ids]
    live = [row for row in rows if row is not None and row.merged_into is None]
    if len(live) < 2 or live[0].id != ids[0]:
        return match.incident
    target, sources = live[0], live[1:]
    target = merge_incidents(session, target, sources, "系统（自动合并）", to_utc(now), settings)
    cache = cache_for(session)
    for source in ids[1:]:
        cache.drop(source)
    return target
