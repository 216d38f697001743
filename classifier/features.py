"""What the models read from a post: the text (title + start, bounded) and spread features.

Spread features follow the severity rubric of LABELS.md rather than leaving it to the text head:
besides the raw log counts and the platform, each post gets the rubric's spread level (1–4) read
from its platform's own engagement scale (Weibo reposts ~150 / ~3,000 / ~40,000; Douyin, Kuaishou,
Bilibili and 小红书 likes run far above reposts; news, WeChat, Toutiao and Zhihu shares far below),
and the text cues a news article without counts is graded by: national or provincial media, 热搜
(and 热搜第一), deaths, many victims, accountability (免职/纪委/督办).
"""

from __future__ import annotations

import math
import re

import numpy as np

from yuqing.domain import Post

MAX_CHARS = 1000  # texts are cut to this before tokenizing (a 20,000-char post costs no more)
PLATFORMS = ["weibo", "wechat", "news", "douyin", "toutiao", "tieba", "zhihu", "bilibili",
             "kuaishou", "xiaohongshu"]
# The rubric's repost boundaries between levels 1|2, 2|3 and 3|4 on Weibo (LABELS.md), and how many
# of a platform's own engagement units make one Weibo repost at the same attention.
RUBRIC_BOUNDS = (150.0, 3000.0, 40000.0)
_LIKES_PER_REPOST = {"douyin": 40.0, "kuaishou": 40.0, "bilibili": 30.0, "xiaohongshu": 20.0}
_SHARE_PLATFORMS = {"news": 0.3, "wechat": 0.3, "toutiao": 0.3, "zhihu": 0.5, "tieba": 0.5}
CUES: dict[str, re.Pattern[str]] = {
    "cue_national_media": re.compile(r"央视|人民日报|新华社|新华网|人民网|中新社|中国新闻网|光明日报|央广|中国青年报|法治日报"
                                     r"|澎湃|新京报|红星新闻|封面新闻|环球时报|中国妇女报"),
    "cue_provincial_media": re.compile(r"(?:省|自治区)(?:电视台|广播电视台|日报|卫视)|晚报|都市报|晨报"),
    "cue_hot_search": re.compile(r"热搜|热榜|刷屏|冲上|阅读量\s*[\d.]+\s*亿|播放量\s*[\d.]+\s*亿"),
    "cue_top_trending": re.compile(r"热搜(?:榜)?第一|热搜榜首|全网热议|全国关注"),
    "cue_deaths": re.compile(r"死亡|身亡|遇难|罹难|不幸离世|致死|丧生|殒命"),
    "cue_many_victims": re.compile(r"(?:[三四五六七八九十百千]|[3-9]|\d{2,})(?:余|多)?(?:名|个|位)(?:儿童|学生|幼儿|孩子|女性|妇女|受害)"),
    "cue_accountability": re.compile(r"免职|停职|撤职|纪委|监委|督办|问责|立案调查|成立调查组|通报批评"),
}
SPREAD_NAMES = (["log_reposts", "log_comments", "log_likes", "log_views", "log_followers",
                 "verified", "views_missing"] + [f"platform_{p}" for p in PLATFORMS] + ["platform_other"]
                + [f"rubric_level_{k}" for k in (1, 2, 3, 4)] + list(CUES))


def model_text(post: Post, max_chars: int = MAX_CHARS) -> str:
    """Title and the start of the body: truncation keeps the title and the beginning."""
    title = (post.title or "").strip()
    body = " ".join((post.text or "").split())
    text = f"{title}\n{body}" if title and not body.startswith(title) else body or title
    return text[:max_chars]


def weibo_equivalent_reposts(post: Post) -> float:
    """The post's engagement as Weibo reposts at the same attention (LABELS.md: platforms count differently)."""
    platform = (post.platform or "").lower()
    reposts, comments, likes, views = (post.reposts or 0), (post.comments or 0), (post.likes or 0), (post.views or 0)
    if platform in _LIKES_PER_REPOST:
        return max(float(reposts), likes / _LIKES_PER_REPOST[platform], comments / 10.0)
    if platform in _SHARE_PLATFORMS:
        return max(reposts / _SHARE_PLATFORMS[platform], comments / 2.0, views / 300.0)
    return max(float(reposts), comments / 2.0, likes / 20.0)


def rubric_level(post: Post) -> int:
    """The rubric's spread level 1–4 from engagement alone (text cues are separate features)."""
    eq = weibo_equivalent_reposts(post)
    return 1 + sum(eq >= bound for bound in RUBRIC_BOUNDS)


def spread_features(post: Post) -> np.ndarray:
    def lg(v: int | None) -> float:
        return math.log1p(v or 0)

    platform = (post.platform or "").lower()
    onehot = [1.0 if platform == p else 0.0 for p in PLATFORMS]
    onehot.append(0.0 if platform in PLATFORMS else 1.0)
    level = rubric_level(post)
    text = f"{post.title or ''}\n{(post.text or '')[:MAX_CHARS]}"
    cues = [1.0 if pattern.search(text) else 0.0 for pattern in CUES.values()]
    return np.asarray([lg(post.reposts), lg(post.comments), lg(post.likes), lg(post.views),
                       lg(post.author_followers), 1.0 if post.author_verified else 0.0,
                       1.0 if post.views is None else 0.0, *onehot,
                       *[1.0 if level == k else 0.0 for k in (1, 2, 3, 4)], *cues], dtype=np.float32)
