"""Where an incident is: the most specific place its posts agree on, with a confidence.

Guarantees:

* Each member post gives one reading (``yuqing.places.locate``): the event's place named in its
  title/text, else the author's stated location (``extra.author_location``/``user_location``), else
  the platform's IP属地 (``extra.region``, "IP属地：X"/"发布于 X" lines); a post whose every named
  place reads as where the writer lives or files from (老家在X, 在X打工) votes as an author
  location. A post naming no place (a national commentary) gives none and counts neither for
  nor against.
* A reading votes with weight ``w = kind × share × ambiguity``: kind ``text`` 1.0, ``author`` 0.6,
  ``ip`` 0.3; ``share`` = the post's own agreement: the cue-weighted support of the chosen place
  over that support plus the mentions it conflicts with (a weak mention, 老家在X, counts half); ambiguity 0.6 when a name several units share (朝阳区) was
  settled by a prior and not by context.
* Author/IP votes count only while no member names a place in its text (the event's place
  beats the poster's); each vote's tally entry keeps its kind.
* For every voted place and each unit above it: ``inside`` = Σw of votes it contains, ``above`` =
  Σw of coarser votes containing it (they do not disagree), ``share`` = (inside + above) / Σw.
  The region is the most specific such place with share > 0.5 (ties: larger inside, then share).
  ``confidence = (inside + ½·above) / Σw × strength``, strength = the largest single vote inside
  it (so a region known only from IP属地 stays ≤ 0.3, below ``places.CONFIDENT``).
* Recomputed when a post joins (``note_post``: one text scan, no database read; the tally lives
  in ``incident.features['region']``, at most ``MAX_VOTES`` places: lighter ones fold into a rest
  weight that still counts in Σw) and from all posts after a merge or a split (``rebuild``). The result is
  stored on the incident's ``region_code/region_name/region_level/region_confidence`` columns.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing import places
from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow
from yuqing.places import RANK, Located, Place, Region

STATE_KEY = "region"
MAJORITY = 0.5
MAX_VOTES = 40  # distinct places kept in an incident's tally
REST_KEY = "~rest"
AUTHOR_KEYS = ("author_location", "user_location", "author_region")


def _extra(row: PostRow | Any) -> dict[str, Any]:
    extra = getattr(row, "extra", None)
    if isinstance(extra, dict):
        return extra
    return dict(getattr(row, "model_extra", None) or {})


def read_post(row: PostRow | Any) -> Located:
    """One post's reading (a PostRow or a domain Post)."""
    extra = _extra(row)
    author = next((str(extra[k]) for k in AUTHOR_KEYS if extra.get(k)), None)
    ip = extra.get("region") or extra.get("ip_location") or extra.get("ip_label")
    return places.locate(getattr(row, "text", "") or "", getattr(row, "title", None),
                         ip_region=str(ip) if ip else None, author_location=author)


def _ancestors(place: Place) -> list[Place]:
    """The units above a place that can be named: coded ones from the gazetteer, and its town."""
    out: list[Place] = []
    for i, code in enumerate(place.parents):
        if ":" in code:
            out.append(Place(code, code.split(":", 1)[1], code.split(":", 1)[0], place.parents[:i]))
        else:
            found = places.lookup(code)
            if found is not None:
                out.append(found)
    return out


def aggregate(votes: list[tuple[Place, float]] | list[tuple[Place, float, str]], rest: float = 0.0) -> Region | None:
    """The region (place, weight[, kind]) votes agree on (see the module docstring). When any vote
    comes from a post's text, the author/IP属地 votes are left out: the event's place beats them.
    ``rest``: the weight of votes dropped from a capped tally (counted in the total only)."""
    kinds = [v[2] if len(v) > 2 else "text" for v in votes]  # type: ignore[misc]
    text_only = "text" in kinds
    votes = [(v[0], v[1]) for v, k in zip(votes, kinds, strict=True)
             if v[1] > 0 and (k == "text" or not text_only)]
    total = sum(w for _p, w in votes) + max(0.0, rest)
    if not votes or total <= 0:
        return None
    candidates: dict[str, Place] = {}
    for place, _w in votes:
        for cand in (*_ancestors(place), place):
            candidates.setdefault(cand.code, cand)
    best: tuple[tuple[int, float, float], Place, float] | None = None
    for cand in candidates.values():
        inside = sum(w for p, w in votes if places.contains(cand, p))
        above = sum(w for p, w in votes if not places.contains(cand, p) and places.contains(p, cand))
        share = (inside + above) / total
        if share <= MAJORITY + 1e-9:  # a strict majority: a 1:1 split names neither side
            continue
        strength = max((w for p, w in votes if places.contains(cand, p)), default=0.0)
        confidence = min(1.0, (inside + 0.5 * above) / total * strength)
        key = (RANK[cand.level], round(inside, 6), round(share, 6))
        if best is None or key > best[0]:
            best = (key, cand, confidence)
    if best is None:
        return None
    _key, place, confidence = best
    return Region(places.code_of(place), places.display_name(place), place.level, confidence)


