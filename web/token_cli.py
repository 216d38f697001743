"""`yuqing token create|list|revoke`: personal API tokens from the command line (web.api_tokens).

The token text is printed once, by ``create``, and never again; lists show only its prefix.
"""

from __future__ import annotations

import typer

from yuqing.cli.context import console, runtime
from yuqing.timeutil import fmt_local

token_app = typer.Typer(help="个人 API 令牌（Authorization: Bearer …，带其用户的角色）", no_args_is_help=True)


@token_app.command("create", help="为用户创建令牌（令牌只显示这一次，库中只存其哈希）")
def token_create(user: str = typer.Option(..., "--user", help="用户名"),
                 label: str = typer.Option(..., "--label", help="用途，例如：数据平台对接")) -> None:
    from web.api_tokens import create_token

    rt = runtime()
    with rt.session() as s:
        new = create_token(s, user, label, rt.clock.now(), actor="cli")
    console.print(f"已为用户 {new.username} 创建令牌 {new.id}（{new.label}）。令牌只显示这一次，请妥善保存：",
                  markup=False)
    typer.echo(new.token)
    rt.close()


@token_app.command("list", help="列出令牌（只显示前缀）")
def token_list(user: str = typer.Option(None, "--user", help="只列此用户的令牌")) -> None:
    from web.api_tokens import list_tokens

    rt = runtime()
    with rt.session() as s:
        rows = list_tokens(s, user)
        if not rows:
            console.print("没有令牌")
        for r in rows:
            state = f"已撤销 {fmt_local(r.revoked_at)}" if r.revoked_at else "有效"
            used = fmt_local(r.last_used_at) if r.last_used_at else "未使用"
            console.print(f"{r.id}\t{r.prefix}…\t{r.username}\t{r.label}\t创建 {fmt_local(r.created_at)}\t"
                          f"最近使用 {used}\t{state}", markup=False)
    rt.close()


@token_app.command("revoke", help="撤销令牌：令牌编号，或令牌开头（至少 10 个字符，如 yq_AbCdEfG）")
def token_revoke(ref: str = typer.Argument(..., help="令牌编号或令牌开头")) -> None:
    from web.api_tokens import find_token, revoke_token

    rt = runtime()
    with rt.session() as s:
        row = find_token(s, ref)
        changed = revoke_token(s, row, rt.clock.now(), actor="cli")
        message = (f"已撤销令牌 {row.id}（{row.prefix}…，用户 {row.username}，{row.label}）" if changed
                   else f"令牌 {row.id} 此前已撤销")
    console.print(message, markup=False)
    rt.close()
