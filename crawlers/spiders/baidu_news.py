"""baidu_news: Baidu news search, newest first (tn=news&rtt=4).

Guarantees per result (div.result-op / legacy div.result; side widgets such as tpl=right_toplist1
and srcid=rs are skipped): ``url`` is the real article (the container's ``mu`` when the link is a
baidu.com jump), ``title``/``text``/``author``/``published_at`` from the hashed-class markup
(aria-label "新闻来源：…" / "发布于：…" when the text is missing), else from the legacy
``p.c-author`` line, else from the result's ``<!--s-data:{…}-->`` JSON. A 200 "百度安全验证"
page or a redirect to wappass.baidu.com pauses the source (see crawlers.middlewares).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers.selectors import BAIDU_NEWS as SEL
from crawlers.selectors import BAIDU_SDATA
from crawlers.spiders.base import BaseSpider

SEARCH_PATH = "/s?tn=news&rtt=4&word={q}&pn={pn}"
_SDATA = re.compile(BAIDU_SDATA, re.S)
_LEGACY = re.compile(r"^(.*?)\s+((?:\d{4}年)?\d{1,2}月\d{1,2}日.*|\d+\s*(?:分钟|小时|天)前|昨天.*|前天.*|今天.*)$")


def url_id(prefix: str, url: str) -> str:
    return f"{prefix}:{hashlib.sha1(url.encode('utf-8')).hexdigest()[:20]}"


def _label_value(label: str | None) -> str | None:
    """"新闻来源：新京报" → "新京报"; "发布于：2小时前" is left whole (parse_date reads the label)."""
    if not label:
        return None
    return re.split(r"[:：]", label, maxsplit=1)[-1].strip() or None


def s_data(result: Any) -> dict[str, Any]:
    match = _SDATA.search(result.get())
    if not match:
        return {}
    try:
        data = json.loads(match.group(1))
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


class BaiduNewsSpider(BaseSpider):
    name = "baidu_news"
    platform = "news"
    site = "https://www.baidu.com"

    def page_request(self, keyword: str, page: int) -> scrapy.Request:
        url = self.url(SEARCH_PATH.format(q=quote(keyword), pn=10 * (page - 1)))
        return scrapy.Request(url, callback=self.parse, cb_kwargs={"keyword": keyword, "page": page})

    async def start(self) -> Any:
        for keyword in self.keywords:
            yield self.page_request(keyword, 1)

    def parse(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        results = [r for r in response.css(SEL["result"])
                   if r.attrib.get("tpl") not in SEL["widget_tpls"] and r.attrib.get("srcid") not in SEL["widget_srcids"]]
        entries: list[tuple[str, Any]] = []
        for result in results:
            post = self.result_post(response, result)
            if post is None:
                continue
            entries.append((post["id"], post.get("published_at")))
            if not self.skip_old(post):
                yield post
        if not entries:
            if not results and not response.css(SEL["no_result"]):
                self.malformed(response, "百度新闻结果页没有找到结果")
            return
        has_next = any(SEL["next_label"] in "".join(a.css("::text").getall()) for a in response.css(SEL["next"]))
        if has_next and page < self.max_pages and not self.page_exhausted(entries):
            yield self.page_request(keyword, page + 1)

    def result_post(self, response: Response, result: Any) -> dict[str, Any] | None:
        data = s_data(result)
        link = result.css(SEL["title_link"])
        href = link[0].attrib.get("href", "") if link else ""
        mu = result.attrib.get("mu", "")
        if mu.startswith("http") and (not href or "baidu.com/link" in href):
            href = mu
        href = href or str(data.get("titleUrl") or "")
        if not href:
            return None
        url = response.urljoin(href)
        summary = result.css(SEL["summary"])
        author = ((result.css(SEL["source"]).get() or "").strip()
                  or _label_value(result.css(SEL["source_label"]).get()))
        when = (result.css(SEL["time"]).get() or "").strip() or result.css(SEL["time_label"]).get()
        legacy = result.css(SEL["author_legacy"])
        if legacy and not (author and when):
            line = " ".join(t.strip() for t in legacy[0].css("::text").getall() if t.strip())
            match = _LEGACY.match(line.replace("\xa0", " "))
            if match:
                author, when = author or match.group(1).strip() or None, when or match.group(2).strip()
        post: dict[str, Any] = {
            "id": url_id("news", url),
            "platform": self.platform,
            "url": url,
            "title": link[0].get() if link else str(data.get("title") or ""),
            "text": (summary[0].get().replace(legacy[0].get(), "") if legacy else summary[0].get()) if summary
            else str(data.get("summary") or ""),
            "author": author or (str(data.get("sourceName") or "").strip() or None),
            "published_at": when or (str(data.get("dispTime") or "").strip() or None),
        }
        return {k: v for k, v in post.items() if v is not None}
