"""The `yuqing` command: the root Typer app. The composition's own commands (app/commands.py)
and every area's `register(app)` are added here, in a fixed order; the areas keep heavy imports
(torch, scrapy, tantivy) inside their command bodies, so `yuqing --help` stays fast."""

from __future__ import annotations

import sys

import typer

from alerting import cli as alerting_cli
from app import (
    commands,
    wiring,  # noqa: F401  (the areas' hooks: playbooks on stage changes and ticks)
)
from app.demo import cli as demo_cli
from classifier import cli as classifier_cli
from crawlers import cli as crawlers_cli
from playbooks import cli as playbooks_cli
from search import cli as search_cli
from web import cli as web_cli
from yuqing import __version__
from yuqing.cli.context import console_err
from yuqing.errors import YuqingError

app = typer.Typer(
    name="yuqing",
    help="妇联舆情监测与预警服务",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

PLUGINS = [crawlers_cli, classifier_cli, search_cli, alerting_cli, playbooks_cli, web_cli, demo_cli]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"yuqing {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    config: str = typer.Option(None, "--config", "-c", help="配置文件（默认 config/yuqing.yaml 或 $YUQING_CONFIG）"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="显示版本号"),
) -> None:
    """妇联舆情监测与预警服务（采集 · 分类 · 事件研判 · 12小时响应 · 告警 · 检索 · 报告）。"""
    if config:
        import os

        os.environ["YUQING_CONFIG"] = config


commands.register(app)
for _plugin in PLUGINS:
    _plugin.register(app)


def run() -> None:
    """Console entry: user errors become a Chinese message and exit 1, never a traceback."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except YuqingError as exc:
        console_err.print(f"[red]错误：[/red]{exc}", highlight=False, markup=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        console_err.print("已中止。")
        sys.exit(1)
    except KeyboardInterrupt:
        console_err.print("已中断。")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    run()
