"""Platform codes and their Chinese names: the one mapping every exit uses (pages, CSV, reports, messages).

Guarantees: :func:`platform_zh` never returns a known code untranslated; an unknown code (a source's own
``platform`` setting) is shown as it is, so a person still sees where a post came from; an empty code
is ``—``.
"""

from __future__ import annotations

PLATFORM_ZH: dict[str, str] = {
    "weibo": "微博",
    "weibo_hot": "微博热搜",
    "wechat": "微信公众号",
    "news": "新闻",
    "baidu_news": "新闻",
    "toutiao_news": "今日头条",
    "people": "人民网",
    "xinhua": "新华网",
    "rss": "RSS/新闻",
    "web": "网站",
    "forum": "论坛",
    "douyin": "抖音",
    "tieba": "贴吧",
    "bilibili": "B站",
    "toutiao": "今日头条",
    "zhihu": "知乎",
    "kuaishou": "快手",
    "xiaohongshu": "小红书",
}


def platform_zh(code: str | None) -> str:
    """The Chinese name of a platform code (``weibo`` → 微博)."""
    if not code:
        return "—"
    return PLATFORM_ZH.get(str(code).strip().lower(), str(code))
