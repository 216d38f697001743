"""Federation units (各级妇联): which unit owns an incident, whose roster and channels it reaches.

Guarantees:

* Without ``units:`` in the settings there is one implicit root unit (id ``root``) with the
  top-level roster and channels: everything behaves as before units existed.
* ``route``: an incident goes to the unit whose region contains the incident's region
  (``incidents.region_code``) at the LOWEST level among units that have a roster of their own;
  no region, or a region confidence below ``MIN_CONFIDENCE`` (0.5), or a region outside every
  unit → the root unit (its triage: 分诊). The root's roster is its own, else the top-level one.
* ``assign``: stores the owner on the incident (``incidents.unit_id``) and recomputes it whenever
  the region changes — unless a person moved it by hand (``unit_manual``): then it sticks.
* Visibility: a unit sees its own incidents and those of every unit below it (``subtree``); a
  user without a unit is the root and sees everything.
* 上报: a ``breach``, and at severity ≥ ``REPORT_UP_SEVERITY`` (3) the incident's events (opened,
  severity up, stage changes, 二次发酵: ``REPORT_UP_ON_SEVERITY``), are also sent to the owner's
  parent unit (one copy, marked ``reported_up``); clock reminders and acknowledgement escalations
  stay with the owner's own duty chain.

Containment of region codes is ``yuqing.places.contains_code`` (digits of the 12-digit 行政区划代码
by level — province 2, city 4, county 6, town 9 — and a town/village without a code named under
its county, ``350203000000/莲前街道``); the same rule on the digits is the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yuqing.settings import UNIT_CODE_DIGITS, UNIT_LEVELS, ChannelSettings, RosterSettings, Settings, Unit

ROOT_ID = "root"
MIN_CONFIDENCE = 0.5  # a region below this confidence is not trusted for routing (root triage)
REPORT_UP_SEVERITY = 3  # severity at which every notification also goes to the parent unit (上报)
REPORT_UP_KINDS = frozenset({"breach"})  # kinds always reported to the parent, whatever the severity
# what the parent hears of an incident at severity >= 3: its events, not the owner's own duty chain
# (clock reminders and acknowledgement escalations stay with the owner)
REPORT_UP_ON_SEVERITY = frozenset({"new_incident", "severity_up", "stage_change", "re_escalation"})


@dataclass(frozen=True)
class Owner:
    """The resolved owner of an incident: the unit and why it was chosen (Chinese)."""

    unit: Unit
    reason: str


def units(settings: Settings) -> list[Unit]:
    """The configured units, or the one implicit root."""
    return list(settings.units) if settings.units else [_implicit_root(settings)]


def _implicit_root(settings: Settings) -> Unit:
    return Unit.model_construct(id=ROOT_ID, name="本级妇联", region="0" * 12, level="province", parent=None,
                                roster=settings.roster, channels=[])


def root(settings: Settings) -> Unit:
    return next((u for u in units(settings) if u.parent is None), _implicit_root(settings))


def get(settings: Settings, unit_id: str | None) -> Unit | None:
    """The unit with this id (None/empty = the root); None when no such unit."""
    if not unit_id:
        return root(settings)
    return next((u for u in units(settings) if u.id == unit_id), None)


def parent(settings: Settings, unit: Unit) -> Unit | None:
    return get(settings, unit.parent) if unit.parent else None


def chain(settings: Settings, unit: Unit) -> list[Unit]:
    """The unit and every unit above it, nearest first."""
    out, node = [unit], unit
    while node.parent:
        node = get(settings, node.parent)  # type: ignore[assignment]
        if node is None or node in out:
            break
        out.append(node)
    return out


def subtree(settings: Settings, unit_id: str | None) -> set[str] | None:
    """Ids of the unit and every unit below it; None for the root (no restriction)."""
    unit = get(settings, unit_id)
    if unit is None:
        return set()
    if unit.parent is None:
        return None
    ids = {unit.id}
    grew = True
    while grew:
        grew = False
        for u in units(settings):
            if u.parent in ids and u.id not in ids:
                ids.add(u.id)
                grew = True
    return ids


def roster_of(settings: Settings, unit: Unit | None) -> RosterSettings:
    """The unit's roster; the root without one of its own (and no unit at all) uses the top-level roster."""
    if unit is None or (not unit.has_roster and unit.parent is None):
        return settings.roster
    if unit.has_roster:
        return unit.roster
    return settings.roster


def channels_of(settings: Settings, unit: Unit | None) -> list[ChannelSettings]:
    """The unit's channels (names resolved, own entries as they are); none listed = the top-level ones."""
    if unit is None or not unit.channels:
        return list(settings.channels)
    by_name = {c.name: c for c in settings.channels}
    return [c if isinstance(c, ChannelSettings) else by_name[c] for c in unit.channels if
            isinstance(c, ChannelSettings) or c in by_name]


def contains(unit: Unit, region_code: str) -> bool:
    """Whether ``region_code`` (6/12-digit 行政区划代码) lies in the unit's region."""
    try:
        from yuqing import places

        fn = getattr(places, "contains_code", None)
    except Exception:  # noqa: BLE001 - the gazetteer is optional for routing
        fn = None
    if fn is not None:
        try:
            return bool(fn(unit.region, region_code))
        except Exception:  # noqa: BLE001 - fall back to the code digits
            pass
    code = str(region_code or "").strip()
    base, _, names = code.partition("/")
    if not base.isdigit():
        return False
    if "/" in unit.region:  # a town named under its county: the same path, or a place inside it
        return code.ljust(12, "0") == unit.region or code.startswith(unit.region + "/")
    return base.ljust(12, "0").startswith(unit.prefix)


