"""Foundation commands: init, ingest, doctor."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from yuqing import hooks
from yuqing.cli.context import console, console_err, runtime
from yuqing.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("init", help="创建或升级数据库并初始化检索索引（可重复执行）")(init)
    app.command("ingest", help="导入 JSON Lines 帖子文件；重复 id 只更新互动数")(ingest)
    app.command("doctor", help="检查配置、数据库、索引、模型与告警渠道，并说明如何修复")(doctor)


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
    from yuqing.doctor import run_checks

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
