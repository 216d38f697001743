"""Every time a person reads is Beijing time and every platform has its Chinese name: pages, CSV,
reports, messages. The checks look at what a reader sees (page text without tags and attributes,
CSV cells) and fail on a UTC ISO time (``…T07:40:00+00:00``) or a raw platform code (``weibo``)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting import messages
from tests.web.conftest import login
from yuqing.db.models import IncidentRow, PostRow
from yuqing.platforms import PLATFORM_ZH, platform_zh
from yuqing.runtime import Runtime
from yuqing.timeutil import fmt_local, to_shanghai

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?")
RAW_CODE = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(PLATFORM_ZH, key=len, reverse=True)) + r")(?![A-Za-z0-9_])")


def visible_text(page: str) -> str:
    """What a reader sees: no scripts/styles, no tags (so no attribute values), entities decoded."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"(?s)<[^>]*>", " ", page))


def assert_readable(text: str, where: str) -> None:
    assert not ISO_TIME.findall(text), f"{where}: ISO time shown to a person: {ISO_TIME.findall(text)[:3]}"
    assert not RAW_CODE.findall(text), f"{where}: raw platform code shown: {RAW_CODE.findall(text)[:3]}"


def _published(rt: Runtime, post_id: str) -> str:
    with rt.session() as s:
        return fmt_local(s.get(PostRow, post_id).published_at)


def test_checker_catches_what_the_pages_used_to_show() -> None:
    """The checks themselves: the old rendering (UTC ISO, raw code) is caught, the new one is not."""
    old = '<div class="meta">weibo · 江城热点 · 2026-12-01T07:40:00+00:00</div>'
    new = '<div class="meta">微博 · 江城热点 · <time datetime="2026-12-01T07:40:00+00:00">2026-12-01 15:40</time></div>'
    for bad in (old, "<td>news</td>", "<td>2026-12-01T15:40:00+08:00</td>"):
        try:
            assert_readable(visible_text(bad), "sample")
        except AssertionError:
            continue
        raise AssertionError(f"not caught: {bad}")
    assert_readable(visible_text(new), "sample")
    assert fmt_local("2026-12-01T07:40:00+00:00") == "2026-12-01 15:40"


def test_pages_show_beijing_time_and_chinese_platforms(client: TestClient, web_rt: Runtime) -> None:
    login(client, "admin1")
    with web_rt.session() as s:
        inc = s.scalar(select(IncidentRow.id))
    expected = _published(web_rt, "w:1")
    pages = {
        "search": client.get("/search", params={"q": "家暴 OR 表彰"}),
        "incident": client.get(f"/incidents/{inc}"),
        "original": client.get("/posts/original", params={"id": "w:1"}),
        "admin preview": client.get("/admin/preview", params={"q": "家暴"}),
        "report": client.get("/reports", params={"kind": "incident", "incident": inc}),
        "board": client.get("/"),
        "tokens": client.get("/tokens"),
    }
    for name, resp in pages.items():
        assert resp.status_code == 200, (name, resp.status_code)
        assert_readable(visible_text(resp.text), name)
    search = visible_text(pages["search"].text)
    assert "微博" in search and "新闻" in search and expected in search
    incident = visible_text(pages["incident"].text)
    assert "微博" in incident and expected in incident
    assert "微博" in visible_text(pages["original"].text) and expected in visible_text(pages["original"].text)
    assert "微博" in visible_text(pages["admin preview"].text)


def test_csv_export_in_beijing_time_with_chinese_names(client: TestClient, web_rt: Runtime) -> None:
    login(client, "ana1")
    resp = client.get("/search.csv", params={"q": "家暴 OR 表彰"})
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][1] == "平台" and rows[0][5] == "发布时间（北京时间）"
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["w:1"][1] == "微博" and by_id["n:1"][1] == "新闻"
    with web_rt.session() as s:
        published = s.get(PostRow, "w:1").published_at
    assert by_id["w:1"][5] == to_shanghai(published).strftime("%Y-%m-%d %H:%M:%S")
    assert by_id["w:1"][9] == "权益侵害类" and by_id["w:1"][10].startswith("较大")
    for row in rows[1:]:
        assert_readable(" ".join(row[1:11]), f"CSV row {row[0]}")  # the id and the link are machine text


def test_reports_markdown_and_docx_text(client: TestClient, web_rt: Runtime) -> None:
    login(client, "resp1")
    with web_rt.session() as s:
        inc = s.scalar(select(IncidentRow.id))
    md = client.get("/reports/incident.md", params={"incident": inc})
    assert md.status_code == 200
    assert_readable(md.text, "incident report md")
    assert "平台分布" in md.text and "微博 2 条" in md.text
    assert "［微博］" in md.text  # the top posts
    from docx import Document

    doc = Document(io.BytesIO(client.get("/reports/incident.docx", params={"incident": inc}).content))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert_readable(text, "incident report docx")
    assert "[微博]" in text


def test_messages_name_platforms_in_chinese_and_times_in_beijing() -> None:
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    payload = {"kind": "new_incident", "incident_id": 7, "title": "测试事件", "category": "rights", "severity": 2,
               "stage": "warning", "deadline": "2026-03-02T13:00:00+00:00",
               "top_posts": [{"platform": "wechat", "author": "公众号", "text": "内容"},
                             {"platform": "xiaohongshu", "author": "博主", "text": "笔记"}]}
    text = messages.plain_text(payload, now)
    assert "[微信公众号]" in text and "[小红书]" in text
    assert "2026-03-02 21:00" in text
    assert_readable(text, "message")


def test_platform_names() -> None:
    for code, name in {"weibo": "微博", "wechat": "微信公众号", "news": "新闻", "douyin": "抖音", "tieba": "贴吧",
                       "bilibili": "B站", "toutiao": "今日头条", "zhihu": "知乎", "kuaishou": "快手",
                       "xiaohongshu": "小红书", "rss": "RSS/新闻"}.items():
        assert platform_zh(code) == name
    assert platform_zh(None) == "—" and platform_zh("my_forum") == "my_forum"


def test_offset_shown_where_it_is_not_plus_eight() -> None:
    # Asia/Shanghai kept summer time in 1986–1991: such a time says its offset
    assert fmt_local(datetime(1988, 6, 1, 1, 0, tzinfo=UTC)) == "1988-06-01 10:00（UTC+09:00）"
    assert fmt_local(datetime(2026, 6, 1, 1, 0, tzinfo=UTC)) == "2026-06-01 09:00"
