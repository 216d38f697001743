"""Configuration in the database: versioned, validated, laid over the YAML seed.

Guarantees:

- ``config/yuqing.yaml`` stays the seed. The editable sections (:data:`EDITABLE_SECTIONS`) may be
  overridden in the table ``config_versions``; the *effective* settings are the seed with the
  latest version's sections laid over it, validated by the same :class:`~yuqing.settings.Settings`
  schema as the file. A section the database never overrode comes from the seed.
- Every change is a new row (who, when, comment, readable unified diff of each changed section's
  YAML); nothing is rewritten. A rollback is a new row equal to an older one.
- An invalid change is refused whole with :class:`ConfigInvalid`, whose ``errors`` map each
  offending field (``keyword_schemes.0.subject``) to a Chinese message; nothing is saved.
- Secrets are never stored: fields that name an environment variable (``*_env``) must hold a
  variable *name*, and values that look like a token, a cookie or a webhook key are refused.
- :func:`reload` swaps ``rt.settings`` in place when a newer version exists, so a running service
  picks changes up without a restart.

This module is ground floor: it imports only ``yuqing``.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from yuqing.db.models import ConfigVersionRow
from yuqing.errors import ConfigError, InputError
from yuqing.settings import Settings

log = logging.getLogger(__name__)

# The sections an administrator edits in the web (and that `yuqing config import` stores).
# A new section is one more name here (it must be a field of Settings).
EDITABLE_SECTIONS: tuple[str, ...] = tuple(name for name in (
    "keyword_schemes",
    "sources",
    "roster",
    "channels",
    "units",
) if name in Settings.model_fields)

SECTION_ZH = {"keyword_schemes": "关键词方案", "sources": "数据源", "roster": "值班表", "channels": "告警渠道",
              "units": "各级妇联"}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_LOOKS = (
    re.compile(r"xox[abposr]-[0-9A-Za-z-]{6,}"),  # Slack tokens
    re.compile(r"[?&](?:key|access_token|token|secret|sign)=[^&\s]{6,}", re.I),  # webhook keys in URLs
    re.compile(r"^SEC[0-9a-f]{20,}$"),  # DingTalk signing secret
    re.compile(r"(?:^|;\s*)(?:SUB|SUBP|BDUSS|sessionid|passport_csrf_token)=", re.I),  # login cookies
    re.compile(r"^-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:\s]*:[^@/\s]+@"),  # a URL with its password
)


class ConfigInvalid(InputError):
    """A change that does not validate; ``errors`` maps dotted field paths to Chinese messages
    (``""`` for errors of the whole document)."""

    def __init__(self, errors: dict[str, str]) -> None:
        lines = "；".join(f"{path or '(整体)'}: {msg}" for path, msg in errors.items())
        super().__init__(f"配置有误：{lines}")
        self.errors = errors


@dataclass(frozen=True)
class Version:
    id: int
    created_at: datetime
    username: str
    comment: str
    sections: dict[str, Any]
    changed: list[str]
    diff: str
    rollback_of: int | None

    @classmethod
    def of(cls, row: ConfigVersionRow) -> Version:
        return cls(row.id, row.created_at, row.username, row.comment or "", dict(row.sections or {}),
                   list(row.changed or []), row.diff or "", row.rollback_of)


# -- documents ---------------------------------------------------------------------------------
def section_data(settings: Settings, section: str) -> Any:
    """One section of ``settings`` as plain JSON data (what is stored and exported)."""
    return settings.model_dump(mode="json", include={section})[section]


def section_yaml(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=False)


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


_MESSAGES_ZH = {
    "extra_forbidden": "未知的配置项",
    "missing": "必填",
    "greater_than_equal": "应大于或等于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "应小于或等于 {le}",
    "less_than": "应小于 {lt}",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 是/否",
    "literal_error": "应为以下之一：{expected}",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "dict_type": "应为键值映射",
    "date_from_datetime_parsing": "日期格式应为 2026-03-02",
    "date_parsing": "日期格式应为 2026-03-02",
    "too_short": "太短（至少 {min_length}）",
    "too_long": "太长（至多 {max_length}）",
}


def _error_text(err: dict[str, Any]) -> str:
    """A Chinese message for one pydantic error (our own validators already speak Chinese)."""
    template = _MESSAGES_ZH.get(str(err.get("type", "")))
    if template:
        try:
            return template.format(**(err.get("ctx") or {}))
        except (KeyError, IndexError):
            pass
    return str(err.get("msg", "")).removeprefix("Value error, ")


def _secret_errors(data: Any, path: str = "") -> dict[str, str]:
    """Fields that would store a secret: an ``*_env`` that is not a variable name, or any string
    that looks like a token, a cookie or a webhook key."""
    errors: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            if str(key).endswith("_env") and isinstance(value, str) and value \
                    and not _ENV_NAME.match(value):
                errors[sub] = "这里填写环境变量的名称（如 YUQING_WEIBO_COOKIE），不要填写密钥、Cookie 或网址本身"
            else:
                errors.update(_secret_errors(value, sub))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            errors.update(_secret_errors(value, f"{path}.{i}"))
    elif isinstance(data, str) and any(p.search(data) for p in _SECRET_LOOKS):
        errors[path] = "疑似密钥（Token、Cookie、带 key 的 Webhook 地址或带密码的网址）：密钥只能放在环境变量中"
    return errors


def compose(seed: Settings, sections: dict[str, Any]) -> Settings:
    """The seed with ``sections`` laid over it, validated; ConfigInvalid with field errors."""
    unknown = sorted(set(sections) - set(EDITABLE_SECTIONS))
    if unknown:
        raise ConfigInvalid({name: "该部分不能在网页中编辑" for name in unknown})
    errors = _secret_errors(sections)
    data = seed.model_dump(mode="json", exclude={"source_path"})
    data.update(sections)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            errors.setdefault(_path(err["loc"]), _error_text(err))
        raise ConfigInvalid(errors) from None
    if errors:
        raise ConfigInvalid(errors)
    settings.source_path = seed.source_path
    return settings


def _short(value: Any) -> str:
    if value is None or value in ("", [], {}):
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str | int | float):
        text = str(value)
    else:
        text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000).strip()
    return text if len(text) <= 80 else text[:77] + "…"


def _identity(item: Any) -> str | None:
    if isinstance(item, dict):
        for key in ("name", "id"):
            if isinstance(item.get(key), str):
                return item[key]
    return None


def field_changes(path: str, old: Any, new: Any) -> list[str]:
    """One readable line per changed field: ``keyword_schemes[家暴].event：增加 彩礼纠纷``; items of a
    list are matched by their name (or id)."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in dict.fromkeys([*old, *new]):
            out += field_changes(f"{path}.{key}", old.get(key), new.get(key))
        return out
    if isinstance(old, list) and isinstance(new, list):
        ids_old, ids_new = [_identity(i) for i in old], [_identity(i) for i in new]
        ids = ids_old + ids_new
        if None not in ids and len(set(ids_old)) == len(ids_old) and len(set(ids_new)) == len(ids_new):
            by_old, by_new = dict(zip(ids_old, old, strict=True)), dict(zip(ids_new, new, strict=True))
            out = [f"{path}：删除 {k}" for k in by_old if k not in by_new]
            out += [f"{path}：新增 {k}" for k in by_new if k not in by_old]
            for k in by_new:
                if k in by_old:
                    out += field_changes(f"{path}[{k}]", by_old[k], by_new[k])
            if not out and ids_old != ids_new:
                out.append(f"{path}：顺序调整")
            return out
        if all(not isinstance(i, dict | list) for i in old + new):
            added = [i for i in new if i not in old]
            removed = [i for i in old if i not in new]
            parts = ([f"增加 {'、'.join(_short(i) for i in added)}"] if added else []) + \
                    ([f"删除 {'、'.join(_short(i) for i in removed)}"] if removed else [])
            return [f"{path}：{'；'.join(parts) or '顺序调整'}"]
    return [f"{path}：{_short(old)} → {_short(new)}"]


