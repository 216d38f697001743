"""Response templates (Jinja2) filled with an incident's facts: 首次回应, 情况通报, 复盘报告.

``templates/<kind>.md.j2`` is the common text; ``templates/<category>/<kind>.md.j2`` overrides its
blocks for one category. What the system cannot know is left as 【请填写：…】 for a person.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playbooks.checklist import DONE, OPEN, OVERRIDDEN, SKIPPED, STATUS_ZH, items
from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow, ResponseRow, StageHistoryRow
from yuqing.domain import CATEGORY_ZH, STAGE_ZH, Category, Severity, Stage
from yuqing.errors import YuqingError
from yuqing.privacy import mask
from yuqing.timeutil import fmt_duration, fmt_local, to_shanghai, to_utc

KINDS: dict[str, str] = {"first_response": "首次回应", "progress_update": "情况通报", "review": "复盘报告"}
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
RESPONSE_KIND_ZH = {"first": "首次回应", "update": "情况通报", "review": "复盘报告", "draft": "回应口径草稿"}
PLATFORM_ZH = {"weibo": "微博", "wechat": "微信", "news": "新闻网站", "douyin": "抖音", "toutiao": "今日头条",
               "tieba": "贴吧", "bilibili": "B站", "zhihu": "知乎", "rss": "RSS", "kuaishou": "快手"}
SPECIFIC_QUESTIONS: dict[str, list[str]] = {
    "rights": ["是否第一时间联系并保护了当事人", "与公安、法院的沟通是否顺畅，口径是否以办案机关通报为准",
               "对外材料是否做到去标识化（受害人、未成年人身份未泄露）", "当事人后续救助和回访是否落实"],
    "policy": ["权威解读是否及时、通俗，是否与政策出台部门口径一致", "主要误读点是否逐条澄清",
               "群众意见是否转交政策出台部门"],
    "image": ["纪检监察核查是否及时启动，结果是否公开", "是否存在推责（“临时工”“个人行为”）或模糊处理",
              "作风整改措施是否落实"],
    "work": ["被质疑工作的记录是否完整可查", "属实问题是否整改并公开", "群众诉求是否逐条答复"],
    "emergency": ["伤亡和家属联络机制是否及时建立", "伤亡数字和原因是否与官方通报一致",
                  "受影响家庭的后续帮扶是否落实", "伤亡人员个人信息是否得到保护"],
}


def _env() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False)


def _local_day(dt: datetime | None) -> str:
    if dt is None:
        return "近日"
    local = to_shanghai(dt)
    return f"{local.month}月{local.day}日{local.hour}时{local.minute:02d}分"


def facts(incident: IncidentRow, session: Session, now: datetime, next_update_hours: float = 24,
          org_name: str = "【请填写：发布单位】") -> dict[str, Any]:
    """Everything a template may use, masked where it could carry personal data."""
    posts = list(session.execute(
        select(PostRow).join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
        .where(IncidentPostRow.incident_id == incident.id)).scalars())
    platforms = Counter(p.platform for p in posts)
    engagement = {k: sum(getattr(p, k) or 0 for p in posts) for k in ("reposts", "comments", "likes", "views")}
    history = list(session.execute(select(StageHistoryRow).where(StageHistoryRow.incident_id == incident.id)
                                   .order_by(StageHistoryRow.at, StageHistoryRow.id)).scalars())
    responses = list(session.execute(select(ResponseRow).where(ResponseRow.incident_id == incident.id,
                                                               ResponseRow.kind != "draft")
                                     .order_by(ResponseRow.at, ResponseRow.id)).scalars())
    updates = session.execute(select(func.count()).select_from(ResponseRow).where(
        ResponseRow.incident_id == incident.id, ResponseRow.kind == "update")).scalar_one()
    checklist_rows = items(session, incident.id)
    stages: list[dict[str, Any]] = []
    for stage in ("warning", "response", "aftermath"):
        rows = [r for r in checklist_rows if r.stage == stage]
        if not rows:
            continue
        stages.append({
            "stage_zh": STAGE_ZH[Stage(stage)], "total": len(rows),
            "done": sum(r.status == DONE for r in rows), "skipped": sum(r.status == SKIPPED for r in rows),
            "overridden": sum(r.status == OVERRIDDEN for r in rows), "open": sum(r.status == OPEN for r in rows),
            "entries": [{"text": r.text, "status_zh": STATUS_ZH.get(r.status, r.status),
                       "owner": r.assignee or r.role, "done_by": r.done_by, "done_local": fmt_local(r.done_at),
                       "skip_reason": mask(r.skip_reason) if r.skip_reason else "",
                       "late": bool(r.due_at and ((r.done_at and r.done_at > r.due_at)
                                                  or (r.status == OPEN and to_utc(now) > r.due_at)))}
                      for r in rows],
        })
    clock = incident.clock_started_at
    first = incident.first_response_at
    response_seconds = (first - clock).total_seconds() if first and clock else None
    lag = (incident.detected_at - clock).total_seconds() if clock and incident.detected_at else 0.0
    severity = Severity(int(incident.severity or 0))
    peak = Severity(max(int(incident.peak_severity or 0), int(incident.severity or 0)))
    category = Category(incident.category) if incident.category in Category.__members__ else Category.none
    return {
        "incident": {"id": incident.id, "title": mask(incident.title or "") or "有关事件",
                     "peak_heat": incident.peak_heat or incident.heat or 0.0},
        "category": category.value, "category_zh": CATEGORY_ZH[category],
        "severity_label": severity.label, "peak_severity_label": peak.label,
        "stage_zh": STAGE_ZH.get(Stage(incident.stage), incident.stage) if incident.stage in Stage.__members__
        else incident.stage,
        "clock_started_local": fmt_local(clock), "clock_started_local_day": _local_day(clock),
        "detected_local": fmt_local(incident.detected_at), "detection_lag": fmt_duration(max(0.0, lag)),
        "deadline_local": fmt_local(incident.deadline), "first_response_local": fmt_local(first),
        "response_time": fmt_duration(response_seconds) if response_seconds is not None else "",
        "on_time": bool(first and incident.deadline and first <= incident.deadline),
        "now_local": fmt_local(now),
        "next_update_local": _local_day(to_utc(now) + timedelta(hours=next_update_hours)),
        "posts_count": len(posts),
        "platforms_text": "、".join(f"{PLATFORM_ZH.get(k, k)} {v} 条" for k, v in platforms.most_common()) or "—",
        "engagement": engagement,
        "stage_history": [{"at_local": fmt_local(h.at),
                           "from_zh": STAGE_ZH[Stage(h.from_stage)] if h.from_stage in Stage.__members__ else "开始",
                           "to_zh": STAGE_ZH[Stage(h.to_stage)] if h.to_stage in Stage.__members__ else h.to_stage,
                           "actor": h.actor, "reason": mask(h.reason or "")} for h in history],
        "responses": [{"at_local": fmt_local(r.at), "kind_zh": RESPONSE_KIND_ZH.get(r.kind, r.kind), "url": r.url}
                      for r in responses],
        "update_number": updates + 1,
        "checklist": stages,
        "done_items": [{"text": r.text, "done_local": fmt_local(r.done_at)} for r in checklist_rows
                       if r.status == DONE],
        "specific_questions": SPECIFIC_QUESTIONS.get(category.value, []),
        "org_name": org_name,
    }


def render(kind: str, incident_row: IncidentRow, session: Session, now: datetime, **options: Any) -> str:
    """The filled template (Markdown text). ``kind``: first_response | progress_update | review."""
    if kind not in KINDS:
        raise YuqingError(f"未知模板类型 “{kind}”（可用：{'、'.join(f'{k}（{v}）' for k, v in KINDS.items())}）")
    context = facts(incident_row, session, now, **options)
    name = f"{context['category']}/{kind}.md.j2"
    if not (TEMPLATES_DIR / name).exists():
        name = f"{kind}.md.j2"
    return _env().get_template(name).render(**context).strip() + "\n"
