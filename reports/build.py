"""One entry point for every report: `build(kind, rt, day=…, incident_id=…, fmt=…)`."""

from __future__ import annotations

from datetime import date

from reports import render
from reports.data import ReportData, collect, collect_incident
from yuqing.errors import InputError
from yuqing.runtime import Runtime
from yuqing.timeutil import to_shanghai

REPORT_KINDS = ("daily", "weekly", "monthly", "incident")
FORMATS = ("html", "md", "docx")


def build_data(kind: str, rt: Runtime, day: date | None = None, incident_id: int | None = None,
               units: set[str] | None = None) -> ReportData:
    """``units``: the federation units whose incidents a periodic report covers (None = all)."""
    now = rt.clock.now()
    with rt.session() as session:
        if kind == "incident":
            if incident_id is None:
                raise InputError("专报需要事件编号")
            return collect_incident(session, incident_id, now)
        if kind not in REPORT_KINDS:
            raise InputError(f"报告类型必须是 {', '.join(REPORT_KINDS)} 之一")
        return collect(session, kind, day or to_shanghai(now).date(), now, units=units)


def build(kind: str, rt: Runtime, fmt: str = "md", day: date | None = None,
          incident_id: int | None = None, units: set[str] | None = None) -> bytes:
    if fmt not in FORMATS:
        raise InputError(f"格式必须是 {', '.join(FORMATS)} 之一")
    data = build_data(kind, rt, day, incident_id, units=units)
    if fmt == "md":
        return render.to_markdown(data).encode("utf-8")
    if fmt == "html":
        return render.to_html(data).encode("utf-8")
    return render.to_docx(data)
