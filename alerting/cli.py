"""Commands of the incident engine: `yuqing incidents …` (the commands that run the whole chain —
`process`, `replay`, `run` — are the composition's, in app/commands.py)."""

from __future__ import annotations

import getpass
import json
import os
from datetime import datetime

import typer

from yuqing.cli.context import console, runtime
from yuqing.platforms import platform_zh

incidents_app = typer.Typer(help="舆情事件：列表、详情、确认、推进阶段、记录回应、排除误报、合并与拆分",
                            no_args_is_help=True, rich_markup_mode=None)

ACTOR_HELP = "操作人（默认当前系统用户）"


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return os.environ.get("YUQING_USER") or getpass.getuser()
    except Exception:  # no user name in some containers
        return "cli"


def _when(value: str | None, what: str) -> datetime | None:
    from yuqing.errors import InputError
    from yuqing.timeutil import parse_datetime, to_utc

    if value is None:
        return None
    try:
        return to_utc(parse_datetime(value))
    except ValueError:
        raise InputError(f"{what} 不是有效的 ISO 8601 时间: {value!r}（例如 2026-03-02T09:15+08:00）") from None


def register(app: typer.Typer) -> None:
    app.add_typer(incidents_app, name="incidents")


@incidents_app.command("list", help="列出舆情事件（默认只列未关闭的）")
def list_cmd(
    all_: bool = typer.Option(False, "--all", help="包括已关闭、已排除的事件"),
    stage: list[str] = typer.Option(None, "--stage", help="只列该阶段：warning/response/aftermath/closed/dismissed"),
    as_json: bool = typer.Option(False, "--json", help="每行一个 JSON 对象（与 replay 的事件文件相同）"),
) -> None:
    from alerting.engine import texts
    from alerting.engine.incident_json import incident_json, list_incidents
    from yuqing.privacy import mask
    from yuqing.timeutil import fmt_local

    rt = runtime()
    stages = stage or (None if all_ or as_json else ["warning", "response", "aftermath"])
    now = rt.clock.now()
    with rt.session() as s:
        rows = list_incidents(s, stages=stages)
        if as_json:
            for row in rows:
                typer.echo(json.dumps(incident_json(s, row), ensure_ascii=False))
            return
        if not rows:
            console.print("没有符合条件的事件。")
            return
        for row in rows:
            console.print(f"#{row.id}  {texts.stage_zh(row.stage)}  {texts.category_zh(row.category)}  "
                          f"{texts.severity_zh(row.severity)}  热度 {row.heat:.0f}  {mask(row.title or '')}", markup=False)
            console.print(f"     公开于 {fmt_local(row.clock_started_at)}；{texts.time_left(row, now)}"
                          f"{'' if row.acknowledged_at else '；未确认'}", markup=False)
    rt.close()


