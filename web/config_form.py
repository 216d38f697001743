"""Schema-driven forms for the configuration sections: one field per attribute of the pydantic
models of ``yuqing.settings``, list items addable and removable, and the parse back.

Guarantees: the form field of ``keyword_schemes[0].subject`` is named ``keyword_schemes.0.subject``,
the same dotted path :class:`yuqing.config_store.ConfigInvalid` reports, so every validation error
is shown next to its field (errors of an item next to the item, anything else at the top); a
section round-trips: ``parse(section, form_of(render(section, data)))`` gives ``data`` back.
Values of unknown or composite types (``args``, mixed lists) are edited as YAML text.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel

from yuqing.settings import Settings

DELETE = "__delete"
ITEM = "__item"

LABELS = {
    "name": "名称", "description": "说明", "subject": "主体词", "region": "地域词", "person": "人物词",
    "event": "事件词", "exclude": "排除词", "expression": "附加检索式", "spider": "爬虫", "enabled": "启用",
    "interval_minutes": "采集间隔（分钟）", "schemes": "关键词方案（空=全部）", "keywords": "采集关键词（空=取自方案）",
    "download_delay": "请求间隔（秒）", "concurrency": "并发数", "cookie_env": "Cookie 环境变量名",
    "proxy_env": "代理环境变量名", "base_url": "网址", "feeds": "订阅源地址", "args": "其他参数（YAML）",
    "people": "人员", "id": "编号", "email": "邮箱", "phone": "电话", "slack_user": "Slack 用户",
    "wecom_user": "企业微信用户", "dingtalk_mobile": "钉钉手机号", "shifts": "班次", "weekdays": "周几（1=周一，逗号分隔）",
    "start": "开始（HH:MM）", "end": "结束（HH:MM，可为 24:00）", "holidays": "节假日（每行一个日期）",
    "holiday_people": "节假日值班人员编号", "escalation": "逐级上报", "ack_timeout_minutes": "未确认逐级上报时限（分钟）",
    "type": "类型", "min_severity": "最低等级", "kinds": "通知类型（空=全部）", "path": "文件路径",
    "token_env": "Token 环境变量名", "channel": "频道", "webhook_env": "Webhook 环境变量名",
    "secret_env": "签名密钥环境变量名", "smtp_host": "SMTP 服务器", "smtp_port": "SMTP 端口",
    "smtp_starttls": "STARTTLS", "smtp_user_env": "SMTP 用户名环境变量名", "smtp_password_env": "SMTP 密码环境变量名",
    "mail_from": "发件人", "mail_to": "收件人（每行一个）", "timeout_seconds": "超时（秒）", "level": "级别",
    "parent": "上级单位编号", "roster": "值班表", "channels": "渠道",
}
LABELS_BY_MODEL = {("Unit", "region"): "行政区划代码（6 或 12 位）", ("Unit", "channels"): "渠道（YAML：名称或完整渠道）"}
OPTION_ZH = {"console": "控制台", "file": "文件", "slack": "Slack", "wecom": "企业微信", "dingtalk": "钉钉",
             "feishu": "飞书", "email": "电子邮件", "province": "省级", "city": "市级", "county": "县级",
             "town": "乡镇（街道）", "village": "村（社区）"}
ITEM_ZH = {"keyword_schemes": "方案", "sources": "数据源", "channels": "渠道", "people": "人员", "shifts": "班次",
           "escalation": "级别", "units": "单位"}


@dataclass
class Node:
    kind: str  # text number checkbox select lines csv yaml | group | items
    path: str
    label: str
    value: Any = ""
    options: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)
    template: Node | None = None
    placeholder: str = ""
    errors: list[str] = field(default_factory=list)
    required: bool = False


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def widget(annotation: Any) -> tuple[str, Any]:
    """The widget kind of an annotation and its item model / options."""
    annotation, _ = _strip_optional(annotation)
    origin = get_origin(annotation)
    if annotation is bool:
        return "checkbox", None
    if annotation in (int, float):
        return "number", None
    if annotation in (str, date):
        return "text", None
    if origin is Literal:
        return "select", [str(a) for a in get_args(annotation)]
    if _is_model(annotation):
        return "group", annotation
    if origin is list:
        (item,) = get_args(annotation) or (Any,)
        if _is_model(item):
            return "items", item
        if item in (str, date):
            return "lines", None
        if item in (int, float):
            return "csv", None
    return "yaml", None


def section_annotation(section: str) -> Any:
    return Settings.model_fields[section].annotation


def section_label(section: str) -> str:
    from yuqing.config_store import SECTION_ZH

    return SECTION_ZH.get(section, section)


# -- render ------------------------------------------------------------------------------------
def _leaf_value(kind: str, value: Any) -> Any:
    if kind == "checkbox":
        return bool(value)
    if value is None:
        return ""
    if kind == "lines":
        return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if kind == "csv":
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if kind == "yaml":
        if value in ({}, []):
            return ""
        return value if isinstance(value, str) else yaml.safe_dump(value, allow_unicode=True, sort_keys=False).strip()
    return str(value)


def _build(annotation: Any, path: str, label: str, value: Any, depth: int, required: bool = False) -> Node:
    kind, extra = widget(annotation)
    if kind == "group":
        node = Node("group", path, label)
        data = value if isinstance(value, dict) else {}
        for name, info in extra.model_fields.items():
            sub_label = LABELS_BY_MODEL.get((extra.__name__, name)) or LABELS.get(name, name)
            node.children.append(_build(info.annotation, f"{path}.{name}", sub_label, data.get(name), depth,
                                        required=info.is_required()))
        return node
    if kind == "items":
        placeholder = f"__N{depth}__"
        node = Node("items", path, label, placeholder=placeholder)
        short = ITEM_ZH.get(path.rsplit(".", 1)[-1], "项")
        for i, item in enumerate(value if isinstance(value, list) else []):
            node.items.append(_build(extra, f"{path}.{i}", f"{short} {i + 1}", item, depth + 1))
        node.template = _build(extra, f"{path}.{placeholder}", f"新{short}", {}, depth + 1)
        return node
    return Node(kind, path, label, value=_leaf_value(kind, value), options=extra or [], required=required)


def _attach(node: Node, errors: dict[str, str], used: set[str]) -> None:
    leaf = node.kind not in ("group", "items")
    for key, message in errors.items():
        if key == node.path or (leaf and key.startswith(node.path + ".")):
            node.errors.append(message)
            used.add(key)
    for child in [*node.children, *node.items]:
        _attach(child, errors, used)


def render(section: str, data: Any, errors: dict[str, str] | None = None) -> tuple[Node, list[str]]:
    """The form tree of one section's data, and the errors no field shows (for the top)."""
    root = _build(section_annotation(section), section, section_label(section), data, 0)
    errors = errors or {}
    used: set[str] = set()
    _attach(root, errors, used)
    rest = [f"{k}: {v}" if k else v for k, v in errors.items() if k not in used]
    return root, rest


