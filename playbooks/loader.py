"""Load and validate the playbook YAML files; every problem names the file, the item and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from playbooks.schema import PLAYBOOK_STAGES, Playbook
from yuqing.domain import CRISIS_CATEGORIES, STAGE_ZH, Stage
from yuqing.errors import ConfigError
from yuqing.settings import Settings

_FIELD_ZH = {"id": "id", "text": "内容 text", "role": "负责角色 role", "due": "时限 due", "from": "时限起点 from",
             "hours": "小时数 hours", "required": "是否必做 required", "guidance": "指引 guidance",
             "items": "事项列表 items", "goal": "目标 goal", "category": "类别 category", "name": "名称 name",
             "stages": "阶段 stages", "privacy": "隐私 privacy", "seed": "依据 seed", "version": "版本 version",
             "principles": "原则 principles"}


@dataclass
class LoadReport:
    playbooks: dict[str, Playbook] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def playbooks_dir(settings: Settings | None) -> Path:
    if settings is None:
        return Path(__file__).resolve().parent
    return settings.resolve(settings.playbooks_dir)


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "未知字段（请检查拼写或删除）"
    if kind == "missing":
        return "缺少必填字段"
    if kind == "literal_error":
        return f"取值无效：{error.get('input')!r}（{error.get('msg', '')}）"
    msg = str(error.get("msg", ""))
    return msg.removeprefix("Value error, ")


def _describe(file: Path, raw: Any, loc: tuple[Any, ...], message: str) -> str:
    """'rights.yaml：应对阶段 第 2 项（id=contact_victim）字段 负责角色 role：未知角色…'."""
    where: list[str] = []
    node: Any = raw
    rest = list(loc)
    if rest[:1] == ["stages"] and len(rest) >= 2:
        stage = str(rest[1])
        zh = STAGE_ZH.get(Stage(stage), stage) if stage in Stage.__members__ else stage
        where.append(f"{zh}阶段（{stage}）")
        node = (raw.get("stages") or {}).get(stage) if isinstance(raw, dict) else None
        rest = rest[2:]
        if rest[:1] == ["items"] and len(rest) >= 2 and isinstance(rest[1], int):
            index = rest[1]
            items = node.get("items") if isinstance(node, dict) else None
            item = items[index] if isinstance(items, list) and index < len(items) else None
            item_id = item.get("id") if isinstance(item, dict) else None
            where.append(f"第 {index + 1} 项" + (f"（id={item_id}）" if item_id else ""))
            rest = rest[2:]
    fields = [str(p) for p in rest if not isinstance(p, int)]
    if fields:
        where.append("字段 " + " → ".join(_FIELD_ZH.get(f, f) for f in fields))
    return f"{file}：" + (" ".join(where) + "：" if where else "") + message


def load_file(path: Path) -> tuple[Playbook | None, list[str]]:
    """One playbook file; returns (playbook, []) or (None, problems)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [f"{path}：文件不存在"]
    except UnicodeDecodeError:
        return None, [f"{path}：不是 UTF-8 编码"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        return None, [f"{path}：YAML 语法错误 {where}：{getattr(exc, 'problem', exc)}"]
    if not isinstance(raw, dict):
        return None, [f"{path}：顶层必须是键值映射（category、name、stages）"]
    try:
        book = Playbook.model_validate(raw)
    except ValidationError as exc:
        return None, [_describe(path, raw, tuple(err["loc"]), _message(err)) for err in exc.errors()]
    if book.category != path.stem:
        return None, [f"{path}：category 为 {book.category}，但文件名应与类别一致（{book.category}.yaml）"]
    return book, []


def validate_dir(directory: Path) -> LoadReport:
    """All five category playbooks in ``directory``; missing files are problems too."""
    report = LoadReport()
    for category in CRISIS_CATEGORIES:
        path = directory / f"{category.value}.yaml"
        report.files.append(path)
        if not path.exists():
            report.errors.append(f"{path}：缺少{category.zh}剧本文件")
            continue
        book, errors = load_file(path)
        report.errors.extend(errors)
        if book is not None:
            report.playbooks[category.value] = book
    return report


_CACHE: dict[Path, tuple[tuple[float, ...], dict[str, Playbook]]] = {}


def load_all(settings: Settings | None = None) -> dict[str, Playbook]:
    """Every playbook by category; raises ConfigError listing each problem (start-up, doctor)."""
    directory = playbooks_dir(settings)
    stamp = tuple(p.stat().st_mtime if p.exists() else -1.0
                  for p in (directory / f"{c.value}.yaml" for c in CRISIS_CATEGORIES))
    cached = _CACHE.get(directory)
    if cached and cached[0] == stamp:
        return cached[1]
    report = validate_dir(directory)
    if report.errors:
        raise ConfigError("剧本文件有误，请修正后重试：\n" + "\n".join(f"  - {e}" for e in report.errors),
                          file=str(directory))
    _CACHE[directory] = (stamp, report.playbooks)
    return report.playbooks


def get_playbook(category: str, settings: Settings | None = None) -> Playbook:
    books = load_all(settings)
    if category not in books:
        names = "、".join(f"{c.value}（{c.zh}）" for c in CRISIS_CATEGORIES)
        raise ConfigError(f"没有类别 “{category}” 的剧本（可用：{names}）")
    return books[category]


__all__ = ["LoadReport", "PLAYBOOK_STAGES", "get_playbook", "load_all", "load_file", "playbooks_dir",
           "validate_dir"]
