"""`yuqing demo`: the whole monitoring loop offline, against a local replay site (see yuqing/demo/)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from yuqing.cli.context import console


def register(app: typer.Typer) -> None:
    app.command("demo", help="离线演示：本地回放站点 + 加速时钟，跑通采集→分类→索引→事件→告警→报告，并启动值班台")(demo)


def demo(
    fast: bool = typer.Option(False, "--fast", help="精简演示：核心帖子、较少采集轮次（测试用）"),
    no_serve: bool = typer.Option(False, "--no-serve", help="结束后不启动值班台网页"),
    labels: str = typer.Option("auto", "--labels",
                               help="分类方式：auto（有微调模型用模型，否则用演示数据自带标注）/ model / given"),
    demo_dir: Path = typer.Option(None, "--dir", help="演示数据目录（默认 var/demo，每次运行清空重建）"),
    day: str = typer.Option(None, "--day", help="演示日日期 YYYY-MM-DD（默认昨天）"),
    port: int = typer.Option(None, "--port", help="值班台端口（默认取配置 web.port，被占用时自动换一个）"),
) -> None:
    from app.demo.run import DemoOptions, DemoRunner
    from app.demo.summary import summary_lines
    from yuqing.errors import InputError
    from yuqing.settings import ROOT

    if labels not in ("auto", "model", "given"):
        raise InputError("--labels 必须是 auto、model 或 given")
    try:
        day_date = date.fromisoformat(day) if day else None
    except ValueError:
        raise InputError(f"--day 不是有效日期: {day!r}（例如 2025-06-14）") from None
    options = DemoOptions(demo_dir=demo_dir or ROOT / "var" / "demo", fast=fast, labels=labels, day=day_date,
                          echo=lambda line: console.print(line, markup=False, highlight=False))
    console.print("yuqing 演示：启动本地回放站点，在加速的模拟时钟上运行真实的采集、分类、事件研判与告警……",
                  markup=False)
    result = DemoRunner(options).run()
    dashboard = None
    host = result.settings.web.host
    chosen = None
    if not no_serve:
        from app.demo.serve import free_port

        chosen = free_port(host, port or result.settings.web.port)
        dashboard = f"http://{host}:{chosen}/"
    for line in summary_lines(result, dashboard):
        console.print(line, markup=False, highlight=False)
    if no_serve or chosen is None:
        return
    from app.demo.serve import serve_dashboard

    console.print("值班台运行中，按 Ctrl-C 结束。", markup=False)
    try:
        serve_dashboard(result.settings, result.ended, host, chosen)
    except KeyboardInterrupt:
        pass
    console.print("演示结束。", markup=False)
