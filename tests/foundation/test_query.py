"""The keyword language: parsing, precedence, matching, schemes, folding, syntax errors."""

from __future__ import annotations

import pytest

from yuqing.query import (
    And,
    Not,
    Or,
    QuerySyntaxError,
    SchemeMatcher,
    Term,
    compile_matcher,
    parse,
    scheme_to_ast,
)
from yuqing.query.ast import MatchAll
from yuqing.settings import KeywordScheme


def m(query: str, text: str, title: str = "") -> bool:
    return compile_matcher(parse(query)).matches(title, text)


def test_precedence_not_and_or() -> None:
    assert parse("a b OR c") == Or((And((Term("a"), Term("b"))), Term("c")))
    assert parse("a OR b c") == Or((Term("a"), And((Term("b"), Term("c")))))
    assert parse("a -b") == And((Term("a"), Not(Term("b"))))
    assert parse("NOT a b") == And((Not(Term("a")), Term("b")))
    assert parse("(a | b) & c") == And((Or((Term("a"), Term("b"))), Term("c")))
    assert parse('"家庭 暴力" AND 妇联') == And((Term("家庭 暴力", phrase=True), Term("妇联")))
    assert parse("") == MatchAll()


def test_hyphen_inside_word_is_not_an_operator() -> None:
    assert parse("COVID-19") == Term("COVID-19")


def test_fullwidth_operators_and_quotes() -> None:
    assert parse("（家暴｜虐童）＆妇联") == And((Or((Term("家暴"), Term("虐童"))), Term("妇联")))
    assert parse("“离婚冷静期”") == Term("离婚冷静期", phrase=True)


def test_chinese_word_matches_contiguous_string_only() -> None:
    assert m("家暴", "她遭遇家暴多年")
    assert not m("家暴", "家庭暴力不是家务事")
    assert m("家庭暴力", "反对家庭暴力")


def test_boolean_matching_and_title() -> None:
    assert m("妇联 家暴", "家暴", title="县妇联回应")
    assert not m("妇联 家暴", "家暴事件")
    assert m("虐童 OR 拐卖", "涉嫌拐卖儿童")
    assert not m("家暴 -宣传周", "反家暴宣传周启动")
    assert m("家暴 -宣传周", "反家暴")
    assert m("(幼儿园 | 小学) (中毒 | 火灾)", "某小学发生火灾")
    assert not m("(幼儿园 | 小学) (中毒 | 火灾)", "某小学举行消防演练")


def test_traditional_fullwidth_and_case_folding() -> None:
    assert m("家暴", "她遭遇家暴")  # full-width? no: identical
    assert m("妇联", "縣婦聯回應")  # traditional text, simplified query
    assert m("婦聯", "县妇联回应")  # traditional query
    assert m("metoo", "#ＭｅＴｏｏ# 运动")  # full-width latin, case
    assert m("110", "请拨打１１０")


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("家暴 AND", 6, "末尾缺少词语"),
        ("(家暴 OR 虐童", 0, "左括号没有闭合"),
        ("家暴)", 2, "多余的右括号"),
        ('"家暴', 0, "引号没有闭合"),
        ("OR 家暴", 0, "前面缺少词语"),
        ("家暴 ()", 4, "括号内为空"),
        ("-家暴", 0, "不能只有排除条件"),
        ("家暴 NOT", 6, "缺少要排除的词"),
    ],
)
def test_syntax_errors_name_the_position(query: str, position: int, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        parse(query)
    assert err.value.position == position
    assert fragment in str(err.value)
    assert f"第 {position + 1} 个字符" in str(err.value)
    message = str(err.value)
    assert len(message.splitlines()) == 1  # one line: the CLI prints it as is
    near = message.split("附近：“", 1)[1]
    assert near.index("▲") == position and near.replace("▲", "", 1).startswith(query[:position + 3])


def test_scheme_groups_or_inside_and_across_exclusions() -> None:
    scheme = KeywordScheme(name="儿童安全", subject=["幼儿园", "小学"], region=["河南", "郑州"],
                           event=["中毒", "火灾"], exclude=["演练", "消防宣传"])
    matcher = compile_matcher(scheme_to_ast(scheme))
    assert matcher.matches("", "郑州某幼儿园发生食物中毒")
    assert not matcher.matches("", "郑州某幼儿园开展防火演练")  # no event word, and excluded
    assert not matcher.matches("", "郑州某幼儿园火灾逃生演练")  # exclusion wins
    assert not matcher.matches("", "广州某幼儿园发生火灾")  # region group not satisfied
    assert matcher.matches("河南", "某小學發生火災")  # traditional text; title counts


def test_scheme_entries_may_be_expressions_and_errors_name_the_entry() -> None:
    scheme = KeywordScheme(name="x", event=['"人身安全保护令"', "家暴 -宣传"])
    assert SchemeMatcher.from_schemes([scheme]).match(None, "法院发出人身安全保护令") == ["x"]
    bad = KeywordScheme(name="坏方案", event=["家暴", "(虐童"])
    with pytest.raises(QuerySyntaxError) as err:
        scheme_to_ast(bad)
    assert "坏方案" in str(err.value) and "event[1]" in str(err.value)


def test_scheme_matcher_reports_every_matching_scheme() -> None:
    schemes = [KeywordScheme(name="妇联", subject=["妇联"]), KeywordScheme(name="家暴", event=["家暴"]),
               KeywordScheme(name="拐卖", event=["拐卖"])]
    assert SchemeMatcher.from_schemes(schemes).match("市妇联", "介入家暴案") == ["妇联", "家暴"]


def test_empty_scheme_is_invalid() -> None:
    with pytest.raises(ValueError):
        KeywordScheme(name="空", exclude=["x"])
