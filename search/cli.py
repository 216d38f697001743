"""`yuqing search` and `yuqing reindex`, plus the init hook and doctor check of the index."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from yuqing import hooks
from yuqing.errors import InputError

if TYPE_CHECKING:
    from yuqing.hooks import CheckResult
    from yuqing.runtime import Runtime


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _time(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    from yuqing.timeutil import parse_datetime

    try:
        return parse_datetime(value)
    except (ValueError, TypeError):
        raise InputError(f"{option} 的时间格式无法识别：{value!r}（示例：2024-03-01 或 2024-03-01T08:00:00+08:00）") from None


def search(
    query: str = typer.Argument("", help="检索式：词语、\"短语\"、AND/OR/NOT（或 & | -）、括号；空格表示“且”"),
    category: list[str] = typer.Option(None, "--category", help="分类（policy/rights/image/work/emergency/none），可多次或逗号分隔"),
    severity_min: int = typer.Option(None, "--severity-min", min=0, max=4, help="最低等级 0-4"),
    platform: list[str] = typer.Option(None, "--platform", help="平台，可多次或逗号分隔"),
    since: str = typer.Option(None, "--since", help="起始时间（含），ISO 8601；无时区按北京时间"),
    until: str = typer.Option(None, "--until", help="结束时间（不含）"),
    limit: int = typer.Option(20, "--limit", min=0, max=10000, help="返回条数"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON：{total, hits, aggregations}"),
    sort: str = typer.Option("time", "--sort", help="排序：time（最新）/ relevance（相关度）/ engagement（互动量）"),
    author: str = typer.Option(None, "--author", help="作者（精确）"),
    scheme: str = typer.Option(None, "--scheme", help="关键词方案名称"),
    incident: int = typer.Option(None, "--incident", help="事件编号"),
    interval: str = typer.Option("day", "--interval", help="时间分布间隔：hour / day / week"),
) -> None:
    from search import SearchRequest, get_index
    from yuqing.cli.context import console, runtime
    from yuqing.domain import Category

    categories = _split(category)
    for c in categories:
        if c not in {x.value for x in Category}:
            raise InputError(f"--category 不认识 {c!r}（可选：{', '.join(x.value for x in Category)}）")
    rt = runtime()
    req = SearchRequest(query=query, categories=categories, severity_min=severity_min, platforms=_split(platform),
                        author=author, scheme=scheme, incident_id=incident, since=_time(since, "--since"),
                        until=_time(until, "--until"), sort=sort, size=limit,  # type: ignore[arg-type]
                        histogram=interval, terms=["platform", "category", "author"],  # type: ignore[arg-type]
                        severity_counts=True)
    req.ast()  # a syntax error is reported before touching the index
    with get_index(rt.settings) as index:
        result = index.search(req)
    rt.close()
    if as_json:
        out = result.to_json()
        out.pop("search_after", None)
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    from search.render import render_table

    render_table(console, query, result)


def reindex(
    fresh: bool = typer.Option(False, "--fresh", help="放弃上次未完成的重建，从头开始"),
    batch_size: int = typer.Option(1000, "--batch-size", min=1, max=20000, help="每批写入条数"),
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from search import get_index
    from search.indexing import reindex as run_reindex
    from yuqing.cli.context import console, runtime

    rt = runtime()
    with get_index(rt.settings, writer=True) as index, Progress(
        TextColumn("重建检索索引"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
    ) as bar:
        task = bar.add_task("reindex", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        total, resumed = run_reindex(rt, index, fresh=fresh, batch_size=batch_size, progress=progress)
    rt.close()
    console.print(("已从上次中断处继续，" if resumed else "") + f"检索索引重建完成：共 {total} 条帖子。")


def _init_index(rt: Runtime) -> str:
    from search import get_index

    with get_index(rt.settings) as index:
        return index.create()


def _doctor(rt: Runtime) -> list[CheckResult]:
    from sqlalchemy import func, select
    from sqlalchemy.exc import SQLAlchemyError

    from search import get_index
    from search.types import IndexError_
    from yuqing.db.models import PostRow
    from yuqing.hooks import CheckResult

    name = f"检索索引（{rt.settings.index.backend}）"
    try:
        with get_index(rt.settings) as index:
            if not index.exists():
                return [CheckResult(name, False, "索引不存在：请运行 `yuqing init`，再运行 `yuqing reindex`。")]
            docs = index.count()
    except IndexError_ as exc:
        return [CheckResult(name, False, str(exc))]
    try:
        with rt.session() as s:
            posts = int(s.scalar(select(func.count()).select_from(PostRow)) or 0)
            pending = int(s.scalar(select(func.count()).select_from(PostRow)
                                   .where(PostRow.indexed_at.is_(None))) or 0)
    except SQLAlchemyError:
        return [CheckResult(name, True, f"{docs} 条文档（数据库不可用，未比对）", warning=True)]
    if pending:
        return [CheckResult(name, True, f"{docs} 条文档；{pending} 条帖子尚未写入索引"
                            "（流水线会处理，或运行 `yuqing reindex`）", warning=True)]
    return [CheckResult(name, True, f"{docs} 条文档，数据库 {posts} 条帖子")]


def register(app: typer.Typer) -> None:
    app.command("search", help="在检索索引中查找帖子（关键词检索式 + 过滤条件）")(search)
    app.command("reindex", help="从数据库重建检索索引（可中断续跑，可重复执行）")(reindex)
    hooks.on_init(_init_index)
    hooks.doctor_check(_doctor)
