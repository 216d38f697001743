"""Time helpers: UTC-aware storage, Asia/Shanghai display, an injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse_datetime(value: object) -> datetime:
    """Parse ISO 8601 (or a datetime); naive values are taken as Asia/Shanghai time."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"不是 ISO 8601 时间: {value!r}") from exc
    else:
        raise ValueError(f"不是时间: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=SHANGHAI)
    return dt


def to_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=SHANGHAI)
    return dt.astimezone(UTC)


def as_aware_utc(dt: datetime | None) -> datetime | None:
    """Values read back from SQLite are naive UTC; make them aware again."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def to_shanghai(dt: datetime) -> datetime:
    return to_utc(dt).astimezone(SHANGHAI)


def iso_shanghai(dt: datetime | None) -> str | None:
    return None if dt is None else to_shanghai(dt).isoformat()


BEIJING_OFFSET = timedelta(hours=8)


def fmt_local(dt: datetime | str | None, with_seconds: bool = False) -> str:
    """Human Chinese display in Beijing time, e.g. '2026-03-02 09:15'; an ISO 8601 string is read first.

    Where the Asia/Shanghai offset of that instant is not +08:00 (the summer time of 1986–1991) the
    offset is written after the time ('1988-06-01 09:00（UTC+09:00）'), so no reader is misled.
    Unreadable text is shown as it is.
    """
    if dt is None or dt == "":
        return "—"
    if isinstance(dt, str):
        try:
            dt = parse_datetime(dt)
        except ValueError:
            return dt
    local = to_shanghai(dt)
    text = local.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")
    offset = local.utcoffset()
    if offset is not None and offset != BEIJING_OFFSET:
        text += f"（UTC{local.strftime('%z')[:3]}:{local.strftime('%z')[3:]}）"
    return text


def fmt_duration(seconds: float) -> str:
    """'3小时12分' style durations; negative values are shown as overdue by the caller."""
    seconds = abs(int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours}小时{minutes}分"
    if hours:
        return f"{hours}小时"
    return f"{minutes}分钟"


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimClock:
    """A clock that only moves when told to (replay and tests never sleep)."""

    def __init__(self, start: datetime) -> None:
        self._now = to_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        when = to_utc(when)
        if when > self._now:
            self._now = when

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta
