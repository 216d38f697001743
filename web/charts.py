"""Small server-rendered SVG charts (no CDN, no JS library): sparklines, bars, histograms."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def sparkline(values: Sequence[float], width: int = 120, height: int = 28, colour: str = "#e53935") -> str:
    if not values:
        return f'<svg class="spark" width="{width}" height="{height}"></svg>'
    if len(values) == 1:
        values = [values[0], values[0]]
    top = max(values) or 1.0
    step = width / max(1, len(values) - 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))
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
