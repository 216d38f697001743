"""The root command: every usage error is one Chinese line and exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import usage_zh

CASES = [
    (["nosuch"], "没有命令 nosuch"),
    (["ingest"], "缺少参数"),
    (["incidents", "show", "abc"], "的值无效"),
    (["incidents", "show"], "缺少参数"),
    (["replay", "x.jsonl", "--bogus"], "没有选项 --bogus"),
    (["search", "--limit"], "选项 --limit 需要一个值"),
]


@pytest.mark.parametrize(("args", "expected"), CASES)
def test_usage_errors_are_one_chinese_line(args: list[str], expected: str, config_file: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "app.cli", "--config", str(config_file), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("用法错误："), done.stderr
    assert expected in lines[0]


def test_usage_translation_keeps_unknown_messages() -> None:
    class Odd(Exception):
        message = "something   new\nfrom typer"

    assert usage_zh(Odd()) == "something new from typer"
