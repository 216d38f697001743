"""`yuqing playbook …` and the checklist commands of `yuqing incidents …`.

Exit statuses: 0 ok; 1 a user error, an invalid playbook, or `check-draft` found error-level
problems (with `--strict`, warnings too).
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import typer

from yuqing.cli.context import console, runtime
from yuqing.errors import InputError, YuqingError

playbook_app = typer.Typer(help="应对剧本：清单、回应口径检查、模板", no_args_is_help=True,
                           rich_markup_mode=None)

_LEVEL_MARK = {"error": "[red]✘ 错误[/red]", "warning": "[yellow]! 警告[/yellow]", "info": "[cyan]· 提示[/cyan]"}


def _out(text: str, markup: bool = False, **kwargs: object) -> None:
    """Print without Rich's hard wrapping (long Chinese lines stay whole, greppable)."""
    console.print(text, markup=markup, soft_wrap=True, highlight=False, **kwargs)  # type: ignore[arg-type]


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers)
        return "cli"


def show(category: str = typer.Argument(..., help="类别：policy|rights|image|work|emergency"),
         stage: str = typer.Argument(None, help="阶段：warning|response|aftermath（默认全部）")) -> None:
    """Print a playbook, one stage or all three."""
    from playbooks.loader import get_playbook
    from yuqing.domain import CATEGORY_ZH, STAGE_ZH, Category, Stage

    rt = runtime()
    book = get_playbook(category, rt.settings)
    stages = list(book.stages) if stage is None else [stage]
    for name in stages:
        if name not in book.stages:
            raise YuqingError(f"阶段 “{name}” 不存在（可用：warning 预警、response 应对、aftermath 善后）")
    _out(f"[bold]{book.name}[/bold]（{CATEGORY_ZH[Category(book.category)]}，第 {book.version} 版）", markup=True)
    for principle in book.principles:
        _out(f"  原则：{principle}")
    for name in stages:
        plan = book.stages[name]
        _out(f"\n[bold]{STAGE_ZH[Stage(name)]}阶段[/bold]（{name}）" + (f"：{plan.goal}" if plan.goal else ""),
             markup=True)
        for n, item in enumerate(plan.items, 1):
            flags = ("必做" if item.required else "可选") + ("·隐私" if item.privacy else "")
            due = item.due.describe() if item.due else "无时限"
            _out(f"  {n:>2}. [{flags}] {item.text}")
            _out(f"      id={item.id}  负责：{item.role}  时限：{due}")
            if item.guidance:
                _out(f"      指引：{item.guidance}")
            if item.seed:
                _out(f"      依据：{item.seed}")


def validate() -> None:
    """Validate every playbook file and the draft rules; print each problem."""
    from playbooks.drafts import load_rules
    from playbooks.loader import playbooks_dir, validate_dir
    from yuqing.errors import ConfigError

    rt = runtime()
    directory = playbooks_dir(rt.settings)
    report = validate_dir(directory)
    problems = list(report.errors)
    try:
        rules = load_rules(directory)
    except ConfigError as exc:
        problems.append(str(exc))
        rules = []
    for name, book in sorted(report.playbooks.items()):
        counts = "、".join(f"{s} {len(p.items)} 项" for s, p in book.stages.items())
        console.print("[green]✔[/green] ", end="")
        _out(f"{directory / (name + '.yaml')}：{book.name}（{counts}）")
    if rules:
        _out(f"[green]✔[/green] 回应口径规则 {len(rules)} 条", markup=True)
    for problem in problems:
        console.print("[red]✘[/red] ", end="")
        _out(problem)
    if problems:
        raise typer.Exit(1)
    _out("[green]剧本全部有效。[/green]", markup=True)


