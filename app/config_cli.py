"""`yuqing config export FILE | import FILE | history | rollback ID`: the configuration edited in the
web, as a git-friendly YAML file.

``export`` writes the effective settings (the file with the database's latest version over it);
``import`` validates a whole file by the same schema, then records its editable sections as one new
version (all or nothing); the other sections stay in config/yuqing.yaml.
"""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import inspect

from yuqing import config_store
from yuqing.cli.context import console
from yuqing.errors import ConfigError, InputError
from yuqing.runtime import Runtime
from yuqing.settings import load_settings
from yuqing.timeutil import fmt_local

config_app = typer.Typer(help="网页中编辑的配置：导出、导入、版本历史、回滚", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


def _seed_runtime() -> Runtime:
    """The file's settings alone: import and rollback work even when a stored version is broken."""
    seed = load_settings()
    rt = Runtime(seed, seed=seed)
    if not inspect(rt.engine).has_table("config_versions"):
        raise ConfigError("数据库尚未初始化或版本过旧：请先运行 yuqing init")
    return rt


@config_app.command("export", help="把当前有效配置（配置文件 + 数据库中的修改）导出为 YAML 文件")
def export(file: Path = typer.Argument(..., help="输出文件，- 为标准输出")) -> None:
    rt = Runtime.load()
    text = config_store.export_yaml(rt.settings)
    if str(file) == "-":
        typer.echo(text, nl=False)
        return
    file.write_text(text, encoding="utf-8")
    version = f"版本 {rt.config_version}" if rt.config_version else "仅配置文件"
    console.print(f"已导出有效配置（{version}）到 {file}")


@config_app.command("import", help="导入 YAML 文件：校验通过后记录为一个新版本（全部或全不）")
def import_(file: Path = typer.Argument(..., help="YAML 配置文件（与 config/yuqing.yaml 同一格式）"),
            user: str = typer.Option("cli", "--user", help="记录为修改人"),
            comment: str = typer.Option("", "--comment", "-m", help="修改说明")) -> None:
    if not file.exists():
        raise InputError(f"文件不存在: {file}")
    imported = load_settings(file)  # the same schema and messages as the file itself
    rt = _seed_runtime()
    changes = {name: config_store.section_data(imported, name) for name in config_store.EDITABLE_SECTIONS}
    try:
        with rt.session() as s:
            version = config_store.save(s, rt.seed, changes, user, rt.clock.now(),
                                        comment=comment or f"从 {file.name} 导入", replace=True)
    except config_store.ConfigInvalid as exc:
        raise InputError(f"{file}: {exc}") from None
    others = [name for name in type(imported).model_fields
              if name not in config_store.EDITABLE_SECTIONS and name not in ("source_path", "database_url", "data_dir")
              and config_store.section_data(imported, name) != config_store.section_data(rt.seed, name)]
    if version is None:
        console.print("配置未变化，未记录新版本。")
    else:
        names = "、".join(config_store.SECTION_ZH.get(c, c) for c in version.changed) or "无"
        console.print(f"已导入为配置版本 {version.id}（修改：{names}），运行中的服务一分钟内生效。")
    if others:
        console.print(f"注意：{'、'.join(others)} 不在数据库中保存，仍以配置文件 {rt.seed.source_path} 为准。")


@config_app.command("history", help="配置版本历史（北京时间）")
def history(limit: int = typer.Option(20, help="显示条数")) -> None:
    rt = _seed_runtime()
    with rt.session() as s:
        versions = config_store.history(s, limit)
    if not versions:
        console.print("尚无配置版本：当前配置全部来自配置文件。")
    for v in versions:
        names = "、".join(config_store.SECTION_ZH.get(c, c) for c in v.changed) or "无变化"
        console.print(f"版本 {v.id}  {fmt_local(v.created_at)}  {v.username}  {names}  {v.comment}")


@config_app.command("rollback", help="回滚到某个版本（记录为新版本）")
def rollback(version_id: int = typer.Argument(..., help="版本编号"),
             user: str = typer.Option("cli", "--user", help="记录为修改人")) -> None:
    rt = _seed_runtime()
    with rt.session() as s:
        version = config_store.rollback(s, rt.seed, version_id, user, rt.clock.now())
    if version is None:
        console.print("当前配置已与该版本相同，未记录新版本。")
    else:
        console.print(f"已回滚到版本 {version_id}（新版本 {version.id}）。")
