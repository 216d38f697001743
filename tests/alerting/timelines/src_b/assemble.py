"""Assembler of timelines tl_07-12 (kept for audit): hand-written tl_NN.src -> jsonl + events json.

Only assigns ids/times/urls and validates; every text is written by hand in the .src file.
"""
import hashlib
import json
import sys
from collections import Counter
from datetime import datetime, timedelta

OUT = "/work/main/tests/alerting/timelines"
CATS = {"policy", "rights", "image", "work", "emergency", "none"}
NEWS = {
    "新华网": "https://www.news.cn/local/{y}/{md}/{h32}/c.html",
    "人民网": "http://society.people.com.cn/n1/{y}/{md}/c1008-{n8}.html",
    "央视新闻": "https://news.cctv.com/{y}/{m}/{d}/ARTI{h20}.shtml",
    "澎湃新闻": "https://www.thepaper.cn/newsDetail_forward_{n8}",
    "中国新闻网": "https://www.chinanews.com.cn/sh/{y}/{m}-{d}/{n8}.shtml",
    "红星新闻": "https://news.chengdu.cn/{y}/{md}/{n8}.shtml",
    "极目新闻": "https://www.ctdsb.net/c1476_{y}{m}/{n8}.html",
    "封面新闻": "https://www.thecover.cn/news/{n8}",
    "新京报": "https://www.bjnews.com.cn/detail/{n10}.html",
    "中国妇女报": "https://www.cnwomen.com.cn/{y}/{m}/{d}/{n8}.html",
    "潇湘晨报": "https://www.xxcb.cn/details/{h20}.html",
    "大河报": "https://news.dahe.cn/{y}/{m}-{d}/{n8}.html",
    "南方都市报": "https://www.oeeee.com/html/{y}{m}/{d}/{n8}.html",
    "齐鲁晚报": "https://www.qlwb.com.cn/detail/{n8}.html",
    "北京青年报": "https://www.ynet.com/{y}/{m}/{d}/{n8}t70.html",
    "新民晚报": "https://wap.xinmin.cn/content/{n8}.html",
    "中国青年报": "https://zqb.cyol.com/html/{y}-{m}/{d}/nw.D110000zgqnb_{y}{m}{d}_{n1}-03.htm",
    "光明网": "https://m.gmw.cn/{y}-{m}/{d}/content_{n8}.htm",
    "法治日报": "http://www.legaldaily.com.cn/society/content/{y}-{m}/{d}/content_{n7}.html",
}


def h(key: str, n: int, digits: bool = True) -> str:
    s = hashlib.sha256(key.encode()).hexdigest()
    if digits:
        return "".join(str(int(c, 16) % 10) for c in (s * 2))[:n].lstrip("0").rjust(n, "7")
    return s[:n]


def url_for(tl: str, key: str, plat: str, author: str, t: datetime) -> str:
    k = tl + key
    y, m, d = f"{t.year}", f"{t.month:02d}", f"{t.day:02d}"
    fmt = dict(y=y, m=m, d=d, md=m + d, n1="1", n7=h(k, 7), n8=h(k, 8), n10=h(k, 10),
               h20=h(k, 20, False), h32=h(k, 32, False))
    if plat in ("news", "rss", "web"):
        for name, pat in NEWS.items():
            if name in author:
                return pat.format(**fmt)
        if plat == "rss":
            return f"https://rss.{h(k, 6, False)}.cn/feed/item/{h(k, 9)}"
        return f"https://www.{h(k, 5, False)}news.com.cn/{y}{m}/{d}/content_{h(k, 7)}.html"
    table = {
        "weibo": f"https://weibo.com/{h(k + 'u', 10)}/{h(k, 9, False)}",
        "wechat": f"https://mp.weixin.qq.com/s/{h(k, 22, False)}",
        "douyin": f"https://www.douyin.com/video/7{h(k, 18)}",
        "toutiao": f"https://www.toutiao.com/article/7{h(k, 18)}/",
        "tieba": f"https://tieba.baidu.com/p/9{h(k, 9)}",
        "bilibili": f"https://www.bilibili.com/video/BV1{h(k, 9, False)}",
        "zhihu": f"https://www.zhihu.com/question/6{h(k, 8)}/answer/1{h(k + 'a', 9)}",
        "kuaishou": f"https://www.kuaishou.com/short-video/3x{h(k, 13, False)}",
        "xiaohongshu": f"https://www.xiaohongshu.com/explore/{h(k, 24, False)}",
    }
    return table[plat]


