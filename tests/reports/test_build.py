"""reports.build without the web: every kind in every format, the incident's heading masked, bad
arguments refused with a Chinese reason."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from docx import Document

from app.worker import process
from reports import REPORT_KINDS, build
from yuqing.db.models import IncidentRow
from yuqing.domain import Post
from yuqing.errors import InputError
from yuqing.runtime import Runtime
from yuqing.store import store_posts
from yuqing.timeutil import SimClock, to_shanghai

T0 = datetime.fromisoformat("2026-03-02T09:00:00+08:00")
TEXT = "女童李小红（9岁）在校遭体罚致伤，家长电话13812345678，身份证530102201601015633，学校已停课调查"


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    runtime.clock = SimClock(T0 + timedelta(hours=2))
    with runtime.session() as s:
        store_posts(s, [Post.model_validate({"id": "r1", "platform": "weibo", "text": TEXT, "category": "rights",
                                             "severity": 2, "reposts": 400, "published_at": T0.isoformat()})],
                    runtime.clock.now())
    process(runtime)
    return runtime


def _incident(rt: Runtime) -> int:
    with rt.session() as s:
        return s.query(IncidentRow).one().id


def test_every_kind_in_every_format(rt: Runtime) -> None:
    day = to_shanghai(rt.clock.now()).date()
    for kind in REPORT_KINDS:
        extra = {"incident_id": _incident(rt)} if kind == "incident" else {"day": day}
        md = build(kind, rt, fmt="md", **extra).decode("utf-8")
        html = build(kind, rt, fmt="html", **extra).decode("utf-8")
        docx = "\n".join(p.text for p in Document(io.BytesIO(build(kind, rt, fmt="docx", **extra))).paragraphs)
        for text in (md, html, docx):
            assert "13812345678" not in text and "530102201601015633" not in text and "李小红" not in text
        assert html.lstrip().lower().startswith("<!doctype html") or "<html" in html.lower()


def test_the_special_report_heading_is_masked(rt: Runtime) -> None:
    md = build("incident", rt, fmt="md", incident_id=_incident(rt)).decode("utf-8")
    assert "舆情专报" in md
    heading = next(line for line in md.splitlines() if "女童" in line)
    assert "李小红" not in heading and "李某某" in md


def test_bad_arguments_are_refused(rt: Runtime) -> None:
    with pytest.raises(InputError, match="格式"):
        build("daily", rt, fmt="pdf")
    with pytest.raises(InputError, match="报告类型"):
        build("yearly", rt)
    with pytest.raises(InputError, match="事件编号"):
        build("incident", rt)
