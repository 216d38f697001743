"""`yuqing token create|list|revoke` through the real CLI: printed once, stored hashed, revoked by number
or by prefix, audited; what it prints authenticates (web.api_tokens) until it is revoked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from web.api_tokens import authenticate
from web.auth import add_user
from yuqing.db.models import ApiTokenRow, AuditRow
from yuqing.runtime import Runtime


def _yuqing(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", "--config", str(config), "token", *args],
                          capture_output=True, text=True, timeout=120)


def _works(rt: Runtime, token: str) -> bool:
    with rt.session() as s:
        return authenticate(s, token, rt.clock.now()) is not None


def test_token_lifecycle(runtime: Runtime, config_file: Path) -> None:
    with runtime.session() as s:
        add_user(s, "zhao", "long-enough-1", "analyst", runtime.clock.now())
    made = _yuqing(config_file, "create", "--user", "zhao", "--label", "数据平台对接")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("yq_") and "只显示这一次" in made.stdout
    with runtime.session() as s:
        row = s.scalars(select(ApiTokenRow)).one()
        assert row.username == "zhao" and row.label == "数据平台对接" and row.token_hash != token
        assert s.scalar(select(AuditRow.actor).where(AuditRow.action == "token.create")) == "cli"
    assert _works(runtime, token)

    listing = _yuqing(config_file, "list")
    assert listing.returncode == 0 and token[:10] in listing.stdout and token not in listing.stdout
    assert "数据平台对接" in listing.stdout and "有效" in listing.stdout and "zhao" in listing.stdout

    second = _yuqing(config_file, "create", "--user", "zhao", "--label", "报表").stdout.strip().splitlines()[-1]
    assert _yuqing(config_file, "revoke", token[:10]).returncode == 0  # by prefix
    assert not _works(runtime, token) and _works(runtime, second)
    again = _yuqing(config_file, "revoke", token[:10])
    assert again.returncode == 0 and "此前已撤销" in again.stdout
    with runtime.session() as s:
        second_id = s.scalar(select(ApiTokenRow.id).where(ApiTokenRow.label == "报表"))
    assert _yuqing(config_file, "revoke", str(second_id)).returncode == 0  # by number
    assert not _works(runtime, second)
    assert "已撤销" in _yuqing(config_file, "list", "--user", "zhao").stdout
    with runtime.session() as s:
        assert len(list(s.scalars(select(AuditRow).where(AuditRow.action == "token.revoke")))) == 2


def test_token_refusals_are_chinese(runtime: Runtime, config_file: Path) -> None:
    with runtime.session() as s:
        add_user(s, "qian", "long-enough-1", "duty", runtime.clock.now())
    for args, message in ((("create", "--user", "nobody", "--label", "x"), "不存在"),
                          (("create", "--user", "qian", "--label", " "), "不能为空"),
                          (("revoke", "yq_"), "至少 10 个字符"),
                          (("revoke", "424242"), "不存在"),
                          (("revoke", "yq_nothingmatches"), "没有以")):
        result = _yuqing(config_file, *args)
        assert result.returncode == 1 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
