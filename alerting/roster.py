"""The duty roster (值班表): who is on duty now, and who each escalation level reaches.

Shifts are weekday (ISO, 1 = Monday) and local-time windows (Asia/Shanghai, ``end`` may be
``24:00`` or earlier than ``start`` for a night shift that runs past midnight); on a holiday
``holiday_people`` are on duty instead. Escalation level 0 is whoever is on duty; level *k* adds
the people of ``escalation[k]`` (值班员 → 科室负责人 → 分管领导).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from yuqing.settings import Person, RosterSettings, Shift
from yuqing.timeutil import to_shanghai


def _parse(value: str) -> time | None:
    """'HH:MM' → time; '24:00' → None (end of day)."""
    if value.strip() == "24:00":
        return None
    return time.fromisoformat(value.strip())


def _in_shift(shift: Shift, local: datetime) -> bool:
    start = _parse(shift.start) or time(0, 0)
    end = _parse(shift.end)
    t = local.time()
    weekday = local.isoweekday()
    if end is None or start < end:
        return weekday in shift.weekdays and t >= start and (end is None or t < end)
    # over midnight: the part after midnight belongs to the previous day's shift
    if t >= start:
        return weekday in shift.weekdays
    yesterday = (local - timedelta(days=1)).isoweekday()
    return t < end and yesterday in shift.weekdays


def on_duty(roster: RosterSettings, now: datetime) -> list[str]:
    """Ids of the people on duty at ``now`` (in shift order, without repeats)."""
    local = to_shanghai(now)
    if local.date() in set(roster.holidays) and roster.holiday_people:
        return list(dict.fromkeys(roster.holiday_people))
    people: list[str] = []
    for shift in roster.shifts:
        if _in_shift(shift, local):
            people.extend(shift.people)
    return list(dict.fromkeys(people))


def max_level(roster: RosterSettings) -> int:
    return max(0, len(roster.escalation) - 1)


def level_name(roster: RosterSettings, level: int) -> str:
    if 0 <= level < len(roster.escalation):
        return roster.escalation[level].name
    return "值班员" if level == 0 else f"第{level}级"


def recipients(roster: RosterSettings, level: int, now: datetime) -> list[str]:
    """Everyone an alert at escalation ``level`` goes to: the on-duty people plus levels 1..level."""
    people = on_duty(roster, now)
    if roster.escalation:
        people += roster.escalation[0].people
    for k in range(1, min(level, max_level(roster)) + 1):
        people += roster.escalation[k].people
    return list(dict.fromkeys(people))


def person(roster: RosterSettings, person_id: str) -> Person | None:
    return next((p for p in roster.people if p.id == person_id), None)


def names(roster: RosterSettings, ids: list[str]) -> str:
    return "、".join((person(roster, i).name if person(roster, i) else i) for i in ids) or "（无人值班）"