def check_draft_cmd(
    file: Path = typer.Argument(..., help="口径文本文件（UTF-8）；- 表示标准输入"),
    platform: str = typer.Option("weibo", "--platform", "-p", help="发布平台：weibo|wechat|douyin|toutiao|website …"),
    incident: int = typer.Option(None, "--incident", help="事件编号：按事件类别套用专项规则"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
    strict: bool = typer.Option(False, "--strict", help="有警告也以退出码 1 结束"),
) -> None:
    """Check a response draft against the doctrine; exit 1 on error-level findings (--strict: warnings too)."""
    from playbooks.drafts import LEVEL_ZH, check_draft

    if str(file) == "-":
        text = sys.stdin.read()
    else:
        if not file.exists():
            raise InputError(f"文件不存在: {file}")
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{file}: 不是 UTF-8 编码（位置 {exc.start}）") from None
    if not text.strip():
        raise InputError(f"{file}: 内容为空")
    row = None
    if incident is not None:
        from yuqing.db.models import IncidentRow

        rt = runtime()
        with rt.session() as s:
            row = s.get(IncidentRow, incident)
            if row is None:
                raise YuqingError(f"事件 {incident} 不存在")
            row = {"category": row.category}
    findings = check_draft(text, platform=platform, incident=row)
    if as_json:
        typer.echo(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for f in findings:
            where = f"第 {text.count(chr(10), 0, f.span[0]) + 1} 行「{f.excerpt[:30]}」" if f.span else "全文"
            console.print(f"{_LEVEL_MARK[f.severity]} ", end="")
            _out(f"[{f.rule_id}] {where}：{f.message}")
            _out(f"    依据：{f.seed}")
        counts = {k: sum(f.severity == k for f in findings) for k in LEVEL_ZH}
        if findings:
            _out("共 " + "，".join(f"{LEVEL_ZH[k]} {v} 条" for k, v in counts.items()))
        else:
            _out("[green]未发现问题。[/green]", markup=True)
    failing = [f for f in findings if f.severity == "error" or (strict and f.severity == "warning")]
    if failing:
        raise typer.Exit(1)


def template_cmd(
    kind: str = typer.Argument(..., help="first_response（首次回应）|progress_update（情况通报）|review（复盘报告）"),
    incident: int = typer.Argument(..., help="事件编号"),
    out: Path = typer.Option(None, "--out", "-o", help="写入文件（默认输出到屏幕）"),
) -> None:
    """Fill a response template with the incident's facts."""
    from playbooks.templates import render
    from yuqing.db.models import IncidentRow

    rt = runtime()
    with rt.session() as s:
        row = s.get(IncidentRow, incident)
        if row is None:
            raise YuqingError(f"事件 {incident} 不存在")
        text = render(kind, row, s, rt.clock.now())
    if out:
        out.write_text(text, encoding="utf-8")
        _out(f"已写入 {out}")
    else:
        typer.echo(text)


def checklist_cmd(incident: int = typer.Argument(..., help="事件编号"),
                  all_stages: bool = typer.Option(False, "--all", help="显示所有阶段（默认当前阶段）")) -> None:
    """Show the incident's checklist with owners, due times and state."""
    from playbooks.checklist import STATUS_ZH, items
    from yuqing.db.models import IncidentRow
    from yuqing.domain import STAGE_ZH, Stage
    from yuqing.timeutil import fmt_duration, fmt_local

    rt = runtime()
    now = rt.clock.now()
    with rt.session() as s:
        row = s.get(IncidentRow, incident)
        if row is None:
            raise YuqingError(f"事件 {incident} 不存在")
        rows = items(s, incident, None if all_stages else row.stage)
        stage_zh = STAGE_ZH.get(Stage(row.stage), row.stage) if row.stage in Stage.__members__ else row.stage
        _out(f"事件 #{row.id}「{row.title}」当前阶段：{stage_zh}")
        if not rows:
            _out("（该阶段没有清单事项）")
        current = None
        for r in rows:
            if r.stage != current:
                current = r.stage
                _out(f"\n[bold]{STAGE_ZH[Stage(r.stage)]}阶段[/bold]", markup=True)
            mark = {"open": "☐", "done": "☑", "skipped": "⤼", "overridden": "⇥"}.get(r.status, "?")
            due = ""
            if r.due_at:
                left = (r.due_at - now).total_seconds()
                due = f"截止 {fmt_local(r.due_at)}" + (
                    f"（已逾期 {fmt_duration(left)}）" if r.status == "open" and left < 0
                    else (f"（剩 {fmt_duration(left)}）" if r.status == "open" else ""))
            _out(f" {mark} {r.item_id:<24} {r.text}")
            extra = f"     {'必做' if r.required else '可选'} · 负责：{r.assignee or r.role} · {due} · {STATUS_ZH.get(r.status, r.status)}"
            if r.done_by:
                extra += f"（{r.done_by} {fmt_local(r.done_at)}）"
            if r.skip_reason:
                extra += f" 理由：{r.skip_reason}"
            _out(extra)


def check_cmd(
    incident: int = typer.Argument(..., help="事件编号"),
    item: str = typer.Argument(..., help="事项 id（见 yuqing incidents checklist ID）"),
    skip_reason: str = typer.Option(None, "--skip", help="跳过该事项并说明理由"),
    assign: str = typer.Option(None, "--assign", help="改派给某人"),
    by: str = typer.Option(None, "--by", help="操作人（默认当前登录用户）"),
) -> None:
    """Mark a checklist item done (default), skip it with a reason, or reassign it."""
    from playbooks import checklist

    if skip_reason is not None and assign is not None:
        raise InputError("--skip 与 --assign 不能同时使用")
    actor = by or _default_actor()
    rt = runtime()
    now = rt.clock.now()
    with rt.session() as s:
        if assign is not None:
            row = checklist.reassign(s, (incident, item), actor, now, assign)
            _out(f"已将 {row.item_id} 改派给 {row.assignee}。")
        elif skip_reason is not None:
            row = checklist.skip(s, (incident, item), actor, now, skip_reason)
            _out(f"已跳过 {row.item_id}，理由：{row.skip_reason}")
        else:
            row = checklist.check(s, (incident, item), actor, now)
            _out(f"已完成 {row.item_id}「{row.text}」。")
        left = checklist.open_required(s, incident, row.stage)
        if left:
            _out(f"本阶段还有 {len(left)} 项必做事项未完成。")
        else:
            _out("本阶段必做事项已全部完成，可以推进到下一阶段。")


def _doctor(rt: object) -> list:
    from playbooks.drafts import load_rules
    from playbooks.loader import playbooks_dir, validate_dir
    from yuqing.errors import ConfigError
    from yuqing.hooks import CheckResult

    directory = playbooks_dir(rt.settings)  # type: ignore[attr-defined]
    report = validate_dir(directory)
    results = []
    if report.errors:
        results.append(CheckResult("应对剧本", False, "\n".join(report.errors)
                                   + "\n请修正后运行 `yuqing playbook validate`。"))
    else:
        total = sum(b.item_count() for b in report.playbooks.values())
        results.append(CheckResult("应对剧本", True, f"{len(report.playbooks)} 类 × 3 阶段，共 {total} 项（{directory}）"))
    try:
        rules = load_rules(directory)
        results.append(CheckResult("回应口径规则", True, f"{len(rules)} 条"))
    except ConfigError as exc:
        results.append(CheckResult("回应口径规则", False, str(exc)))
    return results


def _init(rt: object) -> str:
    """Start-up check: a broken playbook stops `yuqing init` with file/item/problem."""
    from playbooks.loader import load_all

    books = load_all(rt.settings)  # type: ignore[attr-defined]
    return f"应对剧本已加载：{len(books)} 类，共 {sum(b.item_count() for b in books.values())} 项清单事项"


def register(app: typer.Typer) -> None:
    from yuqing.hooks import doctor_check, on_init

    doctor_check(_doctor)
    on_init(_init)
    playbook_app.command("show", help="显示某类别（某阶段）的剧本清单")(show)
    playbook_app.command("validate", help="校验剧本文件与回应口径规则")(validate)
    playbook_app.command("check-draft", help="检查回应口径草稿；有“错误”级问题时退出码 1")(check_draft_cmd)
    playbook_app.command("template", help="按事件事实生成首次回应/情况通报/复盘报告")(template_cmd)
    playbook_app.command("checklist", help="显示事件的清单（同 yuqing incidents checklist）")(checklist_cmd)
    playbook_app.command("check", help="完成/跳过/改派清单事项（同 yuqing incidents check）")(check_cmd)
    app.add_typer(playbook_app, name="playbook")
    try:
        from alerting.cli import incidents_app
    except (ImportError, AttributeError):
        return  # the incident engine's group is not there (yet): `yuqing playbook checklist|check` work
    incidents_app.command("checklist", help="显示事件的应对清单")(checklist_cmd)
    incidents_app.command("check", help="完成/跳过（--skip 理由）/改派（--assign 某人）清单事项")(check_cmd)
