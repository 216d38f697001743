"""Privacy masker on the planted-PII corpus: leaks, wrongly masked ordinary items, throughput.

    .venv/bin/python bench/pii_bench.py [--part tuning|heldout] [--show N]

For the tuning and the held-out part separately (tests/privacy/, README there): posts, planted items,
leaked (a planted value still readable in the output, verbatim or with its digits normalised: must be 0),
ordinary items wrongly masked (count and %, target <= 1 %), and masking throughput (posts/s of about 200
characters, one core). Every post is masked through ``mask_post`` (title and text together). The baseline
is the masker as it was before issue 13 (``baseline_mask`` below, copied verbatim from git), on the same
corpus, title and text masked separately as it was called then.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.privacy.corpus import PARTS, leaks, load_corpus, survives  # noqa: E402
from yuqing.privacy import mask, mask_post  # noqa: E402

# ---------------------------------------------------------------------------------------------------
# BASELINE: the masker before issue 13, copied verbatim from `git show ab38caf:yuqing/privacy.py`.
# Only here for comparison; the product uses yuqing.privacy.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ](\d{7,8})(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_ADDRESS = re.compile(
    r"([\u4e00-\u9fa5]{1,12}(?:路|街|大道|巷|胡同|弄|村|小区|社区|花园|公寓|大厦))"
    r"[\u4e00-\u9fa5\d一二三四五六七八九十零百\-]{0,12}?\d+\s*(?:号|栋|幢|单元|室|楼|号楼)"
    r"(?:[\d\-]*\s*(?:号|栋|幢|单元|室|楼|层))*"
)
_MINOR_NAMED = re.compile(
    r"(女童|男童|幼童|女孩|男孩|学生|女生|男生|孩子|未成年人|受害人|受害者|被害人|当事人)"
    r"(?![被在的遭于因与和及是已曾将从向对称说])([\u4e00-\u9fa5]{2,3}?)"
    r"(?=[，,。；;、：:！!？?（(\s]|$|今年|年仅|\d|的|被|遭|在|于|因|称|说|等|家|父|母|与|和|电话|手机|身份|住|现|系|为|同学|女士|先生)"
)
_NAME_AGE = re.compile(r"(?<![\u4e00-\u9fa5])([\u4e00-\u9fa5]{2,3})([（(]?(?:[1-9]|1[0-7])岁[)）]?)")
_SURNAME_OK = set("某")
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜"
    "冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝小阿"
)
_NOT_NAMES = {"今年", "年仅", "刚满", "已经", "大约", "只有", "仅仅", "当时", "目前", "现年", "孩子", "女儿", "儿子",
              "女孩", "男孩", "女童", "男童", "学生", "该生", "其中", "一名", "一个", "年满", "不满", "未满"}


def _b_mask_name(name: str) -> str:
    if all(ch in _SURNAME_OK for ch in name[1:]):
        return name
    return name[0] + "某" * (len(name) - 1)


def baseline_mask(text: str | None) -> str:
    """BASELINE (pre-issue-13 yuqing.privacy.mask), kept for comparison only."""
    if not text:
        return ""
    text = _ID_CARD.sub(lambda m: m.group(1) + "********" + "****", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****", text)
    text = _EMAIL.sub("***@***", text)
    text = _ADDRESS.sub(lambda m: m.group(1) + "***", text)
    text = _MINOR_NAMED.sub(
        lambda m: m.group(0) if m.group(2) in _NOT_NAMES or m.group(2)[:2] in _NOT_NAMES
        or m.group(2)[0] not in _SURNAMES else m.group(1) + _b_mask_name(m.group(2)), text)
    return _NAME_AGE.sub(
        lambda m: m.group(0) if m.group(1) in _NOT_NAMES or m.group(1)[-2:] in _NOT_NAMES
        or m.group(1)[0] not in _SURNAMES else _b_mask_name(m.group(1)) + m.group(2), text)
# --------------------------------------------------------------------------------- end of BASELINE


def masked_output(post: dict, masker: str = "ours") -> str:
    """The post's title and text after masking, joined by a newline (what an exit would show)."""
    if masker == "ours":
        out = mask_post(post)
        return f"{out.get('title', '')}\n{out['text']}"
    return f"{baseline_mask(post.get('title', ''))}\n{baseline_mask(post['text'])}"


