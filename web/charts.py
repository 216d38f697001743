"""Chart shaping shared by the pages and /api/charts: Beijing-time hour buckets, per-incident scales,
and the small server-rendered SVGs (sparkline, bars, histogram) that stand in where JavaScript is off.

Guarantees:

* ``hour_axis(start, end)`` lists whole hours of Beijing time (Asia/Shanghai) from the hour holding
  ``start`` to the hour holding ``end``, both included; ``hour_label`` names one as ``12-01 15:00``
  (Beijing time, the label people read on the axes).
* ``per_hour(times, hours)`` counts each time in the Beijing hour that holds it; times outside the
  axis are not counted. ``heat_per_hour(samples, hours)`` is the last heat sample taken by the end
  of each hour, carried forward; ``None`` before the first sample.
* ``own_range(values)`` is an axis range fitted to one incident's own values (its minimum to its
  maximum, padded), so a growth from 900 to 1,000 fills the chart instead of being a flat line near
  the top; ``spark_points`` places a sparkline on that range.
* Nothing here reads the database or carries post text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from html import escape

from yuqing.timeutil import SHANGHAI, to_utc

HOUR = timedelta(hours=1)


def bj_hour(dt: datetime) -> datetime:
    """The start of the Beijing-time hour holding ``dt`` (aware, Asia/Shanghai)."""
    local = to_utc(dt).astimezone(SHANGHAI)
    return local.replace(minute=0, second=0, microsecond=0)


def hour_axis(start: datetime, end: datetime, limit: int = 24 * 31) -> list[datetime]:
    """Beijing hours from the one holding ``start`` to the one holding ``end``; at most ``limit``
    (the most recent ones are kept)."""
    first, last = bj_hour(start), bj_hour(end)
    if last < first:
        return []
    count = int((last - first) / HOUR) + 1
    if count > limit:
        first = last - (limit - 1) * HOUR
        count = limit
    return [first + i * HOUR for i in range(count)]


def hour_label(hour: datetime) -> str:
    return to_utc(hour).astimezone(SHANGHAI).strftime("%m-%d %H:00")


def day_label(day: datetime) -> str:
    return to_utc(day).astimezone(SHANGHAI).strftime("%m-%d")


def per_hour(times: Iterable[datetime | None], hours: Sequence[datetime]) -> list[int]:
    index = {h: i for i, h in enumerate(hours)}
    counts = [0] * len(hours)
    for t in times:
        if t is None:
            continue
        i = index.get(bj_hour(t))
        if i is not None:
            counts[i] += 1
    return counts


def heat_per_hour(samples: Iterable[tuple[datetime, float]], hours: Sequence[datetime]) -> list[float | None]:
    ordered = sorted((to_utc(at), float(h)) for at, h in samples)
    out: list[float | None] = []
    j, current = 0, None
    for hour in hours:
        end = to_utc(hour + HOUR)
        while j < len(ordered) and ordered[j][0] < end:
            current = ordered[j][1]
            j += 1
        out.append(None if current is None else round(current, 1))
    return out


def own_range(values: Iterable[float | None]) -> tuple[float, float]:
    """Axis bounds fitted to this incident's own values: min…max padded by a tenth of the spread
    (at least 2% of the maximum, at least 1), never below zero."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return 0.0, 1.0
    lo, hi = min(vals), max(vals)
    pad = max((hi - lo) * 0.1, abs(hi) * 0.02, 1.0)
    return max(0.0, round(lo - pad, 1)), round(hi + pad, 1)


def spark_points(values: Sequence[float], width: int, height: int) -> list[tuple[float, float]]:
    """(x, y) of a sparkline drawn on the incident's own range (y grows downwards, 2px margins)."""
    if len(values) == 1:
        values = [values[0], values[0]]
    lo, hi = own_range(values)
    span = (hi - lo) or 1.0
    step = width / max(1, len(values) - 1)
    return [(round(i * step, 1), round(height - 2 - (v - lo) / span * (height - 4), 1)) for i, v in enumerate(values)]


def spark_data(values: Sequence[float]) -> dict[str, object]:
    """What the board's ECharts sparkline draws: the values and the incident's own axis range."""
    vals = [round(float(v), 1) for v in values]
    if len(vals) == 1:
        vals = vals * 2  # one sample: a level line, not an invisible point
    lo, hi = own_range(vals)
    return {"values": vals, "min": lo, "max": hi}


def sparkline(values: Sequence[float], width: int = 120, height: int = 28, colour: str = "#e53935") -> str:
    if not values:
        return f'<svg class="spark" width="{width}" height="{height}"></svg>'
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in spark_points(values, width, height))
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="热度趋势"><polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/></svg>')


def histogram(buckets: Sequence[tuple[str, int]], width: int = 720, height: int = 160,
              colour: str = "#1e88e5") -> str:
    """Vertical bars with labels on hover (title) and a few axis labels."""
    if not buckets:
        return '<p class="muted">无数据</p>'
    top = max(c for _, c in buckets) or 1
    bar_w = min(width / len(buckets), 40.0)
    parts = [f'<svg class="histogram" width="100%" viewBox="0 0 {width} {height + 20}" role="img" aria-label="时间分布">']
    for i, (label, count) in enumerate(buckets):
        h = (count / top) * (height - 4)
        parts.append(f'<rect x="{i * bar_w + 1:.1f}" y="{height - h:.1f}" width="{max(1.0, bar_w - 2):.1f}" '
                     f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}：{count}</title></rect>')
    for i in sorted({0, len(buckets) // 2, len(buckets) - 1}):
        parts.append(f'<text x="{i * bar_w:.1f}" y="{height + 15}" font-size="11" fill="#666">'
                     f'{escape(buckets[i][0])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars(items: Sequence[tuple[str, int]], width: int = 320, colour: str = "#8e24aa") -> str:
    """Horizontal labelled bars for breakdowns (platform, category)."""
    if not items:
        return '<p class="muted">无数据</p>'
    top = max(c for _, c in items) or 1
    row_h = 22
    parts = [f'<svg class="bars" width="{width}" height="{row_h * len(items)}" role="img" aria-label="分布">']
    for i, (label, count) in enumerate(items):
        w = (count / top) * (width - 140)
        y = i * row_h
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(label)}</text>'
                     f'<rect x="90" y="{y + 4}" width="{w:.1f}" height="14" fill="{colour}"/>'
                     f'<text x="{95 + w:.1f}" y="{y + 15}" font-size="12">{count}</text>')
    parts.append("</svg>")
    return "".join(parts)
