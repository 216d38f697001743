"""The shipped model (classifier/model) on unmistakable posts, and defined results for odd input."""

from __future__ import annotations

import pytest

from yuqing.domain import Category, Post
from yuqing.settings import ROOT


@pytest.fixture(scope="module")
def shipped(base_dir):
    from classifier.api import Classifier

    return Classifier(base_dir, ROOT / "classifier" / "model", threads=2)


def _post(i: int, text: str, **kw) -> Post:
    return Post(id=f"k{i}", platform="weibo", text=text, **kw)


KNOWN = [
    ("三八节快乐呀姐妹们🌷 今天单位发了两张电影票，老板难得大方一次", "none"),
    ("周末带娃去公园放风筝，阳光正好，孩子玩得可开心了", "none"),
    ("某幼儿园午餐后四十余名幼儿出现呕吐腹痛，已送医救治，疑似集体食物中毒，市场监管部门已介入", "emergency"),
    ("女子长期遭丈夫殴打，多次报警后仍被打到骨折住院，施暴者已被警方刑事拘留", "rights"),
]


def test_known_posts(shipped):
    posts = [_post(i, t, reposts=300, comments=200, likes=900) for i, (t, _) in enumerate(KNOWN)]
    got = [r.category.value for r in shipped.classify(posts)]
    assert got == [label for _, label in KNOWN]


def test_cascade_and_full_path_agree_on_crisis(shipped):
    post = _post(9, KNOWN[3][0], reposts=5000, comments=3000, likes=20000, author_verified=True,
                 author_followers=2_000_000)
    shipped.cascade = True
    a = shipped.classify([post])[0]
    shipped.cascade = False
    b = shipped.classify([post])[0]
    shipped.cascade = True
    assert a.category == b.category == Category.rights
    assert a.severity == b.severity >= 2


def test_odd_input_has_defined_results(shipped):
    posts = [_post(1, ""), _post(2, "🙏🙏🙏"), _post(3, "家暴" * 10000),
             _post(4, "Kindergarten food poisoning, 40 children hospitalised"), _post(5, "。。。！！！")]
    res = shipped.classify(posts)
    assert res[0].category is Category.none and res[1].category is Category.none
    assert res[4].category is Category.none
    for r in res:
        assert (r.category is Category.none) == (int(r.severity) == 0)
        assert abs(sum(r.category_scores.values()) - 1) < 1e-2
    assert res[0].model_version == shipped.version


def test_embed_similar_texts_are_close(shipped):
    emb = shipped.embed(["某幼儿园发生食物中毒，多名儿童送医", "幼儿园集体食物中毒，孩子们已送医院",
                         "今天做了红烧肉，孩子吃了两碗饭"])
    assert emb.shape == (3, 384)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]