def evaluate(posts: list[dict], masker: str = "ours") -> dict:
    planted = leaked = keep = wrong = 0
    leaked_items: list[tuple[str, dict, str]] = []
    wrong_items: list[tuple[str, dict, str]] = []
    leaked_kinds: Counter[str] = Counter()
    for post in posts:
        out = masked_output(post, masker)
        for item in post["planted"]:
            planted += 1
            if leaks(out, item):
                leaked += 1
                leaked_kinds[item["kind"]] += 1
                leaked_items.append((post["id"], item, out))
        for item in post["keep"]:
            keep += 1
            if not survives(out, item):
                wrong += 1
                wrong_items.append((post["id"], item, out))
    return {"posts": len(posts), "planted": planted, "leaked": leaked, "keep": keep, "wrong": wrong,
            "wrong_pct": 100.0 * wrong / keep if keep else 0.0, "leaked_kinds": dict(leaked_kinds),
            "leaked_items": leaked_items, "wrong_items": wrong_items}


def throughput(texts: list[str], fn, seconds: float = 1.0) -> float:
    """Posts per CPU second of ``fn`` over ``texts`` (200 characters each) on one core.

    CPU time of this process (``time.process_time``), not wall time, so that other work on a shared
    machine does not count against the masker; the best of three rounds is reported.
    """
    best = 0.0
    for _ in range(3):
        done, start = 0, time.process_time()
        while time.process_time() - start < seconds / 3:
            for t in texts:
                fn(t)
            done += len(texts)
        best = max(best, done / (time.process_time() - start))
    return best


def _texts_of_200(posts: list[dict]) -> list[str]:
    """Post texts padded (by the next post's text) or cut to 200 characters."""
    texts = []
    for i, post in enumerate(posts):
        t = post["text"]
        j = i + 1
        while len(t) < 200:
            t += "。" + posts[j % len(posts)]["text"]
            j += 1
        texts.append(t[:200])
    return texts


def unlabelled_texts() -> list[str]:
    """Titles and texts of the classifier corpus (classifier/data/corpus/*.jsonl): news and posts with
    hardly any personal data, so every change the masker makes there is a candidate false positive."""
    texts: list[str] = []
    for path in sorted((ROOT / "classifier" / "data" / "corpus").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            try:
                post = json.loads(line)
            except json.JSONDecodeError:
                continue
            texts += [t for t in (post.get("title"), post.get("text")) if isinstance(t, str) and t]
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=PARTS, action="append", help="only this part (repeatable)")
    ap.add_argument("--show", type=int, default=0, help="print up to N leaked and N wrongly masked items")
    args = ap.parse_args()
    parts = args.part or list(PARTS)
    print("part      masker    posts planted leaked  keep wrong  wrong%   posts/CPU-s (200 chars)")
    for part in parts:
        posts = load_corpus(part)
        texts = _texts_of_200(posts)
        for masker, fn in (("ours", mask), ("baseline", baseline_mask)):
            r = evaluate(posts, masker)
            speed = throughput(texts, fn)
            print(f"{part:9} {masker:9} {r['posts']:5} {r['planted']:7} {r['leaked']:6} {r['keep']:5} "
                  f"{r['wrong']:5} {r['wrong_pct']:6.2f}%  {speed:9,.0f}")
            if masker == "baseline" and r["leaked_kinds"]:
                print(f"{'':19}baseline leaks by kind: {dict(sorted(r['leaked_kinds'].items()))}")
            if args.show and masker == "ours":
                for pid, item, out in r["leaked_items"][:args.show]:
                    print(f"  LEAK  {pid} {item['kind']}: {item['value']!r}\n        {out!r}")
                for pid, item, out in r["wrong_items"][:args.show]:
                    print(f"  WRONG {pid} {item['kind']}: {item['value']!r}\n        {out!r}")
    texts = unlabelled_texts()
    if texts:
        ours = sum(mask(t) != t for t in texts)
        base = sum(baseline_mask(t) != t for t in texts)
        print(f"classifier corpus (unlabelled, {len(texts)} titles/texts): changed by ours {ours} "
              f"({100.0 * ours / len(texts):.2f}%), by baseline {base} ({100.0 * base / len(texts):.2f}%)")


if __name__ == "__main__":
    main()