def num(s: str) -> int:
    s = s.strip()
    if s.endswith("亿"):
        return int(float(s[:-1]) * 100000000)
    if s.endswith("万"):
        return int(float(s[:-1]) * 10000)
    return int(s)


def main(tl_num: str) -> None:
    tl = f"tl_{tl_num}"
    pre = f"tl{tl_num}"
    src = open(f"/tmp/tlb/{tl}.src", encoding="utf-8").read().splitlines()
    start = None
    held = False
    events = []
    posts = []
    actions = []
    for ln, line in enumerate(src, 1):
        if not line.strip() or line.startswith("#"):
            continue
        f = [x.strip() for x in line.split("|")]
        try:
            if line.startswith("T "):
                start = datetime.fromisoformat(f[1] + "T00:00:00+08:00")
                held = f[2] == "held"
            elif line.startswith("E "):
                eid, cat, peak, prov, city, county, town, vil, fa, surge, resp, summary, notes = f
                events.append(dict(id=f"{pre}-{eid[2:]}", category=cat, peak_severity=int(peak),
                                   place=dict(province=prov, city=city, county=None if county == "-" else county,
                                              town=None if town == "-" else town,
                                              village=None if vil == "-" else vil),
                                   summary=summary, false_alarm=fa == "1", aftermath_surge=surge == "1",
                                   expect=dict(responded=resp == "1", notes=notes)))
            elif line.startswith("!"):
                kind, when, key, reason, url = f
                dd, hm = when.split()
                t = start + timedelta(days=int(dd) - 1, hours=int(hm[:2]), minutes=int(hm[3:]))
                actions.append(dict(kind=kind[1:].strip(), t=t, key=key, reason=reason, url=url, ln=ln))
            else:
                key, when, delay, plat, author, fol, region, cs, ev, eng, pv, ref, title, text = f
                dd, hm = when.split()
                pub = start + timedelta(days=int(dd) - 1, hours=int(hm[:2]), minutes=int(hm[3:5]))
                fet = pub + timedelta(minutes=int(delay))
                cat, sev = cs.split()
                rp, cm, lk = (num(x) for x in eng.split("/"))
                posts.append(dict(key=key, pub=pub, fet=fet, plat=plat, author=author,
                                  verified=fol.endswith("v"), fol=num(fol.rstrip("v")),
                                  region=None if region == "-" else region, cat=cat, sev=int(sev),
                                  ev=None if ev == "-" else f"{pre}-{ev}",
                                  rp=rp, cm=cm, lk=lk, pv=pv, ref=None if ref == "-" else ref,
                                  title=None if title == "-" else title, text=text, ln=ln))
        except Exception as exc:  # noqa: BLE001
            sys.exit(f"{tl}.src line {ln}: {exc}: {line[:60]}")
    posts.sort(key=lambda p: (p["fet"], p["ln"]))
    bykey = {}
    for i, p in enumerate(posts, 1):
        if p["key"] in bykey:
            sys.exit(f"dup key {p['key']}")
        p["id"] = f"{pre}-{i:04d}"
        bykey[p["key"]] = p
    errs = []
    for p in posts:
        if p["cat"] not in CATS:
            errs.append(f"{p['key']}: bad cat")
        if (p["cat"] == "none") != (p["sev"] == 0) or not 0 <= p["sev"] <= 4:
            errs.append(f"{p['key']}: cat/sev")
        if p["ref"]:
            o = bykey.get(p["ref"])
            if o is None or o["fet"] > p["fet"] or o["id"] >= p["id"]:
                errs.append(f"{p['key']}: ref {p['ref']} not earlier")
            elif p["text"].endswith("//"):
                p["text"] = p["text"] + "@" + o["author"] + ":" + o["text"].split("//@")[0][:110]
        if not 20 <= len(p["text"]) <= 600:
            errs.append(f"{p['key']}: text len {len(p['text'])}")
        if p["ev"] and p["ev"] not in {e["id"] for e in events}:
            errs.append(f"{p['key']}: unknown event {p['ev']}")
    cnt = Counter(p["ev"] for p in posts if p["ev"])
    for e in events:
        if cnt[e["id"]] < 6:
            errs.append(f"{e['id']}: only {cnt[e['id']]} posts")
        eps = [p for p in posts if p["ev"] == e["id"]]
        if eps:
            keys = {p["key"] for p in eps}
            responded = any(a["kind"] == "respond" and a["key"] in keys for a in actions)
            e["expect"] = dict(opens_at_post=eps[0]["id"], responded=responded, notes=e["expect"]["notes"])
            mx = max(p["sev"] for p in eps)
            if mx != e["peak_severity"]:
                errs.append(f"{e['id']}: peak {e['peak_severity']} vs max {mx}")
            bad = [p["key"] for p in eps if p["cat"] != e["category"] and p["cat"] != "none"]
            if bad:
                print(f"note {e['id']}: posts with other category {bad}")
    for a in actions:
        if a["key"] not in bykey:
            errs.append(f"action line {a['ln']}: unknown key")
        elif a["t"] < bykey[a["key"]]["fet"]:
            errs.append(f"action line {a['ln']}: before its post")
    if errs:
        print("\n".join(errs))
        sys.exit(1)
    lines = []
    for p in posts:
        o = {"id": p["id"], "platform": p["plat"], "url": url_for(tl, p["key"], p["plat"], p["author"], p["pub"]),
             "author": p["author"], "author_verified": p["verified"], "author_followers": p["fol"]}
        if p["title"]:
            o["title"] = p["title"]
        o.update(text=p["text"], published_at=p["pub"].isoformat(), fetched_at=p["fet"].isoformat(),
                 reposts=p["rp"], comments=p["cm"], likes=p["lk"])
        if p["region"]:
            o["region"] = p["region"]
        if p["ref"]:
            o["repost_of"] = bykey[p["ref"]]["id"]
        o.update(category=p["cat"], severity=p["sev"], event=p["ev"])
        lines.append((p["fet"], 0, o))
    for a in actions:
        o = {"action": a["kind"], "at": a["t"].isoformat(), "post_id": bykey[a["key"]]["id"]}
        if a["reason"] != "-":
            o["reason"] = a["reason"]
        if a["url"] != "-":
            o["url"] = a["url"]
        lines.append((a["t"], 1, o))
    lines.sort(key=lambda x: (x[0], x[1]))
    with open(f"{OUT}/{tl}.jsonl", "w", encoding="utf-8") as fh:
        for _, _, o in lines:
            fh.write(json.dumps(o, ensure_ascii=False) + "\n")
    doc = {"timeline": tl, "start": start.isoformat(), "held_out": held, "events": events}
    with open(f"{OUT}/{tl}.events.json", "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    days = (max(p["fet"] for p in posts).date() - start.date()).days + 1
    stats = dict(tl=tl, held=held, days=days, events=len(events), posts=len(posts),
                 none=sum(p["ev"] is None for p in posts), reposts=sum(bool(p["ref"]) for p in posts),
                 late=sum((p["fet"] - p["pub"]) >= timedelta(hours=2) for p in posts), actions=len(actions),
                 pv=dict(Counter(p["pv"] for p in posts)), per_event=dict(cnt))
    json.dump(stats, open(f"/tmp/tlb/{tl}.stats.json", "w"), ensure_ascii=False)
    print(json.dumps(stats, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
