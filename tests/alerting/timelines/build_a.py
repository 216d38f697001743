"""Assembles the hand-written timelines tl_01..tl_06 from src_a/tl_NN.txt (helper A's files).

Every post text, author, label and figure is written by hand in the source file; this script only
assigns ids, URLs and fetch times, sorts by fetched_at, resolves repost references and writes
tl_NN.jsonl and tl_NN.events.json.  Run it after editing a source file; the outputs are committed.

Source format (one record a line, ``#`` starts a comment line):

``E id category peak_sev prov|city|county|town|village fa=0|1 as=0|1 :: summary :: notes``
``P day HH:MM delay platform author v|n followers category sev event|- r/c/l region|- [k=label]
[rt=label] [p=V|W|O|L|N|C|F|R|D|T|X] :: [title || ] text`` (``p`` is the perspective, see PERSPECTIVES); — ``delay`` is minutes (``6``) or hours (``3h``) to fetch;
a text starting with ``~`` is a repost comment: ``//@author:original`` is appended.
``A day HH:MM action label [:: reason] [:: url]`` — acts on the incident holding post ``label``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
TZ = ZoneInfo("Asia/Shanghai")

NEWS_HOSTS = {
    "澎湃新闻": "https://www.thepaper.cn/newsDetail_forward_{n}",
    "新京报": "https://www.bjnews.com.cn/detail/{n}.html",
    "中国新闻网": "https://www.chinanews.com.cn/sh/2026/{n}.shtml",
    "人民网": "http://society.people.com.cn/n1/2026/{n}.html",
    "新华网": "http://www.news.cn/local/2026/{n}.htm",
    "红星新闻": "https://static.cdsb.com/micropub/Articles/{n}.html",
    "极目新闻": "https://www.ctdsb.net/c1716_2026/{n}.html",
    "潇湘晨报": "https://www.xxcb.cn/details/{n}.html",
    "中国妇女报": "http://paper.cnwomen.com.cn/html/2026/{n}.htm",
    "封面新闻": "https://www.thecover.cn/news/{n}",
}


PERSPECTIVES = {"V": "victim_family", "W": "eyewitness", "O": "official", "L": "local_media",
                "N": "national_media", "C": "commentary", "F": "follow_up", "R": "rumour_or_question",
                "D": "debunk_or_correction", "T": "repost", "X": "unrelated_none", "?": "untagged"}


def _h(*parts: str) -> int:
    return int(hashlib.sha1("|".join(parts).encode()).hexdigest()[:15], 16)


def url_for(platform: str, author: str, pid: str) -> str:
    n = _h(platform, author, pid)
    if platform == "weibo":
        return f"https://weibo.com/{n % 9000000000 + 1000000000}/P{n % 10**9:09d}"
    if platform == "wechat":
        return f"https://mp.weixin.qq.com/s/{hashlib.md5(pid.encode()).hexdigest()[:22]}"
    if platform == "news":
        tpl = NEWS_HOSTS.get(author, "https://news.sina.com.cn/s/2026/doc-i{n}.shtml")
        return tpl.format(n=n % 10**8)
    if platform == "douyin":
        return f"https://www.douyin.com/video/7{n % 10**18:018d}"
    if platform == "toutiao":
        return f"https://www.toutiao.com/article/7{n % 10**18:018d}/"
    if platform == "tieba":
        return f"https://tieba.baidu.com/p/{n % 10**10}"
    if platform == "bilibili":
        return f"https://www.bilibili.com/video/BV1{hashlib.md5(pid.encode()).hexdigest()[:9]}"
    if platform == "zhihu":
        return f"https://www.zhihu.com/question/{n % 10**9}/answer/{n % 10**10}"
    if platform == "kuaishou":
        return f"https://www.kuaishou.com/short-video/3x{hashlib.md5(pid.encode()).hexdigest()[:13]}"
    if platform == "xiaohongshu":
        return f"https://www.xiaohongshu.com/explore/{hashlib.md5(pid.encode()).hexdigest()[:24]}"
    if platform == "rss":
        return f"https://rss.example-news.cn/item/{n % 10**8}"
    return f"https://www.gov-portal.cn/xxgk/2026/{n % 10**7}.html"


def build(num: str) -> None:
    src = HERE / "src_a" / f"tl_{num}.txt"
    start: datetime | None = None
    held_out = False
    events: list[dict] = []
    posts: list[dict] = []
    actions: list[tuple[datetime, dict, str]] = []
    labels: dict[str, dict] = {}
    perspectives: Counter = Counter()
    for lineno, raw in enumerate(src.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            kind, rest = line.split(" ", 1)
            if kind == "S":
                d, held = rest.split()
                start = datetime.fromisoformat(d).replace(tzinfo=TZ)
                held_out = held == "held"
            elif kind == "E":
                meta, summary, notes = (x.strip() for x in rest.split("::"))
                eid, cat, sev, place, fa, asg = meta.split()
                pv = [None if x == "-" else x for x in place.split("|")]
                events.append({"id": f"tl{num}-{eid}", "category": cat, "peak_severity": int(sev),
                               "place": dict(zip(["province", "city", "county", "town", "village"], pv, strict=True)),
                               "summary": summary, "false_alarm": fa == "fa=1",
                               "aftermath_surge": asg == "as=1",
                               "expect": {"opens_at_post": None, "responded": False, "notes": notes}})
            elif kind == "P":
                meta, text = rest.split("::", 1)
                f = meta.split()
                day, hm, delay, plat, author, ver, fol, cat, sev, ev, eng, region = f[:12]
                opts = dict(o.split("=", 1) for o in f[12:])
                assert start is not None
                hh, mm = hm.split(":")
                pub = start + timedelta(days=int(day) - 1, hours=int(hh), minutes=int(mm))
                dl = timedelta(hours=float(delay[:-1])) if delay.endswith("h") else timedelta(minutes=int(delay))
                r, c, lk = (int(x) for x in eng.split("/"))
                text = text.strip()
                title = None
                if " || " in text:
                    title, text = (x.strip() for x in text.split(" || ", 1))
                p: dict = {"id": None, "platform": plat, "url": None, "author": author,
                           "author_verified": ver == "v", "author_followers": int(fol)}
                if title:
                    p["title"] = title
                p.update({"text": text, "published_at": pub.isoformat(), "fetched_at": (pub + dl).isoformat(),
                          "reposts": r, "comments": c, "likes": lk})
                if region != "-":
                    p["region"] = region
                if "rt" in opts:
                    orig = labels[opts["rt"]]
                    p["repost_of"] = orig
                    if text.startswith("~"):
                        body = orig["text"]
                        p["text"] = (text[1:] + "//@" + orig["author"] + ":" + body)[:600]
                p.update({"category": cat, "severity": int(sev), "event": None if ev == "-" else f"tl{num}-{ev}"})
                p["_line"] = lineno
                perspectives[opts.get("p", "?")] += 1
                posts.append(p)
                if "k" in opts:
                    labels[opts["k"]] = p
            elif kind == "A":
                parts = [x.strip() for x in rest.split("::")]
                day, hm, act, lab = parts[0].split()
                assert start is not None
                hh, mm = hm.split(":")
                at = start + timedelta(days=int(day) - 1, hours=int(hh), minutes=int(mm))
                a: dict = {"action": act, "at": at.isoformat(), "post_id": lab}
                if len(parts) > 1 and parts[1]:
                    a["reason"] = parts[1]
                if len(parts) > 2 and parts[2]:
                    a["url"] = parts[2]
                actions.append((at, a, lab))
            else:
                raise ValueError(f"unknown record kind {kind!r}")
        except Exception as exc:  # noqa: BLE001 - report the line and stop
            sys.exit(f"{src}:{lineno}: {exc}")
    posts.sort(key=lambda p: (p["fetched_at"], p["_line"]))
    for i, p in enumerate(posts, 1):
        p["id"] = f"tl{num}-{i:04d}"
        p["url"] = url_for(p["platform"], p["author"], p["id"])
    for p in posts:
        if "repost_of" in p:
            p["repost_of"] = p["repost_of"]["id"]
        del p["_line"]
    by_event: dict[str, list[dict]] = {}
    for p in posts:
        if p["event"]:
            by_event.setdefault(p["event"], []).append(p)
    resolved = []
    for at, a, lab in actions:
        a["post_id"] = labels[lab]["id"]
        resolved.append((at, a))
        ev = labels[lab]["event"]
        if a["action"] == "respond" and ev:
            for e in events:
                if e["id"] == ev:
                    e["expect"]["responded"] = True
    for e in events:
        e["expect"]["opens_at_post"] = by_event[e["id"]][0]["id"] if e["id"] in by_event else None
    lines: list[tuple[str, int, dict]] = [(p["fetched_at"], 0, p) for p in posts]
    lines += [(datetime.fromisoformat(a["at"]).isoformat(), 1, a) for _, a in resolved]
    lines.sort(key=lambda x: (datetime.fromisoformat(x[0]), x[1]))
    out = HERE / f"tl_{num}.jsonl"
    out.write_text("".join(json.dumps(x[2], ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    assert start is not None
    meta = {"timeline": f"tl_{num}", "start": start.isoformat(), "held_out": held_out, "events": events}
    (HERE / f"tl_{num}.events.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n",
                                                encoding="utf-8")
    print(f"tl_{num}: {len(posts)} posts, {len(events)} events, {len(resolved)} actions; perspectives",
          " ".join(f"{PERSPECTIVES[k]}={v}" for k, v in sorted(perspectives.items())))


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        build(arg)
