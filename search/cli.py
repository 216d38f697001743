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


class UsageError(InputError):
    """A malformed option or query of `yuqing search`: one Chinese line, exit 2."""

    exit_code = 2


YEAR_MIN, YEAR_MAX = 1900, 2199
LIMIT_MAX = 10_000
INCIDENT_MAX = 2**63 - 1
SORTS = ("time", "relevance", "engagement")
INTERVALS = ("hour", "day", "week")


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _time(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    from yuqing.timeutil import parse_datetime, to_utc

    hint = "（示例：2024-03-01 或 2024-03-01T08:00:00+08:00）"
    try:
        parsed = parse_datetime(value)
    except (ValueError, TypeError, OverflowError):
        raise UsageError(f"{option} 的时间格式无法识别：{value!r}{hint}") from None
    try:
        to_utc(parsed)
    except (OverflowError, ValueError):
        parsed = None
    if parsed is None or not YEAR_MIN <= parsed.year <= YEAR_MAX:
        raise UsageError(f"{option} 的时间超出范围：{value!r}（年份应在 {YEAR_MIN}–{YEAR_MAX} 之间）")
    return parsed


def _int(value: str | None, option: str, low: int, high: int) -> int | None:
    """An integer option read by us (not click), so every bad value gets a Chinese message."""
    if value is None or value.strip() == "":
        return None
    text = value.strip().lstrip("#")
    if len(text) > 20 or not (text.isascii() and text.lstrip("-").isdigit()):
        raise UsageError(f"{option} 应为整数：{value[:40]!r}")
    number = int(text)
    if not low <= number <= high:
        raise UsageError(f"{option} 应在 {low} 到 {high} 之间，得到 {text}")
    return number


def _choice(value: str, option: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise UsageError(f"{option} 只能是 {' / '.join(choices)}，得到 {value[:40]!r}")
    return value


def search(
    words: list[str] = typer.Argument(None, metavar="QUERY", show_default=False,
                                      help="检索式：词语、\"短语\"、AND/OR/NOT（或 & | -）、括号；空格表示“且”；"
                                           "可分成多个参数书写，以 - 开头的词（-宣传周）也可直接写"),
    category: list[str] = typer.Option(None, "--category", help="分类（policy/rights/image/work/emergency/none），可多次或逗号分隔"),
    severity_min: str = typer.Option(None, "--severity-min", help="最低等级 0-4"),
    platform: list[str] = typer.Option(None, "--platform", help="平台，可多次或逗号分隔"),
    since: str = typer.Option(None, "--since", help="起始时间（含），ISO 8601；无时区按北京时间"),
    until: str = typer.Option(None, "--until", help="结束时间（不含）"),
    limit: str = typer.Option("20", "--limit", help=f"返回条数（0-{LIMIT_MAX}）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON：{total, hits, aggregations}"),
    sort: str = typer.Option("time", "--sort", help="排序：time（最新）/ relevance（相关度）/ engagement（互动量）"),
    author: str = typer.Option(None, "--author", help="作者（精确）"),
    scheme: str = typer.Option(None, "--scheme", help="关键词方案名称"),
    incident: str = typer.Option(None, "--incident", help="事件编号"),
    interval: str = typer.Option("day", "--interval", help="时间分布间隔：hour / day / week"),
) -> None:
    """Every malformed query or option is one Chinese line on stderr and exit 2 (UsageError)."""
    from yuqing.domain import Category

    query = " ".join(words or [])
    categories = _split(category)
    for c in categories:
        if c not in {x.value for x in Category}:
            raise UsageError(f"--category 不认识 {c[:40]!r}（可选：{', '.join(x.value for x in Category)}）")
    size = _int(limit, "--limit", 0, LIMIT_MAX)
    sev = _int(severity_min, "--severity-min", 0, 4)
    incident_id = _int(incident, "--incident", 1, INCIDENT_MAX)
    start, end = _time(since, "--since"), _time(until, "--until")
    if start and end and start >= end:
        raise UsageError("--since 必须早于 --until")
    _choice(sort, "--sort", SORTS)
    _choice(interval, "--interval", INTERVALS)
    for option, text in (("--author", author), ("--scheme", scheme), *(("--platform", p) for p in _split(platform))):
        if text is not None and (len(text) > 255 or "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text)):
            raise UsageError(f"{option} 无效：过长或含有无效字符")
    _search(query, categories, sev, _split(platform), start, end, 20 if size is None else size, as_json, sort,
            author, scheme, incident_id, interval)


def _search(query: str, categories: list[str], severity_min: int | None, platforms: list[str],
            since: datetime | None, until: datetime | None, limit: int, as_json: bool, sort: str,
            author: str | None, scheme: str | None, incident: int | None, interval: str) -> None:
    from search import SearchRequest, get_index
    from yuqing.cli.context import console, runtime

    req = SearchRequest(query=query, categories=categories, severity_min=severity_min, platforms=platforms,
                        author=author, scheme=scheme, incident_id=incident, since=since,
                        until=until, sort=sort, size=limit,  # type: ignore[arg-type]
                        histogram=interval, terms=["platform", "category", "author"],  # type: ignore[arg-type]
                        severity_counts=True)
    req.ast()  # a syntax error is reported before touching the index (QuerySyntaxError: exit 2)
    if scheme is not None:
        rt = runtime()
        try:
            rt.settings.scheme(scheme)
        except KeyError:
            rt.close()
            raise UsageError(f"--scheme 不认识 {scheme[:40]!r}（可选：{'、'.join(s.name for s in rt.settings.keyword_schemes)}）") from None
    else:
        rt = runtime()
    with get_index(rt.settings) as index:
        result = index.search(req)
    rt.close()
    if as_json:
        from search.render import masked_json

        out = masked_json(result.to_json())
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
    # ignore_unknown_options: a query that starts with "-" (-宣传周, documented syntax) is the QUERY
    # argument, not an unknown option; the options above are still parsed as options.
    app.command("search", help="在检索索引中查找帖子（关键词检索式 + 过滤条件）",
                context_settings={"ignore_unknown_options": True})(search)
    app.command("reindex", help="从数据库重建检索索引（可中断续跑，可重复执行）")(reindex)
    hooks.on_init(_init_index)
    hooks.doctor_check(_doctor)
