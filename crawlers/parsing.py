"""Parsing helpers shared by every spider and the normalisation pipeline.

HTML to text (emoticon alt text kept), text folding, dates of every form the sites use
(relative ones against an injected crawl time, Asia/Shanghai) and counts such as "1.2万".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from lxml import html as lxml_html

from yuqing.timeutil import SHANGHAI

_BLOCK_TAGS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
               "blockquote", "ul", "ol", "table", "pre", "header", "footer"}
_SPACES = re.compile(r"[ \t\f\v\u00a0\u3000]+")
_NEWLINES = re.compile(r"\s*\n\s*")
# zero-width characters and private-use icon-font glyphs (Weibo's "\ue627") carry no text
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\ue000-\uf8ff]")


def clean_text(text: str | None) -> str:
    """NFKC, drop zero-width/icon-font characters, collapse spaces, keep single line breaks, strip."""
    if not text:
        return ""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = _NEWLINES.sub("\n", text)
    return text.strip()


def html_to_text(markup: str | None) -> str:
    """Plain text from an HTML fragment: <br> and blocks become line breaks, <img alt> kept."""
    if not markup:
        return ""
    if "<" not in markup and "&" not in markup:
        return clean_text(markup)
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except Exception:  # lxml raises several types on junk; fall back to tag stripping
        return clean_text(re.sub(r"<[^>]+>", "", markup))
    for bad in root.xpath(".//script|.//style"):
        bad.drop_tree()
    parts: list[str] = []

    def walk(node: lxml_html.HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag == "br":
            parts.append("\n")
        elif tag == "img":
            parts.append(node.get("alt") or "")
        elif tag in _BLOCK_TAGS:
            parts.append("\n")
        if node.text and tag and tag not in ("br", "img"):  # comments have no str tag
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in _BLOCK_TAGS:
            parts.append("\n")

    walk(root)
    return clean_text("".join(parts))


# -- counts -------------------------------------------------------------------
_COUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿|[wWkK])?\s*\+?")
_UNITS = {"万": 10_000, "亿": 100_000_000, "w": 10_000, "W": 10_000, "k": 1_000, "K": 1_000}


def parse_count(value: object) -> int:
    """12, "1,234", "1.2万" → 12000, "3亿", "100万+" → 1000000; a label with no digits ("转发") → 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(f"计数无法解析: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"计数不能为负: {value}")
        return value
    if isinstance(value, float):
        if value < 0 or value != value:
            raise ValueError(f"计数无效: {value}")
        return int(value)
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "").strip()
    if not any(ch.isdigit() for ch in text):
        return 0  # label only: "转发", "评论", "赞"
    matches = list(_COUNT.finditer(text))
    if len(matches) != 1:
        raise ValueError(f"计数无法解析: {value!r}")
    match = matches[0]
    rest = (text[:match.start()] + text[match.end():]).strip()
    if rest and any(ch.isdigit() or ch in "-." for ch in rest):
        raise ValueError(f"计数无法解析: {value!r}")
    number = float(match.group(1))
    unit = _UNITS.get(match.group(2) or "", 1)
    return int(round(number * unit))


