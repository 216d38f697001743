"""Parser of the keyword language.

    query   := or_expr?
    or_expr := and_expr (("OR" | "|") and_expr)*
    and_expr:= unary (("AND" | "&")? unary)*        # juxtaposition means AND
    unary   := ("NOT" | "-") unary | primary        # "-" only as a prefix: -广告
    primary := WORD | "quoted phrase" | "(" or_expr ")"

Precedence: NOT binds tighter than AND, AND tighter than OR. Full-width operators and
quotes (（）｜＆“”) are accepted. Errors name the position (1-based character column).

Limits (so no query can exhaust the stack or the index): at most ``max_length`` characters
(:data:`MAX_QUERY_CHARS` for an analyst's query), at most :data:`MAX_DEPTH` levels of
parentheses and NOT together, at most :data:`MAX_NOT_CHAIN` NOTs in a row, at most
:data:`MAX_TERMS` terms. Every malformed query raises :class:`QuerySyntaxError` (one Chinese
line naming the position) — never RecursionError or anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yuqing.errors import InputError
from yuqing.query.ast import MatchAll, Node, Not, Term, and_, or_

_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "｜": "|", "＆": "&", "“": '"', "”": '"', "＂": '"',
                            "－": "-", "　": " "})
_SPECIAL = set('()|&"')
_INVALID = re.compile("[\ud800-\udfff\x00]")
MAX_QUERY_CHARS = 1000
MAX_DEPTH = 32
MAX_NOT_CHAIN = 3
MAX_TERMS = 200


class QuerySyntaxError(InputError):
    """A malformed query: one line, ``检索式语法错误（第 N 个字符处）：reason（附近：…）``; exit 2 in the CLI."""

    exit_code = 2

    def __init__(self, query: str, position: int, reason: str) -> None:
        self.query = query
        self.position = position  # 0-based index into the query
        self.reason = reason
        super().__init__(f"检索式语法错误（第 {position + 1} 个字符处）：{reason}{_near(query, position)}")


def _near(query: str, position: int, width: int = 12) -> str:
    """The text around the position, on one line, the position marked with ▲."""
    if not query:
        return ""
    start = max(0, position - width)
    before = query[start:position]
    after = query[position:position + width]
    snippet = (("…" if start else "") + before + "▲" + after + ("…" if position + width < len(query) else ""))
    snippet = _INVALID.sub("\ufffd", snippet)
    snippet = " ".join(snippet.split()) if "\n" in snippet or "\r" in snippet else snippet
    return f"（附近：“{snippet}”）"


@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD PHRASE AND OR NOT LPAREN RPAREN END
    value: str
    pos: int


def _tokenize(query: str) -> list[_Tok]:
    text = query.translate(_FULLWIDTH)
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            toks.append(_Tok("LPAREN", ch, i))
            i += 1
        elif ch == ")":
            toks.append(_Tok("RPAREN", ch, i))
            i += 1
        elif ch == "|":
            toks.append(_Tok("OR", ch, i))
            i += 1
        elif ch == "&":
            toks.append(_Tok("AND", ch, i))
            i += 1
        elif ch == "-" and (i + 1 < n and not text[i + 1].isspace()) and (not toks or _prefix_ok(text, i)):
            toks.append(_Tok("NOT", ch, i))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError(query, i, "引号没有闭合")
            phrase = " ".join(text[i + 1:end].split())
            if not phrase:
                raise QuerySyntaxError(query, i, "引号内为空")
            toks.append(_Tok("PHRASE", phrase, i))
            i = end + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            word = text[start:i]
            kind = {"AND": "AND", "OR": "OR", "NOT": "NOT"}.get(word, "WORD")
            toks.append(_Tok(kind, word, start))
    toks.append(_Tok("END", "", len(text)))
    return toks


def _prefix_ok(text: str, i: int) -> bool:
    """'-' is a NOT prefix at the start of a term (after space, '(' or an operator), not inside a word."""
    return i == 0 or text[i - 1].isspace() or text[i - 1] in "(|&"


class _Parser:
    def __init__(self, query: str, max_length: int = MAX_QUERY_CHARS) -> None:
        self.query = query
        if len(query) > max_length:
            raise QuerySyntaxError(query, max_length, f"检索式过长（{len(query)} 个字符，最多 {max_length} 个）")
        bad = _INVALID.search(query)
        if bad:
            raise QuerySyntaxError(query, bad.start(), "含有无效字符（不成对的代理字符或 NUL）")
        self.toks = _tokenize(query)
        words = sum(1 for t in self.toks if t.kind in ("WORD", "PHRASE"))
        if words > MAX_TERMS:
            extra = [t for t in self.toks if t.kind in ("WORD", "PHRASE")][MAX_TERMS]
            raise QuerySyntaxError(query, extra.pos, f"词语过多（{words} 个，最多 {MAX_TERMS} 个）")
        self.i = 0
        self.depth = 0

    def enter(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(tok, f"括号或 NOT 嵌套过深（最多 {MAX_DEPTH} 层）")

    def leave(self) -> None:
        self.depth -= 1

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def error(self, tok: _Tok, reason: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.query, tok.pos, reason)

    def parse(self) -> Node:
        if self.peek().kind == "END":
            return MatchAll()
        node = self.or_expr()
        tok = self.peek()
        if tok.kind == "RPAREN":
            raise self.error(tok, "多余的右括号")
        if tok.kind != "END":
            raise self.error(tok, f"无法理解的“{tok.value}”")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.peek().kind == "OR":
            self.take()
            parts.append(self.and_expr())
        return or_(*parts)

    def and_expr(self) -> Node:
        start = self.peek().pos
        parts = [self.unary()]
        while True:
            tok = self.peek()
            if tok.kind == "AND":
                self.take()
                parts.append(self.unary())
            elif tok.kind in ("WORD", "PHRASE", "NOT", "LPAREN"):
                parts.append(self.unary())
            else:
                break
        if all(isinstance(p, Not) for p in parts):
            raise QuerySyntaxError(self.query, start,
                                   "不能只有排除条件（NOT/-），请加上要匹配的词")
        return and_(*parts)

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind != "NOT":
            return self.primary()
        chain = []
        while self.peek().kind == "NOT":
            chain.append(self.take())
            if len(chain) > MAX_NOT_CHAIN:
                raise self.error(chain[-1], f"连续的 NOT 过多（最多 {MAX_NOT_CHAIN} 个）")
        if self.peek().kind in ("END", "RPAREN", "OR", "AND"):
            raise self.error(self.peek(), f"“{chain[-1].value}”后面缺少要排除的词")
        for t in chain:
            self.enter(t)
        node = self.primary()
        for _ in chain:
            node = Not(node)
            self.leave()
        return node

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "WORD":
            return Term(tok.value)
        if tok.kind == "PHRASE":
            return Term(tok.value, phrase=True)
        if tok.kind == "LPAREN":
            if self.peek().kind == "RPAREN":
                raise self.error(self.peek(), "括号内为空")
            self.enter(tok)
            node = self.or_expr()
            close = self.take()
            if close.kind != "RPAREN":
                raise QuerySyntaxError(self.query, tok.pos, "左括号没有闭合")
            self.leave()
            return node
        if tok.kind == "END":
            raise self.error(tok, "检索式不完整，末尾缺少词语")
        if tok.kind == "RPAREN":
            raise self.error(tok, "多余的右括号")
        raise self.error(tok, f"“{tok.value}”前面缺少词语")


def parse(query: str, max_length: int = MAX_QUERY_CHARS) -> Node:
    """Parse a keyword-language query; raises QuerySyntaxError naming the position (nothing else)."""
    if not isinstance(query, str):
        raise QuerySyntaxError("", 0, "检索式应为文本")
    try:
        return _Parser(query, max_length).parse()
    except RecursionError:  # not reachable within MAX_DEPTH; kept so no caller ever sees one
        raise QuerySyntaxError(query, 0, "检索式嵌套过深") from None
