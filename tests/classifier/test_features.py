"""Spread features follow the severity rubric: each platform's own scale, and the text cues of news."""

from __future__ import annotations

import numpy as np

from classifier.features import SPREAD_NAMES, rubric_level, spread_features
from classifier.severity import TEXT_NAMES, SeverityModel
from yuqing.domain import Post


def _post(platform: str = "weibo", text: str = "某地发生一起事件", **kw) -> Post:
    return Post(id="x", platform=platform, text=text, **kw)


def test_rubric_level_reads_each_platform_on_its_own_scale() -> None:
    assert [rubric_level(_post(reposts=n)) for n in (20, 400, 8000, 90000)] == [1, 2, 3, 4]
    # Douyin likes run far above reposts: 20万 likes is a city-to-province story, not national
    assert rubric_level(_post("douyin", likes=200_000)) == 3
    assert rubric_level(_post("douyin", likes=2_000)) == 1
    # news shares run below Weibo reposts at the same attention
    assert rubric_level(_post("news", reposts=1_500)) == 3
    assert rubric_level(_post("news")) == 1


def test_text_cues_of_a_news_article_without_counts() -> None:
    feats = dict(zip(SPREAD_NAMES, spread_features(_post(
        "news", "央视新闻：某县幼儿园火灾致5名儿童死亡，话题冲上热搜第一，县教育局局长被免职")).tolist(), strict=True))
    for cue in ("cue_national_media", "cue_hot_search", "cue_top_trending", "cue_deaths", "cue_many_victims",
                "cue_accountability"):
        assert feats[cue] == 1.0, cue
    quiet = dict(zip(SPREAD_NAMES, spread_features(_post("news", "县妇联召开年度工作会议，2名代表发言")).tolist(),
                     strict=True))
    assert sum(v for k, v in quiet.items() if k.startswith("cue_")) == 0.0


def test_a_model_fitted_on_fewer_features_reads_only_those() -> None:
    old = TEXT_NAMES + SPREAD_NAMES[:5]
    rng = np.random.default_rng(1)
    model = SeverityModel(rng.normal(size=(len(old), 4)).astype(np.float32), np.zeros(4, np.float32),
                          np.zeros(len(old), np.float32), np.ones(len(old), np.float32), features=old)
    full = rng.normal(size=(3, len(TEXT_NAMES) + len(SPREAD_NAMES))).astype(np.float32)
    picked = full[:, [(TEXT_NAMES + SPREAD_NAMES).index(n) for n in old]]
    assert np.allclose(model.logits(full), picked @ model.weight)
