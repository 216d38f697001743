"""各级妇联通报: figures per federation unit for a month, quarter or year (seed 002's 月度/季度/年度通报).

For every unit of ``units:`` (or the one root when none are configured), over the incidents
detected in the period and owned by that unit (``incidents.unit_id``; none stored = the root):

* incidents by category;
* 回应及时率: of the incidents whose first public response was due in the period or recorded, the
  share answered within 12 hours of the clock start (``RESPONSE_HOURS``); no incident due → "—";
* detection lag (发现滞后): the median of detected_at − clock start, in minutes;
* 报送 (上报): incidents of the unit reported to its parent (a 上报 notification copy:
  ``notifications.unit_id`` = the parent, payload ``extra.from_unit`` = the unit);
* 移交: incidents moved by hand out of / into the unit (audit ``incident.move``).

``scope`` (unit ids, None = all) keeps a unit's users to their own subtree. The ranking table
(排名) orders the children of each unit with children by 及时率, then 报送, then detection lag.
Nothing here shows a title or a post: the figures carry no personal data.
"""

from __future__ import annotations

import html
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.db.models import AuditRow, IncidentRow, NotificationRow
from yuqing.domain import Category
from yuqing.errors import InputError
from yuqing.settings import Settings
from yuqing.timeutil import SHANGHAI

PERIODS = {"month": "月度", "quarter": "季度", "year": "年度"}
RESPONSE_HOURS = 12.0
ROOT_ID = "root"


@dataclass
class UnitLine:
    id: str
    name: str
    level: str
    parent: str | None
    incidents: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    due: int = 0
    on_time: int = 0
    lags_min: list[float] = field(default_factory=list)
    reported_up: int = 0
    moved_out: int = 0
    moved_in: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def median_lag_min(self) -> float | None:
        return statistics.median(self.lags_min) if self.lags_min else None


@dataclass
class UnitReport:
    period: str
    start: datetime
    end: datetime
    generated_at: datetime
    lines: list[UnitLine]

    @property
    def title(self) -> str:
        local = self.start.astimezone(SHANGHAI)
        label = {"month": f"{local.year}年{local.month}月", "quarter": f"{local.year}年第{(local.month - 1) // 3 + 1}季度",
                 "year": f"{local.year}年"}[self.period]
        return f"各级妇联舆情处置{PERIODS[self.period]}通报（{label}）"

    def rankings(self) -> list[tuple[UnitLine, list[UnitLine]]]:
        """(parent, its children ranked) for every unit that has children in the report."""
        out = []
        for parent in self.lines:
            children = [u for u in self.lines if u.parent == parent.id]
            if children:
                children.sort(key=lambda u: (-(u.on_time_rate if u.on_time_rate is not None else -1),
                                             -u.reported_up, u.median_lag_min if u.median_lag_min is not None else 1e18,
                                             u.id))
                out.append((parent, children))
        return out


def period_bounds(period: str, day: date) -> tuple[datetime, datetime]:
    """The Beijing-time month/quarter/year containing ``day``, as aware datetimes [start, end)."""
    if period not in PERIODS:
        raise InputError(f"--period 必须是 {'/'.join(PERIODS)} 之一，得到 {period!r}")
    if period == "month":
        first = day.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
    elif period == "quarter":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        nxt = (first + timedelta(days=93)).replace(day=1)
    else:
        first, nxt = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    return datetime.combine(first, time(), SHANGHAI), datetime.combine(nxt, time(), SHANGHAI)


def _units(settings: Settings) -> list[dict[str, Any]]:
    if not settings.units:
        return [{"id": ROOT_ID, "name": "本级妇联", "level": "province", "parent": None}]
    return [{"id": u.id, "name": u.name, "level": u.level, "parent": u.parent} for u in settings.units]


def subtree(settings: Settings, unit_id: str | None) -> set[str] | None:
    """The unit and every unit below it; None for the root or without units (everything)."""
    units = _units(settings)
    root = next(u["id"] for u in units if u["parent"] is None)
    if not settings.units or not unit_id or unit_id == root:
        return None
    ids, grew = {unit_id}, True
    while grew:
        grew = False
        for u in units:
            if u["parent"] in ids and u["id"] not in ids:
                ids.add(u["id"])
                grew = True
    return ids


