"""Chinese texts of the engine's notifications (the channels add layout; the outbox masks)."""

from __future__ import annotations

from datetime import datetime

from yuqing.db.models import IncidentRow
from yuqing.domain import category_zh, severity_zh, stage_zh
from yuqing.privacy import mask
from yuqing.timeutil import fmt_duration, fmt_local


def time_left(incident: IncidentRow, now: datetime) -> str:
    if incident.first_response_at is not None:
        return f"已于 {fmt_local(incident.first_response_at)} 首次公开回应"
    if incident.deadline is None:
        return "时限未知"
    seconds = (incident.deadline - now).total_seconds()
    if seconds >= 60:
        return f"距首次公开回应时限还剩 {fmt_duration(seconds)}（时限 {fmt_local(incident.deadline)}）"
    if seconds > -60:
        return f"已到首次公开回应时限（{fmt_local(incident.deadline)}），仍未回应"
    return f"已超过首次公开回应时限 {fmt_duration(seconds)}（时限 {fmt_local(incident.deadline)}）"


def header(incident: IncidentRow, label: str) -> str:
    return (f"【{label}】事件 #{incident.id}｜{category_zh(incident.category)}｜"
            f"{severity_zh(incident.severity)}｜{stage_zh(incident.stage)}\n{mask(incident.title or '')}")


def new_incident(incident: IncidentRow, now: datetime, people: str) -> str:
    lag = ""
    if incident.clock_started_at is not None:
        lag_s = max(0.0, (incident.detected_at - incident.clock_started_at).total_seconds())
        lag = f"\n事件公开于 {fmt_local(incident.clock_started_at)}，发现滞后 {fmt_duration(lag_s)}"
    return (f"{header(incident, '新舆情事件')}{lag}\n{time_left(incident, now)}\n"
            f"热度 {incident.heat:.0f}；请值班人员（{people}）确认并研判。")


def severity_reason(incident: IncidentRow) -> str:
    """Why the incident has its level now, e.g. '最高帖文等级 2；热搜第 3 位 → 3' (empty if unknown)."""
    return str((incident.features or {}).get("severity_reason") or "")


def severity_up(incident: IncidentRow, old: int, now: datetime) -> str:
    why = severity_reason(incident)
    return (f"{header(incident, '等级上升')}\n等级由 {severity_zh(old)} 升至 {severity_zh(incident.severity)}，"
            f"热度 {incident.heat:.0f}" + (f"\n定级依据：{why}" if why else "") + f"\n{time_left(incident, now)}")


def stage_change(incident: IncidentRow, old: str | None, reason: str, actor: str) -> str:
    who = "系统" if actor == "system" else actor
    return (f"{header(incident, '阶段变更')}\n{stage_zh(old)} → {stage_zh(incident.stage)}（{who}：{reason}）")


def reminder(incident: IncidentRow, hours: float, now: datetime) -> str:
    return (f"{header(incident, '回应时限提醒')}\n{time_left(incident, now)}。"
            "快报事实、慎报原因、重在态度，请尽快发布首次回应。")


def breach(incident: IncidentRow, now: datetime, level_name: str, people: str) -> str:
    return (f"{header(incident, '超时未回应')}\n{time_left(incident, now)}。"
            f"已上报{level_name}（{people}）。")


def escalation(incident: IncidentRow, minutes: float, level_name: str, people: str) -> str:
    return (f"{header(incident, '告警未确认·逐级上报')}\n告警 {minutes:.0f} 分钟内无人确认，"
            f"已上报{level_name}（{people}）。")


def re_escalation(incident: IncidentRow, posts: int, hours: float, now: datetime) -> str:
    return (f"{header(incident, '二次发酵')}\n善后阶段 {hours:g} 小时内出现 {posts} 条高互动帖，热度 {incident.heat:.0f}，"
            "事件重新进入应对阶段，请防止舆情再次扩散。")


def quiet_aftermath(incident: IncidentRow, days: float) -> str:
    return (f"{header(incident, '善后提醒')}\n事件已平稳 {days:.0f} 天，请完成跟踪反馈、复盘总结并关闭事件。")