# -- dates --------------------------------------------------------------------
_RELATIVE = re.compile(r"^(\d+|半)\s*(秒|分钟|分|小时|个小时|天|周|个月)前$")
_DAY_WORD = re.compile(r"^(今天|昨天|前天)\s*(?:(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_YMD = re.compile(r"^(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?(?:[ T]*(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_MD = re.compile(r"^(\d{1,2})[-/月](\d{1,2})日?(?:\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
# "发布于 …", "发布于：2小时前" (NFKC turns "：" into ":"), "发布时间: …", "日期: …"
_LABEL = re.compile(r"^(?:(?:发布于|发表于|更新于|发布时间|更新时间|时间|日期)\s*:?|[^\d:]{1,6}:)\s*")
_EPOCH = re.compile(r"^\d{10}(\d{3})?$")
# RFC 822 "CST" is US Central to the email module; in Chinese feeds it is China Standard Time
_RFC_CST = re.compile(r"\s(?:CST|GMT\+0?8(?::?00)?|UTC\+0?8(?::?00)?|Beijing|BJT)$", re.I)
_RFC_ZONE = re.compile(r"(?:[+-]\d{4}|[A-Z]{1,5})$")
_UNITS_TIME = {"秒": "seconds", "分钟": "minutes", "分": "minutes", "小时": "hours", "个小时": "hours",
               "天": "days", "周": "weeks"}
_STEP = {"秒": timedelta(seconds=1), "分钟": timedelta(minutes=1), "分": timedelta(minutes=1),
         "小时": timedelta(hours=1), "个小时": timedelta(hours=1), "天": timedelta(days=1),
         "周": timedelta(weeks=1), "个月": timedelta(days=31)}
_EXACT = timedelta(0)
_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)



def count_or_none(value: object) -> int | None:
    """``parse_count`` for a payload field that may be missing: None for None, "" or an unreadable value."""
    if value in (None, ""):
        return None
    try:
        return parse_count(value)
    except ValueError:
        return None

def _local(now: datetime) -> datetime:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(SHANGHAI)


def parse_date(value: object, now: datetime) -> datetime:
    """Any date form the sites use → an aware datetime in Asia/Shanghai.

    ISO 8601, RFC 2822 (Weibo "Sat Jun 14 12:00:00 +0800 2025", RSS; "CST" and a missing zone
    mean China Standard Time, +08:00), epoch seconds or milliseconds, 刚刚, N秒/分钟/小时/天/周前,
    半小时前, 今天/昨天/前天 [HH:MM], MM-DD[ HH:MM] (this year, or last year when that would be in
    the future), YYYY-MM-DD / YYYY年M月D日[ HH:MM], each optionally after a label such as
    "发布于：". A date without a time is its midnight (see :func:`date_window` for the span).
    Raises ValueError with a Chinese reason.
    """
    return _parse(value, now)[0]


def date_window(value: object, now: datetime) -> tuple[datetime, datetime]:
    """The span of real times a displayed date can stand for, (earliest, latest).

    "06-27" → that whole day; "2小时前" → between 3 and 2 hours ago; "今天 12:30" → that minute;
    a full timestamp → itself. Incremental stops compare `since` with the latest end, so a
    post shown as "06-27" is never taken for older than it may be.
    """
    dt, span, backwards = _parse(value, now)
    return (dt - span, dt) if backwards else (dt, dt + span)


def _parse(value: object, now: datetime) -> tuple[datetime, timedelta, bool]:
    """(datetime, precision, whether the precision extends backwards from it)."""
    local_now = _local(now)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=SHANGHAI)).astimezone(SHANGHAI), _EXACT, False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(float(value)), _EXACT, False
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"时间无法解析: {value!r}")
    text = unicodedata.normalize("NFKC", value).strip()
    text = re.sub(r"\s+", " ", text)
    text = _LABEL.sub("", text)  # 发布于 / 发布于：/ 发布时间: / 日期: …
    if text == "刚刚":
        return local_now, _MINUTE, True
    if _EPOCH.match(text):
        return _from_epoch(float(text) / (1000 if len(text) == 13 else 1)), _EXACT, False
    m = _RELATIVE.match(text)
    if m:
        number, unit = m.groups()
        if unit == "个月":
            delta = timedelta(days=30 * (1 if number == "半" else int(number)))
        elif number == "半":
            delta = timedelta(**{_UNITS_TIME[unit]: 0.5})
        else:
            delta = timedelta(**{_UNITS_TIME[unit]: int(number)})
        return local_now - delta, _STEP[unit], True
    m = _DAY_WORD.match(text)
    if m:
        days = {"今天": 0, "昨天": 1, "前天": 2}[m.group(1)]
        day = (local_now - timedelta(days=days)).date()
        if m.group(2) is None:  # bare 昨天: the whole day
            return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI), _DAY, False
        hh, mm, ss = m.group(2), m.group(3), m.group(4)
        return _build(day.year, day.month, day.day, hh, mm, ss, value), _span(hh, ss), False
    m = _YMD.match(text)
    if m:
        y, mo, d, hh, mm, ss = m.groups()
        return _build(int(y), int(mo), int(d), hh, mm, ss, value), _span(hh, ss), False
    m = _MD.match(text)
    if m:
        mo, d, hh, mm, ss = m.groups()
        result = _build(local_now.year, int(mo), int(d), hh, mm, ss, value)
        if result > local_now + timedelta(days=1):
            result = _build(local_now.year - 1, int(mo), int(d), hh, mm, ss, value)
        return result, _span(hh, ss), False
    try:  # Weibo API: "Sat Jun 14 12:00:00 +0800 2025"
        return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y").astimezone(SHANGHAI), _EXACT, False
    except ValueError:
        pass
    iso_text = text[:-1] + "+00:00" if text.endswith("Z") else text
    try:
        parsed = datetime.fromisoformat(iso_text)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)).astimezone(SHANGHAI), _EXACT, False
    except ValueError:
        pass
    rfc = _RFC_CST.sub(" +0800", text)
    if not _RFC_ZONE.search(rfc):
        rfc += " +0800"  # a zone-less pubDate in a Chinese feed is Beijing time
    try:  # RFC 822 / 2822 as in RSS
        parsed = parsedate_to_datetime(rfc)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)).astimezone(SHANGHAI), _EXACT, False
    except (TypeError, ValueError, IndexError):
        pass
    raise ValueError(f"时间无法解析: {value!r}")


