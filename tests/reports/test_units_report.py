"""各级妇联通报 (reports.units) on a real database: figures per unit, 上报 and moves counted, the
ranking of a unit's children, a scope limited to one subtree, both formats."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from reports import units as unit_report
from tests.app.units_config import UNITS
from tests.conftest import write_config
from yuqing.audit import record
from yuqing.db.migrate import upgrade
from yuqing.db.models import IncidentRow, NotificationRow
from yuqing.errors import InputError
from yuqing.runtime import Runtime
from yuqing.settings import load_settings
from yuqing.timeutil import SimClock

T0 = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    rt = Runtime(load_settings(write_config(tmp_path, {"units": UNITS})), SimClock(T0 + timedelta(days=3)))
    upgrade(rt.engine)
    yield rt
    rt.close()


def _incident(s, unit: str | None, category: str, *, lag_min: float, answered_h: float | None,
              at: datetime = T0) -> int:
    started = at - timedelta(minutes=lag_min)
    row = IncidentRow(title="t", category=category, severity=2, peak_severity=2, stage="response", unit_id=unit,
                      detected_at=at, created_at=at, updated_at=at, clock_started_at=started,
                      deadline=started + timedelta(hours=12),
                      first_response_at=started + timedelta(hours=answered_h) if answered_h is not None else None)
    s.add(row)
    s.flush()
    return row.id


def test_figures_per_unit_and_the_ranking(rt: Runtime) -> None:
    with rt.session() as s:
        a = _incident(s, "siming", "rights", lag_min=30, answered_h=2)
        _incident(s, "siming", "image", lag_min=90, answered_h=None)  # never answered, 12 h passed: late
        _incident(s, "huli", "rights", lag_min=10, answered_h=3)
        _incident(s, "huli", "rights", lag_min=20, answered_h=5)
        _incident(s, None, "work", lag_min=5, answered_h=1)  # no owner stored: the root
        _incident(s, "huli", "rights", lag_min=5, answered_h=1, at=T0 - timedelta(days=40))  # January: another month, same quarter
        s.add(NotificationRow(dedupe_key="breach:x:up", kind="breach", incident_id=a, channel="file", unit_id="xm",
                              payload={"extra": {"reported_up": True, "from_unit": "siming"}}, created_at=T0,
                              not_before=T0))
        record(s, actor="张三", action="incident.move", object_type="incident", object_id=a, at=T0,
               before={"unit_id": "huli"}, after={"unit_id": "siming"})
    with rt.session() as s:
        report = unit_report.collect(s, rt.settings, "month", date(2026, 3, 15), rt.clock.now())
    by = {u.id: u for u in report.lines}
    assert (by["siming"].incidents, by["siming"].by_category) == (2, {"rights": 1, "image": 1})
    assert (by["siming"].due, by["siming"].on_time, by["siming"].on_time_rate) == (2, 1, 0.5)
    assert by["siming"].median_lag_min == 60
    assert (by["siming"].reported_up, by["siming"].moved_in, by["huli"].moved_out) == (1, 1, 1)
    assert (by["huli"].incidents, by["huli"].on_time_rate) == (2, 1.0)
    assert (by["xm"].incidents, by["xm"].by_category) == (1, {"work": 1})
    [(parent, children)] = report.rankings()
    assert parent.id == "xm" and [c.id for c in children] == ["huli", "siming"]  # 100% before 50%
    md = unit_report.to_markdown(report)
    assert "各级妇联舆情处置月度通报（2026年3月）" in md and "厦门市妇联下级单位排名" in md
    assert "| 1 | 湖里区妇联 | 100.0% |" in md and "50.0%（1/2）" in md
    import io

    from docx import Document

    doc = Document(io.BytesIO(unit_report.to_docx(report)))
    assert doc.paragraphs[0].text == report.title
    assert [c.text for c in doc.tables[1].rows[1].cells][:3] == ["1", "湖里区妇联", "100.0%"]
    html = unit_report.to_html(report)
    assert html.startswith("<!doctype html>") and "<th>12小时回应及时率</th>" in html
    with rt.session() as s:
        scoped = unit_report.collect(s, rt.settings, "quarter", date(2026, 3, 15), rt.clock.now(),
                                     scope=unit_report.subtree(rt.settings, "huli"))
    assert [u.id for u in scoped.lines] == ["huli"] and scoped.lines[0].incidents == 3  # the quarter has all 3
    assert scoped.rankings() == [] and "第1季度" in scoped.title


def test_bad_period_is_refused(rt: Runtime) -> None:
    with pytest.raises(InputError, match="--period"):
        unit_report.period_bounds("week", date(2026, 3, 2))
    start, end = unit_report.period_bounds("year", date(2026, 7, 1))
    assert (start.date(), end.date()) == (date(2026, 1, 1), date(2027, 1, 1))
