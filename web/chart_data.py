"""Data behind the charts (/api/charts/…, the incident and stats pages, the 值班大屏), read from the
database and shaped with :mod:`web.charts`.

Guarantees:

* Times are bucketed in Beijing time; every time sent is ISO 8601 with its offset (+08:00), every
  label is Beijing time.
* Nothing carries post text, authors or URLs: an incident is named by its masked title
  (``yuqing.privacy.mask``) and an alert by :func:`alerting.messages.title` (masked too).
* Where an incident is: its own region columns (``region_code``…, migration 0011, set by
  ``alerting.engine.region``) when they are set or the engine has tallied its posts; otherwise
  derived from its posts — the places their titles and texts
  name (``yuqing.places.extract``) and their IP属地 (the ``region`` field crawlers keep in
  ``extra``) — by a vote of posts: the province most posts name, then the city most of those name.
  ``confidence`` is the share of the incident's posts that name that province.
* ``narrow``: a function that limits a select over incidents to what the viewer may see
  (``web.scope.restrict``); None sees everything. Alerts and posts follow their incidents.
* Counts over the last 7/30 days are of incidents detected in that window (merged ones excluded),
  by category, by severity and per Beijing day.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from web import charts
from yuqing import places
from yuqing.db.models import HeatSampleRow, IncidentPostRow, IncidentRow, NotificationRow, PostRow
from yuqing.domain import CATEGORIES, SEVERITY_INFO, Severity, Stage, category_zh, severity_zh, stage_zh
from yuqing.privacy import mask
from yuqing.timeutil import SHANGHAI, iso_shanghai, to_utc

OPEN_STAGES = (Stage.warning.value, Stage.response.value, Stage.aftermath.value)
TREND_HOURS = 24 * 7  # the longest an incident's hourly chart goes back
SPARK_HOURS = 24
Narrow = Callable[[Select], Select]
# what the wall lists as alerts: every notification but those held back as repeats
ALERT_STATUS_ZH = {"sent": "已发送", "pending": "待发送", "sending": "发送中", "dead": "发送失败"}


# --- one incident ----------------------------------------------------------------------------

def incident_trend(session: Session, incident_id: int, now: datetime) -> dict[str, Any] | None:
    """Heat (line, on the incident's own range) and posts per hour (bars) in Beijing hours, from the
    incident's first post or sample to now (closed incidents: to their close), at most a week."""
    inc = session.get(IncidentRow, incident_id)
    if inc is None:
        return None
    samples = list(session.execute(select(HeatSampleRow.at, HeatSampleRow.heat).where(
        HeatSampleRow.incident_id == incident_id)).all())
    times = [t for (t,) in session.execute(select(func.coalesce(PostRow.published_at, PostRow.first_seen_at)).join(
        IncidentPostRow, IncidentPostRow.post_id == PostRow.id).where(IncidentPostRow.incident_id == incident_id))]
    times = [to_utc(t) for t in times if t is not None]
    end = to_utc(inc.closed_at) if inc.closed_at else to_utc(now)
    starts = [to_utc(t) for t in times] + [to_utc(at) for at, _ in samples]
    start = min(starts, default=end)
    hours = charts.hour_axis(start, max(end, start), limit=TREND_HOURS)
    heat = charts.heat_per_hour(samples, hours)
    lo, hi = charts.own_range(heat)
    return {"id": inc.id, "title": mask(inc.title or ""),
            "hours": [iso_shanghai(h) for h in hours], "labels": [charts.hour_label(h) for h in hours],
            "heat": heat, "posts": charts.per_hour(times, hours), "heat_min": lo, "heat_max": hi,
            "peak_heat": round(inc.peak_heat or 0.0, 1)}


def sparklines(session: Session, incident_ids: list[int], now: datetime,
               hours: int = SPARK_HOURS) -> dict[int, dict[str, Any]]:
    """Per incident: hourly heat over the last ``hours`` Beijing hours with its own axis range."""
    axis = charts.hour_axis(now - timedelta(hours=hours - 1), now)
    samples: dict[int, list[tuple[datetime, float]]] = {i: [] for i in incident_ids}
    if incident_ids:
        for inc_id, at, heat in session.execute(select(HeatSampleRow.incident_id, HeatSampleRow.at,
                                                       HeatSampleRow.heat).where(
                HeatSampleRow.incident_id.in_(incident_ids))):
            samples[inc_id].append((at, heat))
    out = {}
    for inc_id, rows in samples.items():
        values = charts.heat_per_hour(rows, axis)
        lo, hi = charts.own_range(values)
        out[inc_id] = {"labels": [charts.hour_label(h) for h in axis], "heat": values, "min": lo, "max": hi}
    return out


# --- categories and severities over 7/30 days -------------------------------------------------

def category_severity(session: Session, now: datetime, days: int, narrow: Narrow | None = None) -> dict[str, Any]:
    """Incidents detected in the last ``days`` days (Beijing days, today included)."""
    today = to_utc(now).astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=days - 1)
    stmt = select(IncidentRow.detected_at, IncidentRow.category, IncidentRow.severity).where(
        IncidentRow.detected_at >= to_utc(first), IncidentRow.detected_at <= to_utc(now),
        IncidentRow.merged_into.is_(None))
    rows = list(session.execute(narrow(stmt) if narrow else stmt).all())
    day_keys = [(first + timedelta(days=i)).date() for i in range(days)]
    index = {d: i for i, d in enumerate(day_keys)}
    cats = [c.value for c in CATEGORIES]
    per_day = {c: [0] * days for c in cats}
    by_cat: Counter[str] = Counter()
    by_sev: Counter[int] = Counter()
    for detected, category, severity in rows:
        by_cat[category] += 1
        by_sev[int(severity or 0)] += 1
        i = index.get(to_utc(detected).astimezone(SHANGHAI).date())
        if i is not None and category in per_day:
            per_day[category][i] += 1
    return {
        "days": days, "since": iso_shanghai(first), "total": len(rows),
        "labels": [d.strftime("%m-%d") for d in day_keys],
        "categories": [{"key": c, "name": category_zh(c), "count": by_cat.get(c, 0), "per_day": per_day[c]}
                       for c in cats],
        "severities": [{"key": int(s), "name": s.zh, "label": severity_zh(int(s)), "colour": SEVERITY_INFO[s][3],
                        "count": by_sev.get(int(s), 0)} for s in Severity],
    }