def diff_sections(before: Settings, after: Settings) -> tuple[list[str], str]:
    """The sections that differ and a readable diff: one line per changed field, then the unified
    diff of their YAML."""
    changed, chunks = [], []
    for name in EDITABLE_SECTIONS:
        old, new = section_data(before, name), section_data(after, name)
        if old == new:
            continue
        changed.append(name)
        chunks.append("\n".join(f"* {line}" for line in field_changes(name, old, new)))
        lines = difflib.unified_diff(section_yaml({name: old}).splitlines(), section_yaml({name: new}).splitlines(),
                                     fromfile=f"{name}（修改前）", tofile=f"{name}（修改后）", lineterm="", n=2)
        chunks.append("\n".join(lines))
    return changed, "\n".join(chunks)


# -- the table ---------------------------------------------------------------------------------
def latest(session: Session) -> Version | None:
    row = session.scalars(select(ConfigVersionRow).order_by(ConfigVersionRow.id.desc()).limit(1)).first()
    return Version.of(row) if row else None


def get(session: Session, version_id: int) -> Version:
    row = session.get(ConfigVersionRow, version_id)
    if row is None:
        raise InputError(f"没有编号为 {version_id} 的配置版本")
    return Version.of(row)


def history(session: Session, limit: int = 100) -> list[Version]:
    rows = session.scalars(select(ConfigVersionRow).order_by(ConfigVersionRow.id.desc()).limit(limit))
    return [Version.of(r) for r in rows]


