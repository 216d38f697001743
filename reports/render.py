"""Render ReportData as Markdown (for chat), HTML (browser) and .docx (python-docx, for Word).

``ReportData`` arrives masked (``reports.data``); here it is masked once more (idempotent), cut with
``preview`` (mask, then cut), and rendered: Markdown text made inert with ``md_text`` (a crawled
``[x](url)`` never becomes a link), HTML autoescaped."""

from __future__ import annotations

import io
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from reports.data import IncidentLine, ReportData
from yuqing.domain import Stage, category_zh, severity_zh, stage_zh
from yuqing.exits import md_text, preview
from yuqing.platforms import platform_zh
from yuqing.privacy import mask
from yuqing.timeutil import fmt_local

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"  # report_body.html


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} 小时"


def summary_rows(data: ReportData) -> list[tuple[str, str]]:
    rows = [("统计时段", f"{fmt_local(data.start)} 至 {fmt_local(data.end)}"),
            ("采集帖子", f"{data.posts_total} 条（其中危机类 {data.posts_crisis} 条）"),
            ("新增事件", str(len(data.new_incidents))),
            ("关闭事件", str(len(data.closed_incidents))),
            ("在办事件", str(len(data.open_incidents))),
            ("首次回应", f"{len(data.responded)} 起，平均用时 {_hours(data.mean_response_hours)}"),
            ("回应及时率", _pct(data.timely_rate)),
            ("逾期待办", f"{len(data.overdue_items)} 项")]
    if data.kind == "incident":
        rows = [r for r in rows if r[0] in ("统计时段", "首次回应", "回应及时率", "逾期待办")]
        rows.insert(1, ("相关帖子", f"{data.posts_total} 条"))
    if data.posts_by_platform:
        rows.insert(2, ("平台分布", "，".join(f"{md_text(platform_zh(k))} {v} 条" for k, v in sorted(
            data.posts_by_platform.items(), key=lambda kv: (-kv[1], kv[0])))))
    return rows


def _incident_md(line: IncidentLine) -> str:
    on_time = {True: "按时", False: "超时", None: "未回应"}[line.on_time]
    return (f"- #{line.id} {md_text(mask(line.title))}｜{category_zh(line.category)}｜{severity_zh(line.severity)}"
            f"｜{Stage(line.stage).zh}｜帖子 {line.posts}｜首次回应：{on_time}")


def to_markdown(data: ReportData) -> str:
    out = [f"# {md_text(mask(data.title))}", "", f"生成时间：{fmt_local(data.generated_at)}", ""]
    out += [f"- **{k}**：{v}" for k, v in summary_rows(data)]
    if data.by_category:
        out += ["", "## 按类别", ""] + [f"- {category_zh(k)}：{v}" for k, v in sorted(data.by_category.items())]
    if data.by_severity:
        out += ["", "## 按等级", ""] + [f"- {severity_zh(k)}：{v}" for k, v in sorted(data.by_severity.items(), reverse=True)]
    for heading, lines in (("新增事件", data.new_incidents), ("关闭事件", data.closed_incidents),
                           ("在办事件", data.open_incidents)):
        if lines and data.kind != "incident":
            out += ["", f"## {heading}", ""] + [_incident_md(i) for i in lines]
    if data.stage_history:
        out += ["", "## 处置经过", ""] + [
            f"- {fmt_local(h['at'])} {stage_zh(h['from'])} → {stage_zh(h['to'])}"
            f"（{h['actor']}：{md_text(mask(h['reason'])) or '—'}）" for h in data.stage_history]
    if data.overdue_items:
        out += ["", "## 逾期待办", ""] + [f"- 事件#{o['incident_id']}：{md_text(o['text'])}（{o['role']}，应于 {fmt_local(o['due_at'])}）"
                                        for o in data.overdue_items]
    if data.top_posts:
        out += ["", "## 重点帖子", ""] + [
            f"{n}. ［{md_text(platform_zh(p['platform']))}］ {md_text(preview(p['author'], 40))}：{md_text(preview(p['title'] or p['text'], 81))}"
            f"（互动 {p['engagement']}）"
            for n, p in enumerate(data.top_posts, 1)]
    return "\n".join(out) + "\n"


def to_html(data: ReportData, standalone: bool = True) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters.update(local=fmt_local, mask=mask, preview=preview, category_zh=category_zh, severity_zh=severity_zh,
                       stage_zh=stage_zh, platform_zh=platform_zh)
    return env.get_template("report_body.html").render(data=data, rows=summary_rows(data), standalone=standalone)


def new_document():  # noqa: ANN201  (a python-docx Document)
    """A Word document whose body text is 宋体 11 pt, Chinese characters included (every report's style)."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    return doc


def to_docx(data: ReportData) -> bytes:
    doc = new_document()
    doc.add_heading(mask(data.title), level=0)
    doc.add_paragraph(f"生成时间：{fmt_local(data.generated_at)}")
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for key, value in summary_rows(data):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = key, value
    if data.by_category:
        doc.add_heading("按类别", level=1)
        for k, v in sorted(data.by_category.items()):
            doc.add_paragraph(f"{category_zh(k)}：{v}", style="List Bullet")
    if data.by_severity:
        doc.add_heading("按等级", level=1)
        for k, v in sorted(data.by_severity.items(), reverse=True):
            doc.add_paragraph(f"{severity_zh(k)}：{v}", style="List Bullet")
    sections = [("新增事件", data.new_incidents), ("关闭事件", data.closed_incidents), ("在办事件", data.open_incidents)]
    for heading, lines in sections:
        if lines and data.kind != "incident":
            doc.add_heading(heading, level=1)
            t = doc.add_table(rows=1, cols=6)
            t.style = "Table Grid"
            for cell, text in zip(t.rows[0].cells, ("编号", "事件", "类别", "等级", "阶段", "首次回应"), strict=True):
                cell.text = text
            for line in lines:
                on_time = {True: "按时", False: "超时", None: "未回应"}[line.on_time]
                values = (f"#{line.id}", mask(line.title), category_zh(line.category), severity_zh(line.severity),
                          Stage(line.stage).zh, on_time)
                for cell, text in zip(t.add_row().cells, values, strict=True):
                    cell.text = text
    if data.stage_history:
        doc.add_heading("处置经过", level=1)
        for h in data.stage_history:
            doc.add_paragraph(f"{fmt_local(h['at'])} {stage_zh(h['from'])} → "
                              f"{stage_zh(h['to'])}（{h['actor']}：{mask(h['reason']) or '—'}）", style="List Bullet")
    if data.overdue_items:
        doc.add_heading("逾期待办", level=1)
        for o in data.overdue_items:
            doc.add_paragraph(f"事件#{o['incident_id']}：{o['text']}（{o['role']}，应于 {fmt_local(o['due_at'])}）",
                              style="List Bullet")
    if data.top_posts:
        doc.add_heading("重点帖子", level=1)
        for p in data.top_posts:
            doc.add_paragraph(f"[{platform_zh(p['platform'])}] {preview(p['author'], 40)}：{preview(p['title'] or p['text'], 121)}"
                              f"（互动 {p['engagement']}）", style="List Number")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