# --- where incidents are ------------------------------------------------------------------------

@dataclass(frozen=True)
class Region:
    province_code: str | None
    province: str | None
    city_code: str | None
    city: str | None
    confidence: float
    source: str  # "incident" (its region columns) | "posts" (derived) | "none"


@lru_cache(maxsize=1)
def coordinates() -> dict[str, tuple[float, float]]:
    """Longitude/latitude of every unit of cpca's gazetteer, by 12-digit code."""
    out: dict[str, tuple[float, float]] = {}
    with places.gazetteer_path().open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                out[row["adcode"].strip()] = (float(row["longitude"]), float(row["latitude"]))
            except (KeyError, TypeError, ValueError):
                continue
    return out


def _units(place: places.Place) -> tuple[str | None, str | None]:
    """(province code, city code) of a place; the city is None for a province or when unknown."""
    chain = [*place.parents, place.code]
    codes = [c for c in chain if len(c) == 12 and c.isdigit()]
    known = [p for p in (places.lookup(c) for c in codes) if p is not None]
    province = next((p.code for p in known if p.level == "province"), None)
    city = next((p.code for p in known if p.level == "city"), None)
    if province is None and codes:
        province = codes[0][:2] + "0" * 10
    return province, city


def _name(code: str | None) -> str | None:
    place = places.lookup(code) if code else None
    return place.name if place else None


def _from_columns(inc: IncidentRow) -> Region | None:
    code = str(getattr(inc, "region_code", None) or "").split("/")[0]  # "410726000000/汲冢镇": a town
    if not code:
        return None
    if code.isdigit() and len(code) < 12:
        code = code.ljust(12, "0")  # 6-digit 行政区划代码
    place = places.lookup(code)
    if place is None:  # a town or village (synthetic code): its name still names its county/city
        found = places.extract(str(getattr(inc, "region_name", None) or ""))
        place = found[-1] if found else None
    if place is None:
        return None
    province, city = _units(place)
    confidence = getattr(inc, "region_confidence", None)
    return Region(province, _name(province), city, _name(city), float(confidence or 1.0), "incident")


