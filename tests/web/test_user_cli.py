"""`yuqing user add|disable|enable|passwd|list` through the real CLI, and its effect on login."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from web.auth import GENERIC_FAILURE, authenticate, session_generation
from yuqing.runtime import Runtime


def _yuqing(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120)


def _login(config: Path, password: str) -> str:
    rt = Runtime.load(str(config))
    with rt.session() as s:
        user, reason = authenticate(s, "zhang", password, rt.clock.now(), 5, 15)
    rt.close()
    return "ok" if user else reason


def test_user_lifecycle(runtime: Runtime, config_file: Path) -> None:
    assert _yuqing(config_file, "user", "add", "zhang", "--role", "duty", "--password", "first-pass-1").returncode == 0
    dup = _yuqing(config_file, "user", "add", "zhang", "--role", "duty", "--password", "first-pass-1")
    assert dup.returncode == 1 and "已存在" in dup.stderr and "Traceback" not in dup.stderr
    bad = _yuqing(config_file, "user", "add", "li", "--role", "boss", "--password", "first-pass-1")
    assert bad.returncode == 1 and "角色必须是" in bad.stderr
    short = _yuqing(config_file, "user", "add", "li", "--role", "duty", "--password", "short")
    assert short.returncode == 1 and "密码至少" in short.stderr
    assert _login(config_file, "first-pass-1") == "ok"
    assert _yuqing(config_file, "user", "disable", "zhang").returncode == 0
    assert _login(config_file, "first-pass-1") == GENERIC_FAILURE  # the same as a wrong password
    assert _login(config_file, "wrong-pass-0") == GENERIC_FAILURE
    assert _yuqing(config_file, "user", "enable", "zhang").returncode == 0
    with runtime.session() as s:
        before = session_generation(s, "zhang")
    assert _yuqing(config_file, "user", "passwd", "zhang", "--password", "second-pass-2").returncode == 0
    with runtime.session() as s:
        assert session_generation(s, "zhang") == before + 1  # every session issued before has ended
    assert _login(config_file, "second-pass-2") == "ok"
    listing = _yuqing(config_file, "user", "list")
    assert "zhang" in listing.stdout and "值班员" in listing.stdout and "启用" in listing.stdout