def effective(session: Session, seed: Settings) -> tuple[Settings, int | None]:
    """The effective settings and the id of the version in force (None: the seed alone)."""
    version = latest(session)
    if version is None:
        return seed, None
    try:
        return compose(seed, version.sections), version.id
    except ConfigInvalid as exc:
        raise ConfigError(f"数据库中的配置版本 {version.id} 与配置文件合并后无效：{exc}；"
                          "可在“管理 → 配置版本”中回滚，或用 yuqing config import 导入有效配置") from None


def save(session: Session, seed: Settings, changes: dict[str, Any], username: str, now: datetime,
         comment: str = "", rollback_of: int | None = None, replace: bool = False) -> Version | None:
    """Record a new version where ``changes`` (section → data) replace those sections (``replace``:
    the document becomes exactly ``changes``). Validated first; None when nothing changes."""
    current = latest(session)
    before = compose(seed, current.sections) if current else seed
    document = dict(changes) if replace else {**(current.sections if current else {}), **changes}
    after = compose(seed, document)  # raises ConfigInvalid: nothing saved
    document = {name: section_data(after, name) for name in EDITABLE_SECTIONS if name in document}
    changed, diff = diff_sections(before, after)
    if not changed and current is not None and document == current.sections:
        return None
    row = ConfigVersionRow(created_at=now, username=username, comment=comment.strip(), sections=document,
                           changed=changed, diff=diff, rollback_of=rollback_of)
    session.add(row)
    session.flush()
    return Version.of(row)


def rollback(session: Session, seed: Settings, version_id: int, username: str, now: datetime,
             comment: str = "") -> Version | None:
    """A new version equal to version ``version_id`` (its sections; the others back to the seed)."""
    old = get(session, version_id)
    return save(session, seed, old.sections, username, now, comment=comment or f"回滚到版本 {version_id}",
                rollback_of=version_id, replace=True)


# -- wiring ------------------------------------------------------------------------------------
def _table_ready(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        return False  # never create a database file just to read the configuration
    return True


def effective_settings(seed: Settings) -> tuple[Settings, int | None]:
    """The effective settings of ``seed``'s database (seed alone when it has no table yet)."""
    if not _table_ready(seed.db_url):
        return seed, None
    from yuqing.db.engine import make_engine, session_factory, session_scope

    engine = make_engine(seed.db_url)
    try:
        if not inspect(engine).has_table(ConfigVersionRow.__tablename__):
            return seed, None
        with session_scope(session_factory(engine)) as s:
            return effective(s, seed)
    except ConfigError:
        raise
    except Exception as exc:  # an unreachable database: the seed, said loudly
        log.warning("无法从数据库读取配置版本，使用配置文件: %s", exc)
        return seed, None
    finally:
        engine.dispose()


def seed_of(rt: Any) -> Settings:
    """The file's settings of a runtime (a runtime built from settings alone: those settings)."""
    if getattr(rt, "seed", None) is None:
        rt.seed = rt.settings
    return rt.seed


def reload(rt: Any) -> bool:
    """Swap ``rt.settings`` for the effective settings when a newer version is in force; True if it
    changed. An invalid stored version keeps the settings in force (logged)."""
    seed = seed_of(rt)
    with rt.session() as s:
        version = latest(s)
    current = getattr(rt, "config_version", None)
    new_id = version.id if version else None
    if new_id == current:
        return False
    try:
        settings = compose(seed, version.sections) if version else seed
    except ConfigInvalid as exc:
        log.error("配置版本 %s 无效，继续使用当前配置: %s", new_id, exc)
        return False
    rt.settings, rt.config_version = settings, new_id
    log.info("已载入配置版本 %s（%s）", new_id, "、".join(SECTION_ZH.get(c, c) for c in (version.changed if version
                                                                                  else [])))
    return True


def reload_if_due(rt: Any, every_seconds: float, monotonic: Any = None) -> bool:
    """:func:`reload` at most once per ``every_seconds`` (a web process without the scheduler)."""
    import time

    now = (monotonic or time.monotonic)()
    if now < getattr(rt, "_config_checked_at", float("-inf")) + every_seconds:
        return False
    rt._config_checked_at = now
    try:
        return reload(rt)
    except Exception as exc:  # a database hiccup never fails a page
        log.warning("检查配置版本失败: %s", exc)
        return False


_URL_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@:\s]*:)([^@/\s]+)(@)")


def _hide_url_passwords(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _hide_url_passwords(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_hide_url_passwords(v) for v in data]
    if isinstance(data, str):
        return _URL_PASSWORD.sub(r"\1***\3", data)
    return data


def export_yaml(settings: Settings) -> str:
    """The effective settings as YAML (loads back with ``load_settings``); a password inside a URL
    (``YUQING_DATABASE_URL=postgresql://u:pw@…`` from the environment) is written as ``***``."""
    data = _hide_url_passwords(settings.model_dump(mode="json", exclude={"source_path"}))
    return "# yuqing 有效配置（配置文件 + 数据库中的修改），由 yuqing config export 导出\n" + section_yaml(data)