def route(settings: Settings, region_code: str | None, confidence: float | None) -> Owner:
    """The unit an incident at ``region_code`` belongs to (see the module docstring)."""
    top = root(settings)
    if not settings.units:
        return Owner(top, "未配置各级单位")
    if not region_code:
        return Owner(top, "未识别事发地，由顶级单位分诊")
    if confidence is not None and float(confidence) < MIN_CONFIDENCE:
        return Owner(top, f"事发地置信度 {float(confidence):.2f} 低于 {MIN_CONFIDENCE}，由顶级单位分诊")
    candidates = [u for u in units(settings) if (u.has_roster or u.parent is None) and contains(u, region_code)]
    if not candidates:
        return Owner(top, f"事发地 {region_code} 不在任何单位辖区内，由顶级单位分诊")
    best = max(candidates, key=lambda u: (UNIT_LEVELS.index(u.level), UNIT_CODE_DIGITS[u.level]))
    return Owner(best, f"事发地 {region_code} 属 {best.name} 辖区")


def region_of(incident: Any) -> tuple[str | None, float | None]:
    """The incident's region code and confidence (``incidents.region_code``/``region_confidence``)."""
    code = getattr(incident, "region_code", None)
    confidence = getattr(incident, "region_confidence", None)
    if code is None and isinstance(getattr(incident, "features", None), dict):
        region = incident.features.get("region") or {}
        if isinstance(region, dict):
            code, confidence = region.get("code"), region.get("confidence")
    return (str(code) if code else None), (float(confidence) if confidence is not None else None)


def assign(incident: Any, settings: Settings, session: Any = None) -> bool:
    """Set ``incident.unit_id`` from its region unless moved by hand; True when it changed.
    (``session`` is accepted for the callers' symmetry; the region is on the incident row.)"""
    if getattr(incident, "unit_manual", False) and incident.unit_id and get(settings, incident.unit_id):
        return False
    code, confidence = region_of(incident)
    owner = route(settings, code, confidence).unit.id
    if not settings.units:
        owner = None  # no units: the column stays empty (the root)
    if incident.unit_id != owner:
        incident.unit_id = owner
        return True
    return False


def owner(settings: Settings, incident: Any) -> Unit:
    """The incident's current owner: its stored unit, else (none stored, or an id no longer in the
    settings) the unit its region routes to."""
    unit = get(settings, getattr(incident, "unit_id", None))
    if unit is None:
        code, confidence = region_of(incident)
        unit = route(settings, code, confidence).unit
    return unit


def report_up_to(settings: Settings, unit: Unit, kind: str, severity: int) -> Unit | None:
    """The parent that also gets this notification (上报), or None."""
    if not settings.units or unit.parent is None:
        return None
    if kind in REPORT_UP_KINDS or (int(severity or 0) >= REPORT_UP_SEVERITY and kind in REPORT_UP_ON_SEVERITY):
        return parent(settings, unit)
    return None


def label(settings: Settings, unit_id: str | None) -> str:
    """A unit's Chinese name for people ("顶级单位" names for the root without units)."""
    unit = get(settings, unit_id)
    return unit.name if unit is not None else f"未知单位 {unit_id}"


def visible(settings: Settings, viewer_unit: str | None, incident_unit: str | None) -> bool:
    """Whether a user of ``viewer_unit`` may see an incident owned by ``incident_unit``."""
    scope = subtree(settings, viewer_unit)
    if scope is None:
        return True
    owner_id = incident_unit or root(settings).id
    return owner_id in scope


def move(session: Any, incident_id: int, unit_id: str, actor: str, now: Any, reason: str,
         settings: Settings) -> Any:
    """A person moves an incident to another unit (the place was wrong): audited, and it sticks
    (routing by region no longer changes it). Raises ``YuqingError`` (Chinese) when refused."""
    from yuqing.audit import record
    from yuqing.db.models import IncidentRow
    from yuqing.errors import YuqingError
    from yuqing.timeutil import to_utc

    if not settings.units:
        raise YuqingError("未配置各级单位（units），无法移交事件")
    target = get(settings, unit_id) if unit_id else None
    if target is None:
        known = "、".join(u.id for u in settings.units)
        raise YuqingError(f"单位 {unit_id!r} 不存在（可选: {known}）")
    reason = (reason or "").strip()
    if not reason:
        raise YuqingError("移交事件必须填写原因（--reason）")
    incident = session.get(IncidentRow, int(incident_id))
    if incident is None:
        raise YuqingError(f"事件 #{incident_id} 不存在")
    if incident.merged_into is not None:
        raise YuqingError(f"事件 #{incident_id} 已并入事件 #{incident.merged_into}，请对该事件操作")
    before = owner(settings, incident)
    if before.id == target.id and incident.unit_manual:
        return incident
    now = to_utc(now)
    incident.unit_id = target.id
    incident.unit_manual = True
    incident.updated_at = now
    record(session, actor=actor, action="incident.move", object_type="incident", object_id=incident.id, at=now,
           before={"unit_id": before.id}, after={"unit_id": target.id},
           detail=f"由 {before.name} 移交至 {target.name}：{reason}")
    return incident


def register() -> None:
    """Keep every open incident's owner current on each engine tick (its region may have changed)."""
    from yuqing import hooks

    hooks.on_tick(_assign_open)


def _assign_open(session: Any, now: Any, settings: Settings) -> int:
    if not settings.units:
        return 0
    from sqlalchemy import select

    from yuqing.db.models import IncidentRow

    changed = 0
    for incident in session.scalars(select(IncidentRow).where(
            IncidentRow.stage.in_(("warning", "response", "aftermath")), IncidentRow.merged_into.is_(None),
            IncidentRow.unit_manual.is_(False))):
        changed += assign(incident, settings, session)
    return changed
