"""Response draft checker (回应口径检查): the doctrine of seeds 002/003 applied to a draft, rules as data.

Rules live in ``playbooks/draft_rules.yaml`` (and ``playbooks/draft_rules.d/*.yaml`` to extend).
Each finding names its rule, a severity, a Chinese message, the span of text and the seed rule it
comes from.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yuqing.errors import ConfigError
from yuqing.privacy import mask

RuleKind = Literal["phrase", "stressed", "cause", "required", "privacy", "length"]
Level = Literal["error", "warning", "info"]
LEVEL_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
_SENTENCE_END = re.compile(r"[。！？；!?;\n]")


class DraftRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    kind: RuleKind
    severity: Level = "warning"
    message: str = Field(min_length=2)
    seed: str = Field(min_length=2)
    patterns: list[str] = Field(default_factory=list)
    hedges: list[str] = Field(default_factory=list)
    within_chars: int = Field(default=40, ge=0)
    max_count: int = Field(default=2, ge=1)
    limits: dict[str, int] = Field(default_factory=dict)
    categories: list[str] = Field(default_factory=list)
    exempt_context: str | None = None

    @field_validator("patterns", "hedges")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"正则表达式 {pattern!r} 无效：{exc}") from None
        return value

    @model_validator(mode="after")
    def _needs(self) -> DraftRule:
        if self.kind in ("phrase", "stressed", "cause", "required") and not self.patterns:
            raise ValueError(f"{self.kind} 类规则需要 patterns")
        if self.kind == "cause" and not self.hedges:
            raise ValueError("cause 类规则需要 hedges（限定语）")
        if self.kind == "length" and "default" not in self.limits:
            raise ValueError("length 类规则的 limits 需要 default")
        return self


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: str  # error | warning | info
    message: str  # Chinese
    span: tuple[int, int] | None  # character offsets in the draft; None for a missing element
    seed: str  # the seed rule cited
    excerpt: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["span"] = list(self.span) if self.span else None
        return out


def rules_files(directory: Path) -> list[Path]:
    files = [directory / "draft_rules.yaml"]
    extra = directory / "draft_rules.d"
    if extra.is_dir():
        files.extend(sorted(extra.glob("*.yaml")))
    return files


def load_rules(directory: Path | None = None) -> list[DraftRule]:
    """All draft rules of ``directory`` (default: this package); ConfigError names file, rule and problem."""
    directory = directory or Path(__file__).resolve().parent
    rules: list[DraftRule] = []
    errors: list[str] = []
    seen: dict[str, Path] = {}
    for file in rules_files(directory):
        try:
            raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            errors.append(f"{file}：文件不存在")
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"第 {mark.line + 1} 行" if mark else ""
            errors.append(f"{file}：YAML 语法错误 {where}：{getattr(exc, 'problem', exc)}")
            continue
        items = raw.get("rules") if isinstance(raw, dict) else None
        if not isinstance(items, list):
            errors.append(f"{file}：顶层需要 rules: 列表")
            continue
        for index, item in enumerate(items):
            name = item.get("id") if isinstance(item, dict) else None
            try:
                rule = DraftRule.model_validate(item)
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(p) for p in err["loc"]) or "(规则)"
                    msg = str(err["msg"]).removeprefix("Value error, ")
                    if err["type"] == "extra_forbidden":
                        msg = "未知字段"
                    elif err["type"] == "missing":
                        msg = "缺少必填字段"
                    errors.append(f"{file}：第 {index + 1} 条规则" + (f"（id={name}）" if name else "")
                                  + f" 字段 {field}：{msg}")
                continue
            if rule.id in seen:
                errors.append(f"{file}：规则 id “{rule.id}” 与 {seen[rule.id]} 中的重复")
                continue
            seen[rule.id] = file
            rules.append(rule)
    if errors:
        raise ConfigError("回应口径规则有误：\n" + "\n".join(f"  - {e}" for e in errors), file=str(directory))
    return rules


_DEFAULT_RULES: list[DraftRule] | None = None


def default_rules() -> list[DraftRule]:
    global _DEFAULT_RULES
    if _DEFAULT_RULES is None:
        _DEFAULT_RULES = load_rules()
    return _DEFAULT_RULES


def _category(incident: Any) -> str | None:
    if incident is None:
        return None
    value = incident.get("category") if isinstance(incident, dict) else getattr(incident, "category", None)
    return None if value is None else str(getattr(value, "value", value))


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() - start > 1:
            spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _finding(rule: DraftRule, text: str, span: tuple[int, int] | None, message: str | None = None) -> Finding:
    excerpt = text[span[0]:span[1]] if span else ""
    return Finding(rule.id, rule.severity, message or rule.message, span, rule.seed, excerpt)


def _phrase(rule: DraftRule, text: str) -> list[Finding]:
    out = []
    taken: list[tuple[int, int]] = []
    for pattern in rule.patterns:
        for m in re.finditer(pattern, text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue  # one finding per place, even when two patterns overlap
            taken.append((m.start(), m.end()))
            out.append(_finding(rule, text, (m.start(), m.end())))
    return sorted(out, key=lambda f: f.span or (0, 0))


def _stressed(rule: DraftRule, text: str, facts_missing: bool) -> list[Finding]:
    hits = [f.span for f in _phrase(rule, text) if f.span]
    if not hits:
        return []
    first = hits[0]
    if first[0] < rule.within_chars:
        why = f"开头第 {first[0] + 1} 个字就强调领导重视"
    elif len(hits) >= rule.max_count:
        why = f"全文 {len(hits)} 次强调领导重视"
    elif facts_missing:
        why = "强调了领导重视，却没有交代已知事实"
    else:
        return []
    return [_finding(rule, text, first, f"{rule.message}（{why}）")]


def _cause(rule: DraftRule, text: str) -> list[Finding]:
    out = []
    for start, end in _sentences(text):
        sentence = text[start:end]
        if any(re.search(h, sentence) for h in rule.hedges):
            continue
        for pattern in rule.patterns:
            m = re.search(pattern, sentence)
            if m:
                out.append(_finding(rule, text, (start, end)))
                break
    return out


def _expand_digits(text: str, start: int, end: int) -> tuple[int, int]:
    digits = set("0123456789-Xx+")
    if not any(ch.isdigit() for ch in text[start:end]):
        return start, end
    while start > 0 and text[start - 1] in digits:
        start -= 1
    while end < len(text) and text[end] in digits:
        end += 1
    return start, end


def _privacy(rule: DraftRule, text: str) -> list[Finding]:
    masked = mask(text)
    if masked == text:
        return []
    out: list[Finding] = []
    matcher = difflib.SequenceMatcher(None, text, masked, autojunk=False)
    for op, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if op == "equal" or i1 == i2:
            continue
        start, end = _expand_digits(text, i1, i2)
        if out and out[-1].span and start <= out[-1].span[1]:
            continue  # the same datum changed in several places
        value = re.sub(r"[-+\s]", "", text[start:end])
        personal = bool(re.fullmatch(r"(86)?1[3-9]\d{9}", value) or re.fullmatch(r"\d{17}[\dXx]", value))
        before = text[max(0, start - 12):start]
        if not personal and rule.exempt_context and re.search(rule.exempt_context, before):
            continue  # a public hotline or an office address
        context_start = max(0, start - 4)
        f = _finding(rule, text, (start, end))
        out.append(Finding(f.rule_id, f.severity, f.message, f.span, f.seed, text[context_start:end]))
    return out


def _length(rule: DraftRule, text: str, platform: str) -> list[Finding]:
    limit = rule.limits.get(platform, rule.limits["default"])
    size = len(re.sub(r"\s", "", text))
    if size <= limit:
        return []
    return [_finding(rule, text, (0, len(text)), f"{rule.message}（{platform} 建议不超过 {limit} 字，当前 {size} 字）")]


def check_draft(text: str, platform: str = "weibo", incident: Any = None,
                rules: list[DraftRule] | None = None) -> list[Finding]:
    """Every finding for a draft, errors first, then in text order."""
    rules = default_rules() if rules is None else rules
    category = _category(incident)
    active = [r for r in rules if not r.categories or category is None or category in r.categories]
    required_missing = {r.id for r in active if r.kind == "required"
                        and not any(re.search(p, text) for p in r.patterns)}
    facts_missing = any("fact" in rid for rid in required_missing)
    findings: list[Finding] = []
    for rule in active:
        if rule.kind == "phrase":
            findings.extend(_phrase(rule, text))
        elif rule.kind == "stressed":
            findings.extend(_stressed(rule, text, facts_missing))
        elif rule.kind == "cause":
            findings.extend(_cause(rule, text))
        elif rule.kind == "required" and rule.id in required_missing:
            findings.append(_finding(rule, text, None))
        elif rule.kind == "privacy":
            findings.extend(_privacy(rule, text))
        elif rule.kind == "length":
            findings.extend(_length(rule, text, platform))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: (order[f.severity], f.span[0] if f.span else 10**9, f.rule_id))


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)
