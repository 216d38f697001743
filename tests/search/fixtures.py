"""Fixture posts and queries shared by the contract suite (same data, same expectations per backend)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from yuqing.db.models import PostRow

T0 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)  # Monday 09:00 Asia/Shanghai

# id, platform, author, title, text, hours after T0, category, severity, (reposts, comments, likes), incidents
POSTS = [
    ("p01", "weibo", "张三", None, "某地女子遭遇家暴，当地妇联已介入调查", 0, "rights", 3, (10, 5, 100), [1]),
    ("p02", "weibo", "李四", None, "家庭暴力不是家务事，反家暴法实施八周年", 1, "policy", 1, (2, 1, 3), []),
    ("p03", "news", "新华网", "妇联发布儿童安全提示", "暑期将至，请家长注意孩子溺水风险", 2, "work", 1, (0, 0, 0), []),
    ("p04", "weibo", "王五", None, "婦聯回應網友關切：已成立工作組核查家暴事件", 3, "rights", 2, (50, 20, 300), [1]),
    ("p05", "wechat", "公众号甲", "招聘启事", "市妇联招聘工作人员若干名", 4, "none", 0, (0, 0, 1), []),
    ("p06", "news", "人民网", "多地出台育儿补贴政策", "生育津贴与产假延长，妇女权益保障持续加强", 26, "policy", 1, (5, 5, 5), []),
    ("p07", "weibo", "张三", None, "ＡＢＣ学校发生学生欺凌事件，家长质疑校方处理", 27, "emergency", 3, (100, 80, 900), [2]),
    ("p08", "douyin", "赵六", None, "视频：男子当街殴打妻子，路人报警", 28, "rights", 4, (300, 200, 5000), [1, 2]),
    ("p09", "weibo", "李四", None, "妇联 回应 质疑 new york 分会", 50, None, None, (0, 0, 0), []),
    ("p10", "news", "新华网", None, "家 暴 两字之间有空格，不应匹配家暴", 51, "none", 0, (1, 0, 0), []),
    ("p11", "weibo", "王五", "性侵案宣判", "被告人因性侵未成年人被判处有期徒刑", 75, "rights", 3, (40, 10, 200), [3]),
    ("p12", "wechat", "公众号乙", None, "妇女儿童工作委员会召开年度会议，部署反家暴工作", 76, "work", 1, (3, 3, 3), []),
    ("p13", "weibo", "孙七", None, "拐卖妇女儿童犯罪嫌疑人落网，收买被拐妇女者同样获刑", 170, "rights", 2, (60, 30, 400), []),
    ("p14", "weibo", "孙七", None, "今天天气很好，和家人去公园散步", 171, "none", 0, (0, 1, 2), []),
    ("p15", "news", "人民网", "离婚冷静期引热议", "网友讨论离婚冷静期对家暴受害者的影响", 172, "policy", 2, (20, 20, 20), []),
    ("p16", "weibo", "赵六", None, "New York 时报报道了中国妇联的工作", 173, "image", 1, (7, 0, 7), []),
]

QUERIES = [
    "家暴", "暴", "妇联", "婦聯", "妇联 -招聘", "家暴 OR 性侵", "(家暴 | 性侵) 妇联", '"家 暴"', "abc",
    "ＡＢＣ 欺凌", '"new york"', "york", "妇女 NOT 儿童", "反家暴", "NOT 家暴 妇联", "不存在的词语", "",
    "家暴 -家庭暴力 -冷静期", "妇联 & (回应 | 回應)",
]


def rows() -> list[PostRow]:
    out = []
    for pid, platform, author, title, text, hours, cat, sev, (rp, cm, lk), _inc in POSTS:
        when = T0 + timedelta(hours=hours)
        out.append(PostRow(id=pid, platform=platform, author=author, title=title, text=text, published_at=when,
                           fetched_at=when, first_seen_at=when, last_seen_at=when, reposts=rp, comments=cm,
                           likes=lk, keywords=[], source="fixture", extra={}, category=cat, severity=sev))
    return out


def incidents() -> dict[str, list[int]]:
    return {p[0]: p[9] for p in POSTS}
