"""The `yuqing` command: the root Typer app. The composition's own commands (app/commands.py)
and every area's `register(app)` are added here, in a fixed order; the areas keep heavy imports
(torch, scrapy, tantivy) inside their command bodies, so `yuqing --help` stays fast."""

from __future__ import annotations

import re
import sys

import typer

from alerting import cli as alerting_cli
from app import (
    commands,
    config_cli,
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

PLUGINS = [crawlers_cli, classifier_cli, search_cli, alerting_cli, playbooks_cli, web_cli, demo_cli, config_cli]


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


_USAGE_ZH = (
    (re.compile(r"^No such command '(.+)'\.?$"), "没有命令 {0}（yuqing --help 列出全部命令）"),
    (re.compile(r"^No such option: (\S+)(?: Did you mean (\S+)\?)?$"), "没有选项 {0}"),
    (re.compile(r"^Missing parameter: (.+)$"), "缺少参数 {0}"),
    (re.compile(r"^Missing argument '(.+)'\.?$"), "缺少参数 {0}"),
    (re.compile(r"^Missing option '(.+)'\.?$"), "缺少选项 {0}"),
    (re.compile(r"^Option '(.+)' requires an argument\.?$"), "选项 {0} 需要一个值"),
    (re.compile(r"^Got unexpected extra arguments? \((.+)\)$"), "多余的参数：{0}"),
    (re.compile(r"^Invalid value for '?(.+?)'?: (.+)$"), "{0} 的值无效：{1}"),
    (re.compile(r"^(.+)$"), "{0}"),
)


def usage_zh(exc: Exception) -> str:
    """One Chinese line for a command-line usage error (Typer's or Click's own exception)."""
    message = " ".join(str(getattr(exc, "message", None) or exc).split())
    param = getattr(exc, "param", None)
    if type(exc).__name__ == "BadParameter" and param is not None:
        name = "/".join(getattr(param, "opts", None) or []) or getattr(param, "name", "") or "参数"
        message = f"Invalid value for {name}: {message}"
    for pattern, text in _USAGE_ZH:
        found = pattern.match(message)
        if found:
            return text.format(*found.groups())
    return message


def _usage_error(exc: Exception) -> None:
    hint = "（加 --help 查看用法）"
    if type(exc).__name__ == "NoSuchOption":  # a query such as -宣传周 read as an option
        hint = "（加 --help 查看用法；以 - 开头的检索式请写在 -- 之后，例如 yuqing search -- -宣传周）"
    print(f"用法错误：{usage_zh(exc)}{hint}", file=sys.stderr)
    sys.exit(int(getattr(exc, "exit_code", 2) or 2))


def run() -> None:
    """Console entry: user errors become one Chinese line (exit 1, usage errors exit 2), never a
    traceback."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except YuqingError as exc:  # plain text: a query's "[/x]" is not markup, a long reason stays one line
        print(f"错误：{' '.join(str(exc).split())}", file=sys.stderr)
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
    except typer.TyperException as exc:  # Typer's own click: usage errors, bad parameters
        _usage_error(exc)
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            _usage_error(exc)
        raise


if __name__ == "__main__":
    run()
