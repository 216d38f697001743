"""`yuqing serve`, `yuqing user add|passwd|disable|enable|list`, `yuqing token …`, `yuqing report …`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from yuqing.cli.context import console, runtime
from yuqing.errors import InputError

user_app = typer.Typer(help="账户管理（角色：duty 值班员 / responder 应对 / analyst 分析 / admin 管理员）",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve", help="启动网页（值班台、事件、检索、报告、管理）")(serve)
    app.command("report", help="生成报告：daily|weekly|monthly|incident ID|unit（各级妇联通报）")(report)
    app.add_typer(user_app, name="user")
    from web.token_cli import token_app

    app.add_typer(token_app, name="token")


def serve(host: str = typer.Option(None, help="监听地址（默认取配置 web.host）"),
          port: int = typer.Option(None, help="端口（默认取配置 web.port）")) -> None:
    import uvicorn

    from web.app import create_app

    rt = runtime()
    host = host or rt.settings.web.host
    port = port or rt.settings.web.port
    console.print(f"网页地址：http://{host}:{port}/  （Ctrl-C 停止）")
    # proxy_headers off: the app itself believes X-Forwarded-For only from web.trusted_proxies
    uvicorn.run(create_app(rt), host=host, port=port, log_level="warning", proxy_headers=False)


def report(
    kind: str = typer.Argument(..., help="daily / weekly / monthly / incident"),
    incident_id: int = typer.Argument(None, help="专报的事件编号（kind=incident 时）"),
    fmt: str = typer.Option("md", "--format", "-f", help="md / html / docx"),
    day: str = typer.Option(None, help="报告日期（默认今天，Asia/Shanghai），如 2026-03-02"),
    output: Path = typer.Option(None, "--output", "-o", help="输出文件（docx 默认写入 var/reports/）"),
    period: str = typer.Option("month", "--period", help="kind=unit：month / quarter / year（月度/季度/年度通报）"),
    unit: str = typer.Option(None, "--unit", help="kind=unit：只含该单位及其下级（默认全部）"),
) -> None:
    from reports import build

    rt = runtime()
    try:
        the_day = date.fromisoformat(day) if day else None
    except ValueError:
        raise InputError(f"--day 日期格式应为 2026-03-02，得到 {day}") from None
    if kind == "unit":
        body = _unit_report(rt, fmt, period, the_day, unit)
    else:
        body = build(kind, rt, fmt, the_day, incident_id)
    if output is None and fmt == "docx":
        output = rt.settings.data_path / "reports" / f"{kind}{'-' + str(incident_id) if incident_id else ''}.docx"
    if output is None:
        console.print(body.decode("utf-8"), markup=False, highlight=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(body)
        console.print(f"报告已写入 {output}")
    rt.close()


def _unit_report(rt: object, fmt: str, period: str, day: date | None, unit: str | None) -> bytes:
    from reports import units as unit_report
    from yuqing.timeutil import to_shanghai

    if fmt not in ("md", "html", "docx"):
        raise InputError("各级妇联通报支持 md / html / docx 格式")
    settings = rt.settings  # type: ignore[attr-defined]
    if unit and not any(u.id == unit for u in settings.units):
        raise InputError(f"单位 {unit} 不存在（可选: {'、'.join(u.id for u in settings.units) or '未配置 units'}）")
    now = rt.clock.now()  # type: ignore[attr-defined]
    with rt.session() as s:  # type: ignore[attr-defined]
        data = unit_report.collect(s, settings, period, day or to_shanghai(now).date(), now,
                                   scope=unit_report.subtree(settings, unit))
    if fmt == "docx":
        return unit_report.to_docx(data)
    text = unit_report.to_markdown(data) if fmt == "md" else unit_report.to_html(data)
    return text.encode("utf-8")


UNIT_HELP = "所属单位 id（配置 units 中的 id；不填为顶级单位，可见全部事件）"


@user_app.command("add", help="新增用户")
def user_add(username: str, role: str = typer.Option(..., "--role", help="duty / responder / analyst / admin"),
             password: str = typer.Option(..., "--password", prompt="密码", hide_input=True,
                                          confirmation_prompt=True),
             name: str = typer.Option("", "--name", help="显示名称"),
             unit: str = typer.Option(None, "--unit", help=UNIT_HELP)) -> None:
    from web.auth import add_user
    from web.scope import set_user_unit

    rt = runtime()
    with rt.session() as s:
        add_user(s, username, password, role, rt.clock.now(), display_name=name, actor="cli")
        if unit:
            set_user_unit(s, rt.settings, username, unit, rt.clock.now(), actor="cli")
    console.print(f"已创建用户 {username}（{role}{'，' + unit if unit else ''}）")


@user_app.command("modify", help="修改用户所属单位（--unit \"\" 为顶级单位）")
def user_modify(username: str, unit: str = typer.Option(..., "--unit", help=UNIT_HELP)) -> None:
    from web.scope import set_user_unit

    rt = runtime()
    with rt.session() as s:
        set_user_unit(s, rt.settings, username, unit, rt.clock.now(), actor="cli")
    console.print(f"已将用户 {username} 的所属单位改为 {unit or '顶级单位'}")


@user_app.command("passwd", help="修改密码（该用户已登录的会话全部失效）")
def user_passwd(username: str, password: str = typer.Option(..., "--password", prompt="新密码", hide_input=True,
                                                             confirmation_prompt=True)) -> None:
    from web.auth import set_password

    rt = runtime()
    with rt.session() as s:
        set_password(s, username, password, rt.clock.now(), actor="cli")
    console.print(f"已修改用户 {username} 的密码")


def _set_active(username: str, active: bool) -> None:
    from web.auth import set_active

    rt = runtime()
    with rt.session() as s:
        set_active(s, username, active, rt.clock.now(), actor="cli")
    console.print(f"已{'启用' if active else '停用'}用户 {username}")


@user_app.command("disable", help="停用用户")
def user_disable(username: str) -> None:
    _set_active(username, False)


@user_app.command("enable", help="启用用户")
def user_enable(username: str) -> None:
    _set_active(username, True)


@user_app.command("list", help="列出用户")
def user_list() -> None:
    from sqlalchemy import select

    from web.auth import ROLE_ZH, Role
    from yuqing.db.models import UserRow

    rt = runtime()
    with rt.session() as s:
        for u in s.scalars(select(UserRow).order_by(UserRow.username)):
            console.print(f"{u.username}\t{ROLE_ZH[Role(u.role)]}\t{'启用' if u.active else '停用'}"
                          f"\t{u.unit_id or '顶级单位'}")