# -- parse -------------------------------------------------------------------------------------
class _Form:
    def __init__(self, form: dict[str, str]) -> None:
        self.form = form
        self.errors: dict[str, str] = {}

    def value(self, annotation: Any, path: str) -> tuple[bool, Any]:
        """(present, value) of the field at ``path``; absent fields keep their default."""
        kind, extra = widget(annotation)
        form = self.form
        if kind == "group":
            out = {}
            for name, info in extra.model_fields.items():
                present, sub = self.value(info.annotation, f"{path}.{name}")
                if present:
                    out[name] = sub
            return True, out
        if kind == "items":
            prefix = path + "."
            indexes = sorted({int(k[len(prefix):].split(".", 1)[0]) for k in form
                              if k.startswith(prefix) and k[len(prefix):].split(".", 1)[0].isdigit()})
            items = [self.value(extra, f"{path}.{i}")[1] for i in indexes if f"{path}.{i}.{DELETE}" not in form]
            return True, items
        if kind == "checkbox":
            return True, path in form
        raw = form.get(path)
        if raw is None:
            return False, None
        text = raw.strip()
        if kind == "lines":
            return True, [line.strip() for line in text.splitlines() if line.strip()]
        if kind == "csv":
            return True, [p for p in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(",") if p]
        if not text:
            return False, None
        if kind == "yaml":
            try:
                return True, yaml.safe_load(text)
            except RecursionError:
                self.errors[path] = "YAML 嵌套过深"
                return True, text
            except (ValueError, TypeError) as exc:  # e.g. a date such as 2026-13-45
                self.errors[path] = f"YAML 中的值无效: {exc}"
                return True, text
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f"第 {mark.line + 1} 行" if mark else ""
                self.errors[path] = f"YAML 格式错误{where}: {getattr(exc, 'problem', exc)}"
                return True, text
        return True, text


def parse(section: str, form: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """The section's data from a submitted form (before validation) and the errors of parsing."""
    reader = _Form(form)
    _, data = reader.value(section_annotation(section), section)
    return data, reader.errors


def flatten(node: Node) -> dict[str, str]:
    """The form a browser would submit for ``node`` unchanged (tests and round trips)."""
    out: dict[str, str] = {}
    if node.kind == "group":
        for child in node.children:
            out.update(flatten(child))
        out[f"{node.path}.{ITEM}"] = "1"
    elif node.kind == "items":
        for item in node.items:
            out.update(flatten(item))
    elif node.kind == "checkbox":
        if node.value:
            out[node.path] = "on"
    else:
        out[node.path] = str(node.value)
    return out