def collect(session: Session, settings: Settings, period: str, day: date, now: datetime,
            scope: set[str] | None = None) -> UnitReport:
    start, end = period_bounds(period, day)
    units = _units(settings)
    root = next(u["id"] for u in units if u["parent"] is None)
    known = {u["id"] for u in units}
    lines = {u["id"]: UnitLine(u["id"], u["name"], u["level"], u["parent"]) for u in units
             if scope is None or u["id"] in scope}

    def owner_of(unit_id: str | None) -> str:
        return unit_id if unit_id in known else root

    incidents = session.scalars(select(IncidentRow).where(
        IncidentRow.detected_at >= start, IncidentRow.detected_at < end, IncidentRow.merged_into.is_(None),
        IncidentRow.stage != "dismissed"))
    for inc in incidents:
        line = lines.get(owner_of(inc.unit_id))
        if line is None:
            continue
        line.incidents += 1
        line.by_category[inc.category] = line.by_category.get(inc.category, 0) + 1
        started = inc.clock_started_at
        if started is not None:
            line.lags_min.append(max(0.0, (inc.detected_at - started).total_seconds() / 60))
            limit = started + timedelta(hours=RESPONSE_HOURS)
            if inc.first_response_at is not None or limit <= now:
                line.due += 1
                line.on_time += inc.first_response_at is not None and inc.first_response_at <= limit
    reported: dict[str, set[int]] = {}
    for payload, incident_id in session.execute(select(
            NotificationRow.payload, NotificationRow.incident_id).where(
            NotificationRow.created_at >= start, NotificationRow.created_at < end,
            NotificationRow.unit_id.is_not(None), NotificationRow.incident_id.is_not(None))):
        extra = (payload or {}).get("extra") or {}
        if extra.get("reported_up") and extra.get("from_unit"):
            reported.setdefault(str(extra["from_unit"]), set()).add(int(incident_id))
    for unit_id, ids in reported.items():
        if unit_id in lines:
            lines[unit_id].reported_up = len(ids)
    for before, after in session.execute(select(AuditRow.before, AuditRow.after).where(
            AuditRow.action == "incident.move", AuditRow.at >= start, AuditRow.at < end)):
        src, dst = (before or {}).get("unit_id"), (after or {}).get("unit_id")
        if src in lines:
            lines[src].moved_out += 1
        if dst in lines:
            lines[dst].moved_in += 1
    return UnitReport(period, start, end, now, list(lines.values()))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _lag(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} 分钟"


def _cat(key: str) -> str:
    try:
        return Category(key).zh
    except ValueError:
        return key


def _table(report: UnitReport) -> tuple[list[str], list[list[str]]]:
    cats = sorted({c for u in report.lines for c in u.by_category})
    head = ["单位", "事件数", *[_cat(c) for c in cats], "12小时回应及时率", "发现滞后（中位）", "上报", "移出", "移入"]
    rows = [[u.name, str(u.incidents), *[str(u.by_category.get(c, 0)) for c in cats],
             f"{_pct(u.on_time_rate)}（{u.on_time}/{u.due}）", _lag(u.median_lag_min), str(u.reported_up),
             str(u.moved_out), str(u.moved_in)] for u in report.lines]
    return head, rows


def _ranking_rows(children: list[UnitLine]) -> list[list[str]]:
    return [[str(n), u.name, _pct(u.on_time_rate), str(u.reported_up), _lag(u.median_lag_min), str(u.incidents)]
            for n, u in enumerate(children, start=1)]


RANK_HEAD = ["名次", "单位", "12小时回应及时率", "上报", "发现滞后（中位）", "事件数"]


def to_markdown(report: UnitReport) -> str:
    def md(head: list[str], rows: list[list[str]]) -> list[str]:
        return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows)]

    start = report.start.astimezone(SHANGHAI).date()
    end = (report.end.astimezone(SHANGHAI) - timedelta(days=1)).date()
    out = [f"# {report.title}", "", f"统计区间：{start} 至 {end}（北京时间）", "", "## 各单位情况", ""]
    out += md(*_table(report))
    for parent, children in report.rankings():
        out += ["", f"## {parent.name}下级单位排名", ""] + md(RANK_HEAD, _ranking_rows(children))
    out += ["", f"说明：及时率为 {RESPONSE_HOURS:g} 小时内首次公开回应的事件占应回应事件之比；"
            "上报为因超时或等级较高（较大及以上）而报送上级单位的事件数；移交为人工改派责任单位的次数。", ""]
    return "\n".join(out)


def to_html(report: UnitReport, standalone: bool = True) -> str:
    def table(head: list[str], rows: list[list[str]]) -> str:
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    parts = [f"<h1>{html.escape(report.title)}</h1>", "<h2>各单位情况</h2>", table(*_table(report))]
    for parent, children in report.rankings():
        parts += [f"<h2>{html.escape(parent.name)}下级单位排名</h2>", table(RANK_HEAD, _ranking_rows(children))]
    if not standalone:
        return "".join(parts)
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>"
            f"{html.escape(report.title)}</title></head><body>{''.join(parts)}</body></html>")


def to_docx(report: UnitReport) -> bytes:
    """The 通报 as a Word document (宋体, the same tables as the other formats)."""
    import io

    from reports.render import new_document

    doc = new_document()
    doc.add_heading(report.title, level=0)
    start = report.start.astimezone(SHANGHAI).date()
    end = (report.end.astimezone(SHANGHAI) - timedelta(days=1)).date()
    doc.add_paragraph(f"统计区间：{start} 至 {end}（北京时间）")

    def table(head: list[str], rows: list[list[str]]) -> None:
        t = doc.add_table(rows=1, cols=len(head))
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, head, strict=True):
            cell.text = text
        for row in rows:
            for cell, text in zip(t.add_row().cells, row, strict=True):
                cell.text = text

    doc.add_heading("各单位情况", level=1)
    table(*_table(report))
    for parent, children in report.rankings():
        doc.add_heading(f"{parent.name}下级单位排名", level=1)
        table(RANK_HEAD, _ranking_rows(children))
    doc.add_paragraph(f"说明：及时率为 {RESPONSE_HOURS:g} 小时内首次公开回应的事件占应回应事件之比；"
                      "上报为因超时或等级较高（较大及以上）而报送上级单位的事件数；移交为人工改派责任单位的次数。")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
