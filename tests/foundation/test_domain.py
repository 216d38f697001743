"""Domain types: Chinese names, severity labels, the Post wire format."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from yuqing.domain import CATEGORY_ZH, Category, Classification, Post, Severity, Stage
from yuqing.privacy import mask


def test_chinese_names() -> None:
    assert [CATEGORY_ZH[c] for c in Category] == ["政策解读类", "权益侵害类", "形象危机类", "工作争议类",
                                                  "突发事件类", "非危机"]
    assert Severity(4).label == "特别重大（I级·红色）"
    assert Severity(1).label == "一般（IV级·蓝色）"
    assert Stage.warning.zh == "预警" and Stage.response.zh == "应对" and Stage.aftermath.zh == "善后"
    assert not Stage.closed.is_open


def test_post_keeps_extra_fields_and_makes_times_aware() -> None:
    post = Post.model_validate({"id": "a", "platform": "weibo", "text": "t", "x": 1,
                                "published_at": "2026-03-02 09:15:00"})
    assert post.published_at is not None and post.published_at.utcoffset().total_seconds() == 8 * 3600
    assert post.to_wire()["x"] == 1


def test_classification_none_iff_zero() -> None:
    with pytest.raises(ValidationError):
        Classification(category=Category.none, severity=Severity.general)
    with pytest.raises(ValidationError):
        Classification(category=Category.rights, severity=Severity.none)
    assert Classification(category="rights", severity=2).severity == Severity.major


def test_privacy_masking() -> None:
    text = "受害人王芳（13岁）住幸福路12号3栋501室，电话13812345678，身份证110101200901011234"
    out = mask(text)
    for secret in ("王芳", "13812345678", "110101200901011234", "12号3栋501室"):
        assert secret not in out
    assert "138****5678" in out and mask(out) == out
    assert mask("孩子今年13岁") == "孩子今年13岁"
    assert mask("育儿补贴每个孩子都能领3600元") == "育儿补贴每个孩子都能领3600元"  # not a name
    assert mask("保护当事人身份信息") == "保护当事人身份信息"
    assert mask("女童李小红被打") == "女童李某某被打"