@incidents_app.command("show", help="显示一个事件的详情：时钟、帖子、阶段历史、回应")
def show_cmd(incident_id: int = typer.Argument(..., help="事件编号"),
             as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    from sqlalchemy import select

    from alerting import actions
    from alerting.engine import texts
    from alerting.engine.incident_json import incident_json
    from alerting.engine.region import region_zh
    from yuqing.db.models import IncidentPostRow, PostRow, ResponseRow
    from yuqing.exits import preview
    from yuqing.privacy import mask
    from yuqing.timeutil import fmt_duration, fmt_local

    rt = runtime()
    now = rt.clock.now()
    with rt.session() as s:
        inc = actions.get(s, incident_id)
        if as_json:  # the contract's fields, plus why the incident has its level
            obj = {**incident_json(s, inc), "severity_reason": texts.severity_reason(inc) or None}
            if rt.settings.units:  # the owner unit (alerting.units), once units are configured
                from alerting import units

                owner = units.owner(rt.settings, inc)
                obj["unit"] = {"id": owner.id, "name": owner.name, "manual": bool(inc.unit_manual)}
            typer.echo(json.dumps(obj, ensure_ascii=False))
            return
        out = [f"事件 #{inc.id}：{mask(inc.title or '')}",
               f"分类：{texts.category_zh(inc.category)}　等级：{texts.severity_zh(inc.severity)}"
               f"（最高 {texts.severity_zh(inc.peak_severity)}）　阶段：{texts.stage_zh(inc.stage)}",
               f"定级依据：{texts.severity_reason(inc) or '（尚未评定）'}",
               f"热度：{inc.heat:.1f}（峰值 {inc.peak_heat:.1f}）" + (f"　热搜第 {inc.hot_search_rank} 位"
                                                                   if inc.hot_search_rank else ""),
               f"事件公开：{fmt_local(inc.clock_started_at)}　发现：{fmt_local(inc.detected_at)}"]
        out.insert(3, f"地域：{region_zh(inc)}")
        if rt.settings.units:
            from alerting import units

            owner = units.owner(rt.settings, inc)
            out.insert(4, f"责任单位：{owner.name}{'（人工移交）' if inc.unit_manual else ''}")
        if inc.clock_started_at:
            lag = max(0.0, (inc.detected_at - inc.clock_started_at).total_seconds())
            out[-1] += f"（发现滞后 {fmt_duration(lag)}）"
        out.append(f"回应时钟：{texts.time_left(inc, now)}")
        out.append(f"确认：{inc.acknowledged_by}（{fmt_local(inc.acknowledged_at)}）" if inc.acknowledged_at
                   else "确认：尚未确认")
        if inc.dismissed_reason:
            out.append(f"排除原因：{mask(inc.dismissed_reason)}")
        out.append("阶段历史：")
        for h in inc.stages:
            out.append(f"  {fmt_local(h.at)}  {texts.stage_zh(h.from_stage) if h.from_stage else '—'} → "
                       f"{texts.stage_zh(h.to_stage)}  {'系统' if h.actor == 'system' else h.actor}：{h.reason}")
        responses = s.scalars(select(ResponseRow).where(ResponseRow.incident_id == inc.id)
                              .order_by(ResponseRow.at)).all()
        if responses:
            out.append("回应：")
            out += [f"  {fmt_local(r.at)}  {r.kind}  {r.url or ''}  {r.author}" for r in responses]
        posts = s.execute(select(PostRow, IncidentPostRow.reason)
                          .join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
                          .where(IncidentPostRow.incident_id == inc.id).order_by(PostRow.published_at)).all()
        out.append(f"帖子（{len(posts)} 条）：")
        for post, reason in posts[:30]:
            text = preview(post.title or post.text, 61)  # mask, then cut
            out.append(f"  [{post.id}] {fmt_local(post.published_at)} {platform_zh(post.platform)} {mask(post.author or '')}"
                       f"（{reason}）{text}")
    for line in out:
        console.print(line, markup=False)
    rt.close()


def _act(fn_name: str, incident_id: int, by: str | None, done: str, **kwargs: object) -> None:
    from alerting import actions
    from alerting.engine import texts

    rt = runtime()
    now = rt.clock.now()
    with rt.session() as s:
        fn = getattr(actions, fn_name)
        if fn_name not in ("ack",):
            kwargs["settings"] = rt.settings
        inc = fn(s, incident_id, _actor(by), now, **kwargs)
        message = done.format(id=inc.id, stage=texts.stage_zh(inc.stage))
    console.print(message, markup=False)
    rt.close()


@incidents_app.command("ack", help="确认事件告警（停止逐级上报）")
def ack_cmd(incident_id: int = typer.Argument(..., help="事件编号"),
            by: str = typer.Option(None, "--by", help=ACTOR_HELP)) -> None:
    _act("ack", incident_id, by, "已确认事件 #{id} 的告警。")


@incidents_app.command("advance", help="推进到下一阶段（预警→应对→善后→关闭）")
def advance_cmd(incident_id: int = typer.Argument(..., help="事件编号"),
                reason: str = typer.Option("", "--reason", help="推进原因"),
                override_reason: str = typer.Option(None, "--override-reason", "--override",
                                                    help="必做事项未完成时仍要推进的理由"),
                by: str = typer.Option(None, "--by", help=ACTOR_HELP)) -> None:
    _act("advance", incident_id, by, "事件 #{id} 已进入{stage}阶段。", reason=reason,
         override_reason=override_reason)


@incidents_app.command("respond", help="记录公开回应（首次回应使 12 小时时钟停止）")
def respond_cmd(incident_id: int = typer.Argument(..., help="事件编号"),
                url: str = typer.Option(..., "--url", help="回应的链接"),
                at: str = typer.Option(None, "--at", help="回应发布时间（ISO 8601，默认现在）"),
                text: str = typer.Option("", "--text", help="回应摘要"),
                by: str = typer.Option(None, "--by", help=ACTOR_HELP)) -> None:
    _act("respond", incident_id, by, "已记录事件 #{id} 的公开回应。", url=url, at=_when(at, "--at"), text=text)


@incidents_app.command("dismiss", help="排除误报（须填写原因）")
def dismiss_cmd(incident_id: int = typer.Argument(..., help="事件编号"),
                reason: str = typer.Option(..., "--reason", help="排除原因"),
                by: str = typer.Option(None, "--by", help=ACTOR_HELP)) -> None:
    _act("dismiss", incident_id, by, "事件 #{id} 已作为误报排除。", reason=reason)


@incidents_app.command("close", help="关闭事件（善后完成；其他阶段须填写原因）")
def close_cmd(incident_id: int = typer.Argument(..., help="事件编号"),
              reason: str = typer.Option("", "--reason", help="关闭原因"),
              by: str = typer.Option(None, "--by", help=ACTOR_HELP)) -> None:
    _act("close", incident_id, by, "事件 #{id} 已关闭。", reason=reason)


@incidents_app.command("move", help="把事件移交给另一单位（事发地识别有误时；须填写原因，留审计）")
def move_cmd(incident_id: int = typer.Argument(..., help="事件编号"),
             unit: str = typer.Option(..., "--unit", help="目标单位 id（配置 units 中的 id）"),
             reason: str = typer.Option(..., "--reason", help="移交原因"),
             by: str = typer.Option(None, "--by", help=ACTOR_HELP)) -> None:
    from alerting import units

    rt = runtime()
    with rt.session() as s:
        units.move(s, incident_id, unit, _actor(by), rt.clock.now(), reason, rt.settings)
    console.print(f"已将事件 #{incident_id} 移交至 {units.label(rt.settings, unit)}。", markup=False)
    rt.close()


@incidents_app.command("relocate", help="重新识别事件的事发地（升级后补算旧事件，或地名表更新后）")
def relocate_cmd(all_: bool = typer.Option(False, "--all", help="包括已关闭、已排除的事件")) -> None:
    from alerting.engine import region
    from alerting.engine.incident_json import list_incidents

    rt = runtime()
    with rt.session() as s:
        rows = list_incidents(s, stages=None if all_ else ["warning", "response", "aftermath"])
        changed = 0
        for row in rows:
            before = (row.region_code, row.region_confidence)
            region.rebuild(s, row)
            changed += (row.region_code, row.region_confidence) != before
    console.print(f"已重新识别 {len(rows)} 个事件的事发地，其中 {changed} 个有变化。", markup=False)
    rt.close()


@incidents_app.command("merge", help="把其他事件并入目标事件：merge 目标ID 来源ID…")
def merge_cmd(target_id: int = typer.Argument(..., help="保留的事件编号"),
              source_ids: list[int] = typer.Argument(..., help="并入的事件编号"),
              by: str = typer.Option(None, "--by", help=ACTOR_HELP)) -> None:
    from alerting import actions

    rt = runtime()
    with rt.session() as s:
        inc = actions.merge(s, target_id, source_ids, _actor(by), rt.clock.now(), settings=rt.settings)
        console.print(f"已将事件 {'、'.join('#' + str(i) for i in source_ids)} 并入事件 #{inc.id}。")
    rt.close()


@incidents_app.command("split", help="把若干帖子从事件中拆出为新事件：split 事件ID 帖子ID…")
def split_cmd(incident_id: int = typer.Argument(..., help="事件编号"),
              post_ids: list[str] = typer.Argument(..., help="要拆出的帖子 id"),
              by: str = typer.Option(None, "--by", help=ACTOR_HELP)) -> None:
    from alerting import actions

    rt = runtime()
    with rt.session() as s:
        new = actions.split(s, incident_id, post_ids, _actor(by), rt.clock.now(), settings=rt.settings)
        console.print(f"已从事件 #{incident_id} 拆出 {len(post_ids)} 条帖子，成为新事件 #{new.id}。")
    rt.close()
