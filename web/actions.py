"""Incident and checklist actions from the web, validated field by field before anything is saved.

The work itself is done by the engine (alerting.actions) and playbooks (playbooks.checklist);
this module only turns form fields into their arguments and their errors into messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from yuqing.errors import YuqingError
from yuqing.runtime import Runtime
from yuqing.timeutil import parse_datetime


@dataclass
class FormErrors(Exception):
    """Field name → Chinese message; nothing was saved."""

    errors: dict[str, str] = field(default_factory=dict)


def _required(form: dict[str, Any], name: str, label: str, errors: dict[str, str]) -> str:
    value = str(form.get(name) or "").strip()
    if not value:
        errors[name] = f"请填写{label}"
    return value


def _time(form: dict[str, Any], name: str, errors: dict[str, str], default: datetime) -> datetime:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return default
    try:
        return parse_datetime(raw)
    except ValueError:
        errors[name] = "时间格式应为 2026-03-02T09:15 或带时区的 ISO 8601"
        return default


def _ids(raw: str, errors: dict[str, str], name: str, as_int: bool) -> list[Any]:
    parts = [p.strip() for p in raw.replace("，", ",").replace(" ", ",").split(",") if p.strip()]
    if not parts:
        errors[name] = "请至少填写一个编号"
    if as_int:
        try:
            return [int(p.lstrip("#")) for p in parts]
        except ValueError:
            errors[name] = "事件编号必须是数字，用逗号分隔"
    return parts


@dataclass(frozen=True)
class Outcome:
    message: str  # Chinese confirmation
    incident_id: int  # where to look next (the new incident after a split)


def run(rt: Runtime, action: str, incident_id: int, actor: str, form: dict[str, Any]) -> Outcome:
    """Validate, then perform one action in one transaction."""
    from alerting import actions as engine

    now = rt.clock.now()
    cfg = rt.settings
    common = {"incident_id": incident_id, "actor": actor, "now": now, "settings": cfg}
    errors: dict[str, str] = {}
    call: Callable[..., Any]
    if action == "ack":
        call = partial(engine.ack, incident_id=incident_id, actor=actor, now=now)
        done = "已确认"
    elif action == "advance":
        reason = str(form.get("reason") or "").strip()
        override = str(form.get("override_reason") or "").strip() or None
        call = partial(engine.advance, reason=reason, override_reason=override, **common)
        done = "已推进到下一阶段"
    elif action == "respond":
        url = _required(form, "url", "回应链接", errors)
        if url and not url.startswith(("http://", "https://")):
            errors["url"] = "回应链接应以 http:// 或 https:// 开头"
        at = _time(form, "at", errors, now)
        text = str(form.get("text") or "")
        call = partial(engine.respond, url=url, at=at, text=text, **common)
        done = "已记录首次公开回应"
    elif action == "dismiss":
        reason = _required(form, "reason", "排除理由", errors)
        call = partial(engine.dismiss, reason=reason, **common)
        done = "已排除（误报）"
    elif action == "close":
        reason = str(form.get("reason") or "").strip()
        call = partial(engine.close, reason=reason, **common)
        done = "已关闭"
    elif action == "merge":
        sources = _ids(str(form.get("source_ids") or ""), errors, "source_ids", as_int=True)
        if incident_id in sources:
            errors["source_ids"] = "不能把事件合并到它自己"
        call = partial(engine.merge, target_id=incident_id, source_ids=sources, actor=actor, now=now, settings=cfg)
        done = "已合并"
    elif action == "split":
        post_ids = _ids(str(form.get("post_ids") or ""), errors, "post_ids", as_int=False)
        call = partial(engine.split, post_ids=post_ids, **common)
        done = "已拆分为新事件"
    else:
        raise YuqingError(f"未知操作：{action}")
    result = _apply(rt, call, errors)
    if action == "split":
        return Outcome(f"{done}（新事件 #{result.id}）", result.id)
    return Outcome(done, incident_id)


def checklist(rt: Runtime, incident_id: int, item_id: str, op: str, actor: str, form: dict[str, Any]) -> str:
    from playbooks import checklist as cl

    now = rt.clock.now()
    errors: dict[str, str] = {}
    call: Callable[..., Any]
    if op == "check":
        call = partial(cl.check, ref=(incident_id, item_id), actor=actor, now=now)
        done = "已完成"
    elif op == "skip":
        reason = _required(form, "reason", "跳过理由", errors)
        call = partial(cl.skip, ref=(incident_id, item_id), actor=actor, now=now, reason=reason)
        done = "已跳过"
    elif op == "assign":
        who = _required(form, "assignee", "负责人", errors)
        call = partial(cl.reassign, ref=(incident_id, item_id), actor=actor, now=now, assignee=who)
        done = "已改派"
    else:
        raise YuqingError(f"未知操作：{op}")
    _apply(rt, call, errors)
    return done


def _apply(rt: Runtime, call: Callable[..., Any], errors: dict[str, str]) -> Any:
    """Nothing is saved when a field is wrong; otherwise one transaction."""
    if errors:
        raise FormErrors(errors)
    with rt.session() as s:
        return call(s)
