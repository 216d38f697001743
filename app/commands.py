"""The commands that work on the whole installation or run the whole chain: `init`, `ingest`,
`doctor`, `process` (the worker once), `replay` (the chain on a simulated clock) and `run` (the
scheduler service). Each area registers its own commands in its own `cli.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from yuqing import hooks
from yuqing.cli.context import console, console_err, runtime
from yuqing.errors import InputError
from yuqing.runtime import Runtime


def register(app: typer.Typer) -> None:
    app.command("init", help="创建或升级数据库并初始化检索索引（可重复执行）")(init)
    app.command("ingest", help="导入 JSON Lines 帖子文件；重复 id 只更新互动数")(ingest)
    app.command("doctor", help="检查配置、数据库、索引、模型与告警渠道，并说明如何修复")(doctor)
    app.command("process", help="处理所有待处理帖子一次（分类、索引、事件研判、通知），然后退出")(process_cmd)
    app.command("replay", help="在模拟时钟上回放场景文件（帖子与动作），输出通知与事件（不触及正式数据库）")(replay_cmd)
    app.command("run", help="运行常驻服务：定时采集、处理流水线、时钟检查、发送通知、每日简报与网页")(run_cmd)


def init() -> None:
    from yuqing.db.migrate import current_revision, upgrade

    rt = runtime()
    before = current_revision(rt.engine)
    upgrade(rt.engine)
    after = current_revision(rt.engine)
    db = rt.engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"数据库已是最新版本（{after}）：{db}")
    else:
        console.print(f"数据库已升级：{before or '空库'} → {after}：{db}")
    for hook in hooks.INIT_HOOKS:
        console.print(hook(rt))
    rt.close()


def ingest(
    file: Path = typer.Argument(..., help="JSON Lines 文件（每行一条帖子）；- 表示标准输入"),
    source: str = typer.Option("ingest", help="记录来源名称"),
) -> None:
    from yuqing.ingest import ingest_stream

    rt = runtime()
    if str(file) != "-" and not file.exists():
        raise InputError(f"文件不存在: {file}")
    try:
        stream = sys.stdin if str(file) == "-" else file.open(encoding="utf-8", errors="strict")
        report = ingest_stream(rt, stream, source=source, name=str(file))
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: 不是 UTF-8 编码（位置 {exc.start}）") from None
    for err in report.errors:
        console_err.print(str(err), markup=False)
    console.print(
        f"导入完成：新增 {report.result.new} 条，更新互动数 {report.result.updated} 条，"
        f"无变化 {report.result.unchanged} 条，跳过空行 {report.blank} 行，拒绝 {len(report.errors)} 行。"
    )
    rt.close()
    if report.errors:
        raise typer.Exit(2)


def doctor() -> None:
    from app.doctor import run_checks

    results = run_checks()
    failed = 0
    for r in results:
        mark = "[green]✔[/green]" if r.ok and not r.warning else ("[yellow]![/yellow]" if r.ok else "[red]✘[/red]")
        console.print(f"{mark} {r.name}" + (f"：{r.detail}" if r.detail else ""))
        failed += 0 if r.ok else 1
    if failed:
        console.print(f"[red]发现 {failed} 个问题，请按提示修复后重试。[/red]")
        raise typer.Exit(1)
    console.print("[green]一切正常。[/green]")


def process_cmd(limit: int = typer.Option(None, "--limit", help="最多处理多少条（默认全部）")) -> None:
    from alerting.engine.core import tick
    from app.worker import process

    rt = runtime()
    report = process(rt, limit=limit)
    with rt.session() as s:
        tick(s, rt.clock.now(), rt.settings)
    console.print(report.summary() + "；" + send_if_leader(rt), markup=False)
    for err in report.errors:
        console_err.print(err, markup=False)
    rt.close()
    if report.failed or report.released:
        raise typer.Exit(1)


def send_if_leader(rt: Runtime) -> str:
    """Send the due notifications only while holding the ``scheduler`` lease (only its holder
    sends, README); when a running `yuqing run` holds it, the outbox is left to that service.
    Returns the summary line (Chinese)."""
    from alerting.sender import send_due
    from app.service import acquire_lease, release_lease
    from yuqing.runtime import worker_id

    holder = worker_id()
    if not acquire_lease(rt, holder, rt.clock.now()):
        return "通知：调度服务正在运行（持有调度租约），待发通知留给它发送"
    try:
        return f"通知：{send_due(rt, worker_id=holder).summary()}"
    finally:
        release_lease(rt, holder)


def replay_cmd(
    scenario: Path = typer.Argument(..., help="场景文件（JSON Lines：帖子或动作）"),
    notify_file: Path = typer.Option(..., "--notify-file", help="通知输出文件（每行一条 JSON）"),
    incidents_file: Path = typer.Option(..., "--incidents-file", help="事件输出文件（每行一条 JSON）"),
    tail: str = typer.Option("24h", "--tail", help="最后一条之后继续模拟的时长，例如 24h、90m、3d"),
) -> None:
    from app.replay import parse_duration, replay

    report = replay(scenario, notify_file, incidents_file, tail=parse_duration(tail))
    for err in report.errors:
        console_err.print(err, markup=False)
    console.print(f"回放完成：帖子 {report.posts} 条，动作 {report.actions} 个，通知 {report.notifications} 条，"
                  f"事件 {report.incidents} 个。", markup=False)
    if any(e.startswith("line ") for e in report.errors):
        raise typer.Exit(2)


def run_cmd(no_web: bool = typer.Option(False, "--no-web", help="不启动网页"),
            once: bool = typer.Option(False, "--once", help="每个任务各运行一次后退出（检查配置用）")) -> None:
    from app.service import serve

    serve(runtime(), web=not no_web, once=once)