def locate_posts(rows: list[Any]) -> Region | None:
    """The region of a set of posts (an incident's members, or one post alone)."""
    votes = []
    for row in rows:
        reading = read_post(row)
        if reading.place is not None:
            votes.append((reading.place, reading.weight, reading.kind))
    return aggregate(votes)


def _store(incident: IncidentRow, region: Region | None) -> None:
    incident.region_code = region.code if region else None
    incident.region_name = region.name if region else None
    incident.region_level = region.level if region else None
    incident.region_confidence = round(region.confidence, 4) if region else None


def _tally_region(tally: dict[str, Any]) -> Region | None:
    votes = [(Place.from_json(v["p"]), float(v["w"]), str(v.get("k") or "text"))
             for k, v in tally.items() if k != REST_KEY]
    return aggregate(votes, float((tally.get(REST_KEY) or {}).get("w") or 0.0))


def note_post(incident: IncidentRow, row: PostRow) -> None:
    """A post joined ``incident``: add its vote to the tally and recompute the region (no DB read)."""
    reading = read_post(row)
    if reading.place is None:
        return
    features: dict[str, Any] = dict(incident.features or {})
    tally: dict[str, Any] = {k: dict(v) for k, v in (features.get(STATE_KEY) or {}).items()}
    key = f"{reading.kind}|{places.code_of(reading.place)}"
    entry = tally.get(key) or {"w": 0.0, "n": 0, "k": reading.kind, "p": reading.place.to_json()}
    entry["w"] = round(float(entry["w"]) + reading.weight, 6)
    entry["n"] = int(entry["n"]) + 1
    tally[key] = entry
    votes = [k for k in tally if k != REST_KEY]
    if len(votes) > MAX_VOTES:  # bounded work per join: the lightest places leave, their weight stays
        rest = dict(tally.get(REST_KEY) or {"w": 0.0, "n": 0})
        for k in sorted(votes, key=lambda k: (float(tally[k]["w"]), k))[: len(votes) - MAX_VOTES]:
            rest["w"] = round(float(rest["w"]) + float(tally[k]["w"]), 6)
            rest["n"] = int(rest["n"]) + int(tally[k]["n"])
            del tally[k]
        tally[REST_KEY] = rest
    features[STATE_KEY] = tally
    incident.features = features
    _store(incident, _tally_region(tally))


def rebuild(session: Session, incident: IncidentRow) -> None:
    """Recompute the tally and the region from all member posts (after a merge or a split)."""
    features = {k: v for k, v in (incident.features or {}).items() if k != STATE_KEY}
    incident.features = features
    rows = session.scalars(select(PostRow).join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
                           .where(IncidentPostRow.incident_id == incident.id)
                           .order_by(PostRow.published_at, PostRow.id)).all()
    _store(incident, None)
    for row in rows:
        note_post(incident, row)


def region_of(incident: IncidentRow) -> Region | None:
    """The stored region of an incident row (None when it has none)."""
    if not incident.region_code:
        return None
    return Region(incident.region_code, incident.region_name or "", incident.region_level or "",
                  float(incident.region_confidence or 0.0))


def region_of_incident(session: Session, incident_id: int) -> Region | None:
    """The region of incident ``incident_id`` (None: unknown incident or no place)."""
    incident = session.get(IncidentRow, incident_id)
    return region_of(incident) if incident is not None else None


def region_json(incident: IncidentRow) -> dict[str, object] | None:
    """``{"code", "name", "level", "confidence"}`` or None: what incidents show/list --json print."""
    region = region_of(incident)
    return region.to_json() if region else None


LEVEL_ZH = {"province": "省级", "city": "市级", "county": "县级", "town": "镇街", "village": "村居"}


def region_zh(incident: IncidentRow) -> str:
    """What people read: 河南省周口市郸城县（县级，可信度 0.86）, or 未识别 / 待人工确认."""
    region = region_of(incident)
    if region is None:
        return "未识别（帖子未提及地点）"
    note = "" if region.confident else "，可信度低，待人工确认"
    return f"{region.name}（{LEVEL_ZH.get(region.level, region.level)}，可信度 {region.confidence:.2f}{note}）"
