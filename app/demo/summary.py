"""The demo's short Chinese summary."""

from __future__ import annotations

from collections import Counter

from app.demo.run import DEMO_PASSWORD, DEMO_USER, DemoResult
from yuqing.domain import Category, Severity, Stage
from yuqing.timeutil import fmt_local

KIND_ZH = {"new_incident": "新事件", "severity_up": "等级上升", "stage_change": "阶段变化", "reminder": "时限提醒",
           "checklist_overdue": "清单逾期",
           "breach": "超时", "escalation": "逐级上报", "re_escalation": "二次发酵", "digest": "汇总简报"}
PLATFORM_ZH = {"weibo": "微博", "weibo_hot": "微博热搜", "news": "新闻", "wechat": "微信公众号", "rss": "RSS",
               "tieba": "贴吧", "douyin": "抖音"}


def _zh(enum: type, value: object) -> str:
    try:
        member = enum(value)
    except ValueError:
        return str(value)
    return str(getattr(member, "zh", None) or getattr(member, "label", None) or value)


def summary_lines(result: DemoResult, dashboard: str | None = None) -> list[str]:
    r = result
    lines = ["", "======== 演示小结 ========",
             f"模拟时间：{fmt_local(r.started)} → {fmt_local(r.ended)}（实际用时 {r.wall_seconds / 60:.1f} 分钟，"
             f"其中采集 {r.crawl_seconds / 60:.1f} 分钟）",
             r.classifier_note]
    platforms = "，".join(f"{PLATFORM_ZH.get(k, k)} {v}" for k, v in r.posts_by_platform.most_common())
    crawls = sum(r.crawls.values())
    lines.append(f"帖子：采集入库 {r.posts} 条（{platforms}）；共运行爬虫 {crawls} 次" +
                 (f"，其中 {len(r.crawl_failures)} 次异常" if r.crawl_failures else ""))
    by_cat = Counter(i["category"] for i in r.incidents)
    lines.append(f"事件：{len(r.incidents)} 个（" + "，".join(
        f"{_zh(Category, c)} {n}" for c, n in by_cat.most_common()) + "）")
    for inc in r.incidents:
        stages = " → ".join(_zh(Stage, s) for s in inc["stages"])
        lines.append(f"  #{inc['id']} [{_zh(Category, inc['category'])}·{_zh(Severity, inc['severity'])}"
                     f"（峰值{_zh(Severity, inc['peak_severity'])}）] {inc['title']}  {inc['posts']} 条帖子；阶段：{stages}")
    sent = sum(r.notifications.values())
    lines.append(f"告警：已发送 {sent} 条（" + "，".join(
        f"{KIND_ZH.get(k, k)} {n}" for k, n in r.notifications.most_common()) + "）；控制台与文件 "
        f"{r.settings.data_file('notifications.jsonl')}" + (f"；另发往 {'、'.join(r.extra_channels)}" if r.extra_channels else ""))
    if r.actions_done:
        lines.append(f"值班操作：{len(r.actions_done)} 个（确认、记录回应、排除误报、关闭）")
    reports = [p for p in r.reports if p.name.startswith("daily-")]
    if reports:
        lines.append(f"报告：日报 {', '.join(p.name for p in reports)} 及 {len(r.reports) - len(reports)} 份事件专报，"
                     f"位于 {reports[0].parent}")
    if r.errors:
        lines.append(f"提示：运行中记录了 {len(r.errors)} 条问题，例如：{r.errors[0]}")
    if dashboard:
        lines.append(f"值班台：{dashboard}  （演示账号 {DEMO_USER} / 密码 {DEMO_PASSWORD}，管理员）")
    lines.append(f"演示数据目录：{r.settings.data_path}（独立的 SQLite 数据库与检索索引，不影响正式数据）")
    return lines