def _span(hh: str | None, ss: str | None) -> timedelta:
    """Precision of a displayed clock time: none → the day, HH:MM → the minute, HH:MM:SS → exact."""
    if hh is None:
        return _DAY
    return _EXACT if ss is not None else _MINUTE


# -- Weibo ids carry their creation time -----------------------------------------
_WEIBO_EPOCH_OFFSET = 515483463  # seconds; checked on the captured payloads (see tests/crawlers/fixtures)


def weibo_mid_time(mid: object) -> datetime | None:
    """Creation time encoded in a 16-digit Weibo mid ((mid >> 22) + 515483463 = Unix seconds).

    Verified against payloads whose `created_at` is complete (/statuses/show 4383411844046171 →
    2019-06-15 11:44:46, a 2022 timeline repost and its original: within a second). None for
    ids that do not look like mids (our synthetic fixtures, bids).
    """
    text = str(mid or "")
    if not text.isdigit() or len(text) != 16:
        return None
    try:
        return datetime.fromtimestamp((int(text) >> 22) + _WEIBO_EPOCH_OFFSET, UTC).astimezone(SHANGHAI)
    except (OverflowError, OSError, ValueError):
        return None


def refine_with_mid(raw: object, mid: object, now: datetime) -> object:
    """The mid's exact time when the displayed date ("06-27", "15小时前", "昨天 12:30") is coarse
    and the mid falls inside the span it stands for; otherwise the displayed value unchanged."""
    exact = weibo_mid_time(mid)
    if exact is None or raw in (None, ""):
        return raw
    try:
        low, high = date_window(raw, now)
    except ValueError:
        return raw
    if low == high:
        return raw
    if low - timedelta(seconds=2) <= exact <= high + timedelta(seconds=2):
        return iso(exact)
    return raw


def _build(y: int, mo: int, d: int, hh: str | None, mm: str | None, ss: str | None, raw: object) -> datetime:
    try:
        return datetime(y, mo, d, int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=SHANGHAI)
    except ValueError:
        raise ValueError(f"时间无法解析: {raw!r}") from None


def _from_epoch(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC).astimezone(SHANGHAI)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"时间戳无效: {seconds!r}") from None


def iso(dt: datetime) -> str:
    """ISO 8601 in +08:00 without microseconds."""
    return dt.astimezone(SHANGHAI).replace(microsecond=0).isoformat()