def vote_region(post_places: list[list[places.Place]]) -> Region:
    """The province most posts name, then the city most of those posts name within it."""
    prov_votes: Counter[str] = Counter()
    city_votes: Counter[tuple[str, str]] = Counter()
    for found in post_places:
        provinces, cities = set(), set()
        for place in found:
            province, city = _units(place)
            if province:
                provinces.add(province)
                if city:
                    cities.add((province, city))
        prov_votes.update(provinces)
        city_votes.update(cities)
    if not prov_votes:
        return Region(None, None, None, None, 0.0, "none")
    province, votes = sorted(prov_votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    in_province = sorted(((c, n) for (p, c), n in city_votes.items() if p == province), key=lambda kv: (-kv[1], kv[0]))
    city = in_province[0][0] if in_province else None
    return Region(province, _name(province), city, _name(city), round(votes / max(1, len(post_places)), 2), "posts")


def _post_places(title: str | None, text: str | None, extra: dict | None) -> list[places.Place]:
    found = places.extract(f"{title or ''}\n{text or ''}")
    ip = (extra or {}).get("region")
    if isinstance(ip, str) and ip.strip():
        found += places.extract(ip.replace("IP属地", "").replace("发布于", "").strip())
    return found


_DERIVED: dict[tuple[int, int, str], Region] = {}  # (id, version, updated_at) → region voted from posts
_DERIVED_MAX = 4096


def incident_regions(session: Session, incidents: list[IncidentRow]) -> dict[int, Region]:
    """Each incident's region: its columns when set, or when the engine has already tallied its posts
    (``features['region']``) and found no place; else voted from its posts (cached per version)."""
    out: dict[int, Region] = {}
    derive: dict[int, tuple[int, int, str]] = {}
    for inc in incidents:
        region = _from_columns(inc)
        if region is not None:
            out[inc.id] = region
        elif hasattr(inc, "region_code") and (inc.features or {}).get("region") is not None:
            out[inc.id] = Region(None, None, None, None, 0.0, "incident")  # tallied: its posts name no place
        else:
            key = (inc.id, int(inc.version or 0), str(inc.updated_at))
            if key in _DERIVED:
                out[inc.id] = _DERIVED[key]
            else:
                derive[inc.id] = key
    if derive:
        per_incident: dict[int, list[list[places.Place]]] = {i: [] for i in derive}
        for inc_id, title, text, extra in session.execute(
                select(IncidentPostRow.incident_id, PostRow.title, PostRow.text, PostRow.extra).join(
                    PostRow, PostRow.id == IncidentPostRow.post_id).where(
                    IncidentPostRow.incident_id.in_(list(derive)))):
            per_incident[inc_id].append(_post_places(title, text, extra))
        if len(_DERIVED) + len(derive) > _DERIVED_MAX:
            _DERIVED.clear()
        for inc_id, found in per_incident.items():
            out[inc_id] = _DERIVED[derive[inc_id]] = vote_region(found)
    return out


def region_map(session: Session, incidents: list[IncidentRow]) -> dict[str, Any]:
    """Incidents by province (choropleth) and by city (points at the city's coordinates)."""
    regions = incident_regions(session, incidents)
    coords = coordinates()
    provinces: dict[str, dict[str, Any]] = {}
    cities: dict[str, dict[str, Any]] = {}
    unknown = 0
    for inc in incidents:
        r = regions[inc.id]
        if r.province_code is None:
            unknown += 1
            continue
        entry = {"id": inc.id, "title": mask(inc.title or ""), "severity": inc.severity}
        p = provinces.setdefault(r.province_code, {"code": r.province_code[:6], "name": r.province, "value": 0,
                                                   "max_severity": 0, "incidents": []})
        p["value"] += 1
        p["max_severity"] = max(p["max_severity"], inc.severity or 0)
        p["incidents"].append(entry)
        point = r.city_code or r.province_code
        if point in coords:
            c = cities.setdefault(point, {"code": point[:6], "name": r.city or r.province, "province": r.province,
                                          "coord": list(coords[point]), "value": 0, "max_severity": 0,
                                          "incidents": []})
            c["value"] += 1
            c["max_severity"] = max(c["max_severity"], inc.severity or 0)
            c["incidents"].append(entry)
    return {"provinces": sorted(provinces.values(), key=lambda p: (-p["value"], p["code"])),
            "cities": sorted(cities.values(), key=lambda c: (-c["value"], c["code"])), "unknown": unknown}


# --- the duty-room wall -------------------------------------------------------------------------

def open_incidents(session: Session, narrow: Narrow | None = None) -> list[IncidentRow]:
    stmt = select(IncidentRow).where(IncidentRow.stage.in_(OPEN_STAGES), IncidentRow.merged_into.is_(None))
    return list(session.scalars(narrow(stmt) if narrow else stmt))


def latest_alerts(session: Session, limit: int = 10, narrow: Narrow | None = None) -> list[dict[str, Any]]:
    from alerting.messages import title as alert_title

    stmt = select(NotificationRow).where(NotificationRow.status.in_(list(ALERT_STATUS_ZH)))
    if narrow is not None:  # only alerts of incidents the viewer sees
        stmt = narrow(stmt.join(IncidentRow, IncidentRow.id == NotificationRow.incident_id))
    rows = session.scalars(stmt.order_by(NotificationRow.created_at.desc(), NotificationRow.id.desc()).limit(limit))
    return [{"id": n.id, "incident_id": n.incident_id, "title": alert_title(n.payload or {}),
             "severity": int((n.payload or {}).get("severity") or 0), "channel": n.channel,
             "status": n.status, "status_name": ALERT_STATUS_ZH[n.status],
             "at": iso_shanghai(n.sent_at or n.created_at),
             "label": to_utc(n.sent_at or n.created_at).astimezone(SHANGHAI).strftime("%m-%d %H:%M"),
             "acked": n.acked_at is not None} for n in rows]


def crisis_trend(session: Session, now: datetime, hours: int = 24, narrow: Narrow | None = None) -> dict[str, Any]:
    """Crisis posts (category other than 非危机; for a narrowed viewer, those of its incidents) and new
    incidents per Beijing hour."""
    axis = charts.hour_axis(now - timedelta(hours=hours - 1), now)
    start = to_utc(axis[0])
    when = func.coalesce(PostRow.published_at, PostRow.first_seen_at)
    post_stmt = select(when).where(when >= start, PostRow.category.is_not(None), PostRow.category != "none")
    if narrow is not None:
        post_stmt = narrow(post_stmt.join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id).join(
            IncidentRow, IncidentRow.id == IncidentPostRow.incident_id)).distinct()
    posts = [t for (t,) in session.execute(post_stmt)]
    new_stmt = select(IncidentRow.detected_at).where(IncidentRow.detected_at >= start, IncidentRow.merged_into.is_(None))
    new = [t for (t,) in session.execute(narrow(new_stmt) if narrow else new_stmt)]
    return {"labels": [charts.hour_label(h) for h in axis], "posts": charts.per_hour(posts, axis),
            "incidents": charts.per_hour(new, axis)}


