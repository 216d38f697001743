"""Chinese message texts for every channel, built from an outbox payload.

Everything here reads the payload :func:`alerting.outbox.enqueue` wrote (already masked) and
masks once more on the way out (``mask`` is idempotent), so no channel can leak personal data
even if a caller stored raw text. ``now`` is the send time: the time left on the 12-hour clock
is computed when the message goes out, not when it was queued.

Order, through :mod:`yuqing.exits`: mask the whole text, then cut it (``preview``), then render it
for the channel. Crawled text cannot steer a message: robot markdown gets ``md_text`` (markup
characters made inert), Slack gets ``slack_text`` (``& < >`` escaped, so ``<!channel>`` mentions no
one), e-mail HTML is escaped, and only ``safe_url`` (http/https) links are ever made; any other
post URL is dropped.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from yuqing.domain import (
    SEVERITY_INFO,
    Severity,
    category_zh,
    severity_zh,
    stage_zh,
)
from yuqing.exits import md_link, md_text, preview, safe_url, slack_link, slack_text
from yuqing.platforms import platform_zh
from yuqing.privacy import mask, mask_then_cut
from yuqing.timeutil import fmt_duration, fmt_local, parse_datetime, to_utc

KIND_ZH: dict[str, str] = {
    "new_incident": "新舆情事件",
    "severity_up": "舆情等级上升",
    "stage_change": "处置阶段变化",
    "reminder": "回应时限提醒",
    "breach": "超过回应时限",
    "escalation": "逐级上报",
    "re_escalation": "二次发酵",
    "digest": "每日舆情汇总",
    "checklist_overdue": "处置清单逾期",
}
SUBKIND_ZH = {"checklist": "处置清单事项提醒"}
# Slack attachment colours by severity (the 舆情等级 colours)
SEVERITY_COLOUR = {int(s): info[3] for s, info in SEVERITY_INFO.items()}
FEISHU_TEMPLATE = {0: "grey", 1: "blue", 2: "yellow", 3: "orange", 4: "red"}
ACK_ACTION_ID = "yuqing_ack"


def kind_zh(payload: dict[str, Any]) -> str:
    sub = payload.get("subkind")
    return SUBKIND_ZH.get(sub, KIND_ZH.get(payload.get("kind", ""), "通知")) if sub else \
        KIND_ZH.get(payload.get("kind", ""), "通知")





def time_left(payload: dict[str, Any], now: datetime) -> str | None:
    """'距首次回应时限还剩 3小时12分（截止 2026-03-02 21:00）', or overdue, or None without a deadline."""
    deadline = payload.get("deadline")
    if not deadline or payload.get("stage") in ("closed", "dismissed"):
        return None
    if (payload.get("extra") or {}).get("responded"):
        return None
    due = parse_datetime(deadline)
    left = (to_utc(due) - to_utc(now)).total_seconds()
    when = fmt_local(due)
    if left >= 0:
        return f"距首次回应时限还剩 {fmt_duration(left)}（截止 {when}）"
    return f"已超过首次回应时限 {fmt_duration(-left)}（截止 {when}）"


def title(payload: dict[str, Any]) -> str:
    """'【较大·新舆情事件】#12 权益侵害类 某地女童被打事件'."""
    sev = int(payload.get("severity") or 0)
    label = kind_zh(payload)
    if payload.get("kind") == "digest":
        return f"【{label}】"
    head = f"【{Severity(sev).zh if sev in range(5) else sev}·{label}】"
    parts = [head]
    if payload.get("incident_id") is not None:
        parts.append(f"#{payload['incident_id']}")
    parts.append(category_zh(payload.get("category")))
    if payload.get("title"):
        parts.append(mask(payload["title"]))
    return " ".join(parts)


def facts(payload: dict[str, Any], now: datetime) -> list[tuple[str, str]]:
    if payload.get("kind") == "digest":
        return []
    rows = [
        ("类别", category_zh(payload.get("category"))),
        ("等级", severity_zh(payload.get("severity"))),
        ("阶段", stage_zh(payload.get("stage"))),
    ]
    left = time_left(payload, now)
    if left:
        rows.append(("时钟", left))
    if payload.get("escalation_level"):
        rows.append(("上报层级", f"第 {payload['escalation_level']} 级"))
    return rows


POST_PREVIEW = 81  # characters of a post in a message, ellipsis included


def _post_line(post: dict[str, Any]) -> str:
    """'[微博] 作者：text…' — masked first, then cut (plain text; callers render it)."""
    platform = platform_zh(post.get("platform")) if post.get("platform") else ""
    return f"[{platform}] {preview(post.get('author'), 40) or '匿名'}：{preview(post.get('text'), POST_PREVIEW)}"


def plain_text(payload: dict[str, Any], now: datetime) -> str:
    """The whole message as plain text (console, e-mail text part, file fallback)."""
    lines = [title(payload)]
    lines += [f"{k}：{v}" for k, v in facts(payload, now)]
    body = mask(payload.get("text") or "")
    if body:
        lines += ["", body]
    posts = payload.get("top_posts") or []
    if posts:
        lines += ["", "代表性帖文："]
        for i, post in enumerate(posts, 1):
            url = safe_url(post.get("url"))
            lines.append(f"{i}. {_post_line(post)}" + (f" {url}" if url else ""))
    return "\n".join(lines)


def markdown(payload: dict[str, Any], now: datetime, *, link_style: str = "md") -> str:
    """Markdown for the WeCom / DingTalk / Feishu robots (their common subset)."""
    lines = [f"### {md_text(title(payload))}"]
    lines += [f"- **{md_text(k)}**：{md_text(v)}" for k, v in facts(payload, now)]
    body = md_text(mask(payload.get("text") or ""))
    if body:
        lines += ["", body]
    posts = payload.get("top_posts") or []
    if posts:
        lines += ["", "**代表性帖文**"]
        for i, post in enumerate(posts, 1):
            link = md_link(post.get("url"), "原文")
            lines.append(f"{i}. {md_text(_post_line(post))}{' ' + link if link else ''}")
    return "\n".join(lines)


def slack_blocks(payload: dict[str, Any], now: datetime, *, with_ack: bool = True) -> list[dict[str, Any]]:
    """Block Kit blocks: header, facts, text, top posts with links, and a 确认 button."""
    esc = slack_text
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": slack_plain(title(payload))[:150], "emoji": True}},
    ]
    fact_rows = facts(payload, now)
    if fact_rows:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{k}*\n{esc(v)}"} for k, v in fact_rows]})
    body = mask_then_cut_slack(payload.get("text"))
    if body:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
    posts = payload.get("top_posts") or []
    if posts:
        lines = []
        for post in posts:
            line = esc(_post_line(post))
            link = slack_link(post.get("url"), "原文")
            if link:
                line += f" {link}"
            lines.append("• " + line)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*代表性帖文*\n" + "\n".join(lines)}})
    if with_ack and payload.get("incident_id") is not None and payload.get("kind") != "digest":
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "action_id": ACK_ACTION_ID, "style": "primary",
            "text": {"type": "plain_text", "text": "确认"}, "value": str(payload["incident_id"]),
        }]})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"妇联舆情监测 · {payload.get('time') or ''}"}]})
    return blocks


def slack_plain(text: str) -> str:
    """Text for a Slack ``plain_text`` object: masked, and ``& < >`` as full-width look-alikes (plain_text
    is not entity-decoded everywhere, and a fallback built from it must not form ``<!channel>``)."""
    return mask(text).replace("&", "＆").replace("<", "＜").replace(">", "＞")


SLACK_SECTION_CHARS = 2400  # Slack's limit is 3000 after escaping


def mask_then_cut_slack(text: str | None) -> str:
    """The body for a Slack mrkdwn section: masked, cut, then escaped (escaping last, so the cut never
    splits an entity)."""
    return slack_text(mask_then_cut(text, SLACK_SECTION_CHARS))


def slack_fallback(payload: dict[str, Any]) -> str:
    """The notification fallback ``text`` (Slack parses it as mrkdwn): the masked title, escaped."""
    return slack_text(title(payload))


def email_html(payload: dict[str, Any], now: datetime) -> str:
    e = html.escape
    colour = SEVERITY_COLOUR.get(int(payload.get("severity") or 0), "#9e9e9e")
    rows = "".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts(payload, now))
    body = e(mask(payload.get("text") or "")).replace("\n", "<br>")
    posts = ""
    for post in payload.get("top_posts") or []:
        url = safe_url(post.get("url"))
        link = f" <a href='{e(url)}'>原文</a>" if url else ""
        posts += f"<li>{e(_post_line(post))}{link}</li>"
    posts_html = f"<h3>代表性帖文</h3><ol>{posts}</ol>" if posts else ""
    return (f"<html><body><h2 style='border-left:6px solid {colour};padding-left:8px'>{e(title(payload))}</h2>"
            f"<table>{rows}</table><p>{body}</p>{posts_html}"
            f"<p style='color:#888'>妇联舆情监测 · {e(payload.get('time') or '')}</p></body></html>")
