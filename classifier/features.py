"""What the models read from a post: the text (title + start, bounded) and spread features."""

from __future__ import annotations

import math

import numpy as np

from yuqing.domain import Post

MAX_CHARS = 1000  # texts are cut to this before tokenizing (a 20,000-char post costs no more)
PLATFORMS = ["weibo", "wechat", "news", "douyin", "toutiao", "tieba", "zhihu", "bilibili",
             "kuaishou", "xiaohongshu"]
SPREAD_NAMES = ["log_reposts", "log_comments", "log_likes", "log_views", "log_followers",
                "verified", "views_missing"] + [f"platform_{p}" for p in PLATFORMS] + ["platform_other"]


def model_text(post: Post, max_chars: int = MAX_CHARS) -> str:
    """Title and the start of the body: truncation keeps the title and the beginning."""
    title = (post.title or "").strip()
    body = " ".join((post.text or "").split())
    text = f"{title}\n{body}" if title and not body.startswith(title) else body or title
    return text[:max_chars]


def spread_features(post: Post) -> np.ndarray:
    def lg(v: int | None) -> float:
        return math.log1p(v or 0)

    platform = (post.platform or "").lower()
    onehot = [1.0 if platform == p else 0.0 for p in PLATFORMS]
    onehot.append(0.0 if platform in PLATFORMS else 1.0)
    return np.asarray([lg(post.reposts), lg(post.comments), lg(post.likes), lg(post.views),
                       lg(post.author_followers), 1.0 if post.author_verified else 0.0,
                       1.0 if post.views is None else 0.0, *onehot], dtype=np.float32)