def bigscreen(session: Session, now: datetime, narrow: Narrow | None = None) -> dict[str, Any]:
    incidents = open_incidents(session, narrow)
    by_stage = Counter(i.stage for i in incidents)
    by_sev = Counter(int(i.severity or 0) for i in incidents)
    clocks = sorted((i for i in incidents if i.deadline and not i.first_response_at), key=lambda i: to_utc(i.deadline))
    top = sorted(incidents, key=lambda i: (-(i.severity or 0), -(i.heat or 0.0)))[:12]
    return {
        "now": iso_shanghai(now), "open": len(incidents),
        "unacked": sum(1 for i in incidents if i.acknowledged_at is None),
        "stages": [{"key": s, "name": stage_zh(s), "count": by_stage.get(s, 0)} for s in OPEN_STAGES],
        "severities": [{"key": int(s), "name": s.zh, "label": severity_zh(int(s)), "colour": SEVERITY_INFO[s][3],
                        "count": by_sev.get(int(s), 0)} for s in Severity if s is not Severity.none],
        "clocks": [{"id": i.id, "title": mask(i.title or ""), "severity": i.severity, "stage": stage_zh(i.stage),
                    "category": category_zh(i.category), "deadline": iso_shanghai(i.deadline),
                    "acknowledged": i.acknowledged_at is not None} for i in clocks[:12]],
        "incidents": [{"id": i.id, "title": mask(i.title or ""), "severity": i.severity,
                       "severity_name": Severity(int(i.severity or 0)).zh, "stage": stage_zh(i.stage),
                       "category": category_zh(i.category), "heat": round(i.heat or 0.0, 1)} for i in top],
        "alerts": latest_alerts(session, narrow=narrow),
        "map": region_map(session, incidents),
        "trend": crisis_trend(session, now, narrow=narrow),
        "stats": category_severity(session, now, 7, narrow),
    }
