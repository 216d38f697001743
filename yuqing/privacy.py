"""Masking of personal data (seed 002, 信息安全与保密要求): every exit calls this module.

Guarantees of ``mask(text)``:

- ``mask(None) == ""``; the result is a ``str``; ``mask(mask(t)) == mask(t)`` (idempotent).
- ID-card numbers, mobile and landline numbers, bank-card numbers, e-mail addresses, WeChat/QQ ids,
  detailed home addresses, a minor's school and class, and the names of minors and victims next to their
  cues are replaced by partial forms that help the on-duty staff without identifying anyone:

  ============  =====================================  ====================================
  shape          example                                masked
  ============  =====================================  ====================================
  ID (18/15)     ``530102 19880412 5633`` / full-width   ``530102********5633`` (region, last 4)
  mobile         ``+86 139-1234-5678``                   ``+86 139****5678``
  landline       ``(0871)6512 3456转8021``               ``0871-****`` (area code kept)
  bank card      ``6222 0212 3456 7890`` (Luhn)          ``6222********7890`` (first/last 4)
  e-mail         ``zhangsan@qq.com``                     ``z***@qq.com`` (domain kept)
  WeChat/QQ      ``微信：abc_123`` / ``QQ 12345678``      ``微信：***`` / ``QQ ***``
  address        ``幸福路12号3栋2单元501室``              ``幸福路***`` (road/community kept)
  school+class   ``盘龙区光明小学三年级2班``              ``盘龙区某某小学三年级`` (name, class no. dropped)
  name           ``女童李小红`` / ``13岁的张小明`` / ``小芳``  ``女童李某某`` / ``13岁的张某某`` / ``小某``
  ============  =====================================  ====================================

- Never masked: dates, times, amounts, percentages, counts, ages without a name, case numbers of public
  notices (``（2024）苏0102民初1234号``), hotlines and service numbers (12338, 110, 12345, 400-xxx-xxxx),
  officials in their public roles (``县长李强``: no victim/minor cue), place names, and anything inside a
  URL or a post id written with its platform prefix (``weibo:4951234567890123``) — a URL is never altered.
- A 16–19 digit number written in groups of four is a bank card; written in one piece it is one if it
  passes the Luhn check, unless it follows a post-id cue (``微博ID``/``mid``/``订单号``…), or if it follows a
  card cue (``卡号``/``银行卡``/``账户``/``转账``…), whatever its check digit. A 16-digit post id without its prefix that happens to be Luhn-valid is
  therefore masked (first/last 4 kept): over-masking an id is preferred to leaking a card.
- A name followed by ``（化名`` is a pseudonym and stays; ``X某``/``X某某`` stay; an already anonymised
  school (``长沙某小学``) keeps its place name and loses only its class number.
- The masker cannot tell a home from an office: an institution's landline (``办公电话：0871-63123456``) and
  an address down to the house number (``人民中路1号``, ``万达广场3号门``) are masked too (privacy first).
- Known limit: a URL is kept whole, so a phone number written inside a URL's query stays readable.
- ``mask_then_cut(text, limit)`` masks first and cuts afterwards, never inside a masked token or a number.
- ``mask_fields``/``mask_post`` mask several fields of one record together, so a name found next to its cue
  in the body is masked in the title as well.

Callers: mask the plain text before escaping it for HTML/Markdown and before highlighting search hits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["mask", "mask_then_cut", "mask_fields", "mask_post"]

# --------------------------------------------------------------------------------------------- helpers
_FW_DIGITS = {ord(c): ord("0") + i for i, c in enumerate("０１２３４５６７８９")}
_FW_DIGITS.update({ord("Ｘ"): "X", ord("ｘ"): "X", ord("x"): "X"})
_D = "0-9０-９"  # digit class body (ASCII and full-width)
_SEP = " \u3000.\\-－–—"  # separators allowed inside a number (138.1234.5678 too)


def _ascii(s: str) -> str:
    return s.translate(_FW_DIGITS)


def _luhn(d: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(d)):
        n = ord(ch) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _valid_date(y: int, m: int, d: int) -> bool:
    return 1 <= m <= 12 and 1 <= d <= 31 and (1900 <= y <= 2099)


# ------------------------------------------------------------------ protected spans: URLs, ids, e-mails
_PLATFORMS = ("weibo|wechat|news|douyin|toutiao|tieba|bilibili|zhihu|kuaishou|xiaohongshu|rss|web|"
              "wb|dy|xhs|ks")
_URL = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_POST_ID = re.compile(rf"(?:{_PLATFORMS}):[A-Za-z0-9][A-Za-z0-9_\-]*")
_ALNUM = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _protected_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) of URLs and post ids (kept as they are) and e-mails (masked)."""
    spans: list[tuple[int, int, str]] = []
    if "://" in text or "www." in text:
        spans += [(m.start(), m.end(), m.group(0)) for m in _URL.finditer(text)]
    if "@" in text:
        spans += [(m.start(), m.end(), _mask_email(m.group(0))) for m in _EMAIL.finditer(text)]
    if ":" in text:
        spans += [(m.start(), m.end(), m.group(0)) for m in _POST_ID.finditer(text)
                  if not (m.start() and text[m.start() - 1] in _ALNUM)]
    spans.sort()
    out: list[tuple[int, int, str]] = []
    for span in spans:
        if not out or span[0] >= out[-1][1]:
            out.append(span)
    return out


def _mask_email(addr: str) -> str:
    local, _, domain = addr.rpartition("@")
    return f"{local[0]}***@{domain}"


# ------------------------------------------------------------------------------- WeChat / QQ ids
_IM = re.compile(
    r"(?<![A-Za-z])(?P<cue>微信号?|威信号?|薇信号?|[Vv]信|[Vv][Xx]|[Ww][Xx]|weixin|WeChat|wechat|[Vv](?=[ ]?[:：])|"
    r"[Qq][Qq]号?|扣扣号?|企鹅号?)"
    r"(?P<sep>(?:号码|账号|号|ID|id)?[ \t\u3000]*(?:也叫|也是|叫|是|为)?[ \t\u3000]*[:：=]?[ \t\u3000]*)"
    r"(?P<id>[A-Za-z0-9０-９Ａ-Ｚａ-ｚ][A-Za-z0-9０-９Ａ-Ｚａ-ｚ_\-]{4,29})(?![A-Za-z0-9_\-])"
)


# ------------------------------------------------------------------------ numbers: ID, phone, card
_PAREN_LANDLINE = re.compile(
    rf"[（(](?P<area>0[{_D}]{{2,3}})[)）][ \u3000\-－]?[{_D}]{{3,4}}[ \-－]?[{_D}]{{4}}(?![{_D}])"
)
# a run of at least 10 digits with short separators inside (``139 - 1234 - 5678``) (a country code 86 is part of the run)
_RUN = re.compile(rf"[{_D}](?:[{_SEP}]{{0,3}}[{_D}]){{9,}}(?:[XxＸｘ](?![A-Za-z0-9]))?")
_RUN_BLOCKED_BEFORE = set("0123456789０１２３４５６７８９.．")
_LETTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# letters glued to a number that still announce personal data: TEL13812345678, ID530102…
_LETTER_CUES = {"tel", "id", "no", "qq", "vx", "wx", "phone", "mobile", "mob", "cell", "sfz", "idcard", "card"}


def _glued_to_a_code(text: str, start: int) -> bool:
    """True if the number at ``start`` continues a decimal, a number or a code (A5301025…, 3.1415…)."""
    if not start:
        return False
    prev = text[start - 1]
    if prev in _RUN_BLOCKED_BEFORE:
        return True
    if prev not in _LETTERS:
        return False
    a = start - 1
    while a > 0 and text[a - 1] in _LETTERS:
        a -= 1
    return text[a:start].lower() not in _LETTER_CUES


_GROUP = re.compile(r"[0-9A-Z]+")
_MAX_DIGITS = 24
_ID_CUE = re.compile(r"身份证|证件号|身份号")
_CARD_CUE = re.compile(r"(?:卡号|银行卡|信用卡|储蓄卡|账号|帐号|账户|帐户|收款|转账|汇款|打款|卡)")
_POSTID_CUE = re.compile(r"(?:微博\s*ID|微博\s*id|博文|帖子|mid|MID|订单号|单号|编号|流水号|ID|id)[:：\s]*$")
_EXTENSION = re.compile(r"(?P<keep>0\d{2,3}-\*{4})(?P<sep>\s?(?:转|分机|ext\.?|EXT\.?|[-－]))\s?\d{1,6}")
_SHORT_LANDLINE = re.compile(
    rf"(?P<cue>(?:电话|座机|固话|联系方式|Tel|TEL|tel)(?:号码)?[ \u3000]*[:：]?[ \u3000]*)"
    rf"(?P<num>[2-8２-８][{_D}]{{2,3}}[ \-]?[{_D}]{{4}})(?![{_D}])"
)


_SHORT_LANDLINE_GATE = re.compile(r"电话|座机|固话|联系方式|[Tt][Ee][Ll]")


def _classify(groups: list[str], before: str) -> str | None:
    """Masked form of a number made of ``groups`` (ASCII digits), or None if it is not personal data."""
    d = "".join(groups)
    n = len(d)
    if "X" in d[:-1]:
        return None
    if n == 18 and d[0] != "0" and d[:17].isdigit():
        if _valid_date(int(d[6:10]), int(d[10:12]), int(d[12:14])):
            return d[:6] + "*" * 8 + d[14:]
    if 15 <= n <= 18 and _ID_CUE.search(before[-8:]):  # a mistyped ID number after its cue
        return d[:6] + "*" * (n - 10) + d[-4:]
    if "X" in d:
        return None
    if n == 15 and d[0] != "0" and 1 <= int(d[8:10]) <= 12 and 1 <= int(d[10:12]) <= 31:
        return d[:6] + "*" * 5 + d[11:]
    prefix, m = "", d
    if n == 15 and d.startswith("0086"):
        prefix, m = "0086 ", d[4:]
    elif n == 13 and d.startswith("86"):
        prefix, m = "86 ", d[2:]
    if len(m) == 11 and m[0] == "1" and m[1] in "3456789":
        return f"{prefix}{m[:3]}****{m[7:]}"
    if groups[0] == "86" and len(groups) >= 2 and groups[1][:1] != "0":  # +86-871-65123456
        inner = _classify(["0" + groups[1], *groups[2:]], before)
        if inner is not None and inner.endswith("-****"):
            return "86 " + inner
    if 10 <= n <= 12 and d[0] == "0" and d[1] != "0":
        if len(groups) >= 2 and len(groups[0]) in (3, 4) and groups[0][0] == "0":
            area = groups[0]
        else:
            area = d[:3] if d[1] in "12" else d[:4]
        rest = d[len(area):]
        if len(rest) in (7, 8) and rest[0] != "0":
            return f"{area}-****"
    if 16 <= n <= 19:
        in_fours = len(groups) >= 4 and all(len(g) == 4 for g in groups[:-1]) and 1 <= len(groups[-1]) <= 4
        if in_fours or len(groups) == 1:
            # written in groups of four, after a card cue, or Luhn-valid and not after a post-id cue
            if (in_fours or _CARD_CUE.search(before[-12:])
                    or (_luhn(d) and not _POSTID_CUE.search(before[-10:]))):
                return d[:4] + "*" * (n - 8) + d[-4:]
    return None


def _mask_numbers(text: str) -> str:
    out: list[str] = []
    last = 0
    for m in _RUN.finditer(text):
        if _glued_to_a_code(text, m.start()):
            continue
        body = _ascii(m.group(0))
        found = list(_GROUP.finditer(body))
        raw_groups = [g.group(0) for g in found]
        spans = [g.span() for g in found]  # positions of each group inside the body
        before = text[max(0, m.start() - 16):m.start()]
        pieces: list[str] = []
        i, n, cursor = 0, len(raw_groups), 0
        changed = False
        while i < n:
            hit = None
            top, digits = i, 0  # no personal number has more than 24 digits: bounds the search
            while top < n and digits + len(raw_groups[top]) <= _MAX_DIGITS:
                digits += len(raw_groups[top])
                top += 1
            for j in range(top, i, -1):
                cand = raw_groups[i:j]
                ctx = before if i == 0 else before + body[:spans[i][0]]
                masked = _classify(cand, ctx)
                if masked is None and j - i >= 3 and len(cand[-1]) <= 5:  # landline + extension
                    inner = _classify(cand[:-1], ctx)
                    if inner is not None and inner.endswith("-****"):
                        masked = inner
                if masked is not None:
                    hit = (j, masked)
                    break
            if hit is None:
                i += 1
                continue
            j, masked = hit
            pieces.append(m.group(0)[cursor:spans[i][0]])
            pieces.append(masked)
            cursor = spans[j - 1][1]
            i = j
            changed = True
        if not changed:
            continue
        pieces.append(m.group(0)[cursor:])
        out.append(text[last:m.start()])
        out.append("".join(pieces))
        last = m.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _mask_phones_and_ids(text: str) -> str:
    text = _PAREN_LANDLINE.sub(lambda m: f"{_ascii(m.group('area'))}-****", text)
    text = _mask_numbers(text)
    if "-****" in text:
        text = _EXTENSION.sub(lambda m: f"{m.group('keep')}{m.group('sep')}***", text)
    if _SHORT_LANDLINE_GATE.search(text):
        text = _SHORT_LANDLINE.sub(lambda m: f"{m.group('cue')}****", text)
    return text


# -------------------------------------------------------------------------------------- addresses
_NUM = r"(?:[0-9０-９]{1,5}|[一二三四五六七八九十百零〇两]{1,4}|[A-Za-zＡ-Ｚ](?![A-Za-z]))"
_UNIT = r"(?:号楼|号院|号|栋|幢|座|单元|楼|层|室|户|组|社|弄|期|区)(?![线车机位码床次届人名个岁]|[一二两三四]?[厅卫])"
_TOKEN = rf"(?:附|之)?{_NUM}(?:[-－]{_NUM}){{0,3}}[ ]?{_UNIT}"
_ADDRESS_DETAIL = re.compile(
    rf"(?<![0-9０-９A-Za-z月年第初执终字号之\-])(?:{_TOKEN})(?:[ ]?(?:{_TOKEN}))*"
    rf"(?:[-－]?(?:[0-9０-９]{{2,5}}|[一二三四五六七八九零〇]{{3,4}})(?![0-9０-９号栋幢室]))?"
)
_STRONG_UNIT = re.compile(r"号楼|号院|号|栋|幢|座|单元|室|组|弄|户")
_BUILDING_UNIT = re.compile(r"号楼|栋|幢|单元|室")
_ADDRESS_ANCHOR = re.compile(
    r"(?:路|街|巷|大道|道|弄|胡同|里|村|屯|寨|庄|小区|花园|苑|园|大厦|公寓|社区|新村|广场|中心|城|宿舍|"
    r"大院|公馆|小镇|市场|商城|一期|二期|三期|家住|住在|住址|地址|现住|居住)"
)
_CLAUSE_CHARS = set("，。；！？,;!?\n")
_CLAUSE_SPLIT = re.compile(r"[，。；！？,;!?\n]")
_CLAUSE_BREAK = re.compile(r"[，。；！？、,;!?\n（）()“”\"【】]")


def _mask_addresses(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        detail = m.group(0)
        if not _STRONG_UNIT.search(detail):
            return detail
        window = text[max(0, m.start() - 18):m.start()]
        breaks = list(_CLAUSE_BREAK.finditer(window))
        if breaks:
            window = window[breaks[-1].end():]
        if _ADDRESS_ANCHOR.search(window):
            return "***"
        if len(_BUILDING_UNIT.findall(detail)) >= 2:
            return "***"
        return detail

    if not _ADDRESS_GATE.search(text):
        return text
    return _ADDRESS_DETAIL.sub(repl, text)


def _mask_addresses_by_clause(text: str) -> str:
    """``_mask_addresses`` on the clauses that hold a number with an address unit (the others are skipped)."""
    out: list[str] = []
    last = 0
    for g in _ADDRESS_GATE.finditer(text):
        if g.start() < last:
            continue
        start = g.start()
        while start > last and text[start - 1] not in _CLAUSE_CHARS:
            start -= 1
        end_match = _CLAUSE_SPLIT.search(text, g.end())
        end = end_match.start() if end_match else len(text)
        out.append(text[last:start])
        out.append(_mask_addresses(text[start:end]))
        last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


# ----------------------------------------------------------------------------------- school + class
_SCHOOL = re.compile(
    r"(?P<kind>小学|中学|初中|高中|中心校|完小|附小|附中|学校|幼儿园)(?P<reads>就读|读|上)?"
    r"(?P<grade>[初高][一二三]年级|[一二三四五六七八九]年级|初[一二三]|高[一二三]|[一二三四五六]年|"
    r"[一二三四五六](?=[（(]))?"
    r"(?P<cls>[（(]?[0-9０-９一二三四五六七八九十]{1,2}[)）]?班|[大中小]班|学前班)?"
)
_SCHOOL_NAME_CHAR = re.compile(r"[\u4e00-\u9fff0-9０-９]")
_NAME_BREAK = set("在于是的读到去从和与及为了着过里个名位所说叫称据被让把对向给跟往回上进")
_ADMIN = set("市区县镇乡州省旗")
_KEPT_CLASSES = ("大班", "中班", "小班", "学前班")
_NOT_SCHOOL_NAMES = {"一", "一所", "该", "此", "这所", "那所", "某", "当地", "本地", "附近"}
# words before a school that are not part of its name (女儿小学三年级 -> 女儿 + 小学三年级)
_SCHOOL_LEAD = re.compile(r".*(?:女儿|儿子|孩子|女孩|男孩|学生|我|她|他|们|就读|今年|现在|目前)")


def _mask_schools(text: str) -> str:
    out: list[str] = []
    last = 0
    for m in _SCHOOL.finditer(text):
        grade, cls = m.group("grade") or "", m.group("cls") or ""
        if not grade and not cls:
            continue
        if m.group("reads") and not grade:
            continue
        start = m.start()
        while start > max(last, m.start() - 14) and _SCHOOL_NAME_CHAR.match(text[start - 1]):
            start -= 1
        name = text[start:m.start()]
        cut = max((i + 1 for i, ch in enumerate(name) if ch in _NAME_BREAK), default=0)
        cue = _SCHOOL_LEAD.match(name, cut)
        cut = cue.end() if cue else cut
        lead, name = name[:cut], name[cut:]
        admin = max((i + 1 for i, ch in enumerate(name) if ch in _ADMIN), default=0)
        lead, name = lead + name[:admin], name[admin:]
        kept_cls = cls if cls in _KEPT_CLASSES else ""
        masked_name = "某某" if name else ""
        if "某" in name or name in _NOT_SCHOOL_NAMES:
            masked_name = name  # 长沙某小学, 一所中学: no school named
        out.append(text[last:start])
        out.append(f"{lead}{masked_name}{m.group('kind')}{m.group('reads') or ''}{grade}{kept_cls}")
        last = m.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


# ------------------------------------------------------------------------- names of minors, victims
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜"
    "冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝郁"
)
_GIVEN = set(
    "小晓子梓涵浩宇轩萱雨欣悦思琪若曦诗一帆然诺豪墨鸣泽安佳怡明红梅丽芳娟霞燕秀英兰珍华萍婷艳玲敏静娜琳雯雪"
    "龙杰宝花萌雅春美芬凤翠慧颖洁倩蕾薇莉媛嘉馨瑶彤晨阳伟强磊军勇涛斌超鹏飞波刚辉健俊峰亮林文博海鑫宁丹蓉"
    "岚琴菲璐露琦瑾瑜锦妍婉婧姗妮娅茜蓓蕊菁莹滢澜灵璇晴青楠可心乐欢悠甜朵童壮糖妞宏志国建永德福贵荣祥贤良"
    "凯旭昊睿哲铭逸航晗煜皓淇钰熙烨彬宸翔奕霖琛瑞祺韬毅翰骏骁辰星月云玉桐萍莎蔓蝶依伊奇淑惠娇媚娥珊琼"
    "爽露芸芷茹菊荷莲蓓凡帆元源远鸿卓群冰冬秋夏舒畅想恩泉润洋溪沐汐妤婕嫣姝娴瑄琬璟珂珺玥玮瑛浠岩松森桦楷槿"
    "橙坤垚培坚威智勤励力兵振晋晖晟暄曜昕昱昀晔朗望锋锐钧铮耀翊羽翼霆霏言诚谦语书宜宛容寒尧崇嵘巍帅希庆彦"
    "忆怀恒惜慕懿敬斐毓"
)
_NOT_NAMES = {
    "文明", "高明", "明明", "安心", "安宁", "安静", "文静", "高峰", "江南", "宁静", "乐观", "童年", "童心",
    "童话", "明星", "明亮", "明月", "黎明", "康乐", "林业", "马龙", "杨林", "金花", "高强", "严明", "齐心",
    "成龙", "许可", "关心", "应该", "万一", "时晨", "程序", "常青", "冷静", "温柔", "石林", "高一", "初一",
    "游乐", "童博", "童星", "童可",
}
_AA_STOP = set("天常刚渐慢偷好往久默仅多时处个人家年统稍轻悄白匆纷连哈呵嘻嘿冷宝想看试说走聊等谈问听写读玩")
_AA_CHARS = (_GIVEN | _SURNAMES) - _AA_STOP  # doubled nicknames: 朵朵, 乐乐, 妞妞
_MINOR_CUE = (
    r"小女孩|小男孩|小侄子|小侄女|女儿|儿子|孩子|小孩|女童|男童|幼童|女孩|男孩|女生|男生|学生|受害人|受害者|"
    r"被害人|当事人|申请人|来访人|求助人|求助者|侄女|侄子|外孙女|外孙|孙女|孙子|表妹|表弟|妹妹|弟弟|闺女|"
    r"继女|继子|养女|养子|少女|少年|未成年人|儿童|患儿|其子|其女|之子|之女|长子|次子|长女|次女|幼子|幼女"
)
_CUE = re.compile(
    rf"(?:{_MINOR_CUE}|她叫|他叫|名字叫|名字是|名叫|小名叫|小名|寻人：|寻人:|寻人】|寻人启事】|"
    rf"寻女：|寻女:|寻子：|寻子:|寻儿：|寻儿:)(?:[，,]?(?:名叫|叫做|小名叫|小名|名字叫|叫|是)|的名字叫|[，,])?"
)
_AGE_DIGITS = set("0123456789０１２３４５６７８９一二三四五六七八九十")
# what may stand between a name and its age: 张小明（13岁）, 李雨泽，男，9岁, 王梓涵今年11岁
_BEFORE_AGE = re.compile(
    r"(?:[（(][ ]?(?:[男女][，,、][ ]?)?|[，,][ ]?(?:[男女][，,][ ]?)?|今年|年仅|才|刚满|只有|现年)$"
)


def _ages(text: str) -> Iterable[tuple[int, int, int]]:
    """(start of the age number, index after 岁, age) for every ``N岁``/``N周岁`` in ``text``."""
    k = text.find("岁")
    while k != -1:
        b = k - 1 if k and text[k - 1] == "周" else k
        a = b
        while a > 0 and b - a < 3 and text[a - 1] in _AGE_DIGITS:
            a -= 1
        if a < b:
            yield a, k + 1, _age(text[a:b])
        k = text.find("岁", k + 1)
# a public role right before a name: the person is named in that role, not as a victim or a minor
_OFFICIAL_BEFORE = re.compile(
    r"(?:长|主席|书记|主任|委员|经理|代表|记者|律师|法官|检察官|民警|警官|发言人|负责人)(?=.{2,3}$)"
)
_CN_NUM = {c: i for i, c in enumerate("零一二三四五六七八九十")}


def _age(s: str) -> int:
    s = _ascii(s)
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN_NUM.get(s[1], 0)
    if len(s) >= 2 and s[1] == "十":
        return _CN_NUM.get(s[0], 0) * 10 + (_CN_NUM.get(s[2], 0) if len(s) > 2 else 0)
    return _CN_NUM.get(s, 99)


_COMPOUND_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙",
                      "宇文", "司徒", "夏侯", "端木", "呼延", "独孤"}


def _name_at(text: str, p: int, named: bool = False) -> tuple[str, str] | None:
    """(name, masked) if a person's name starts at ``p``; already-masked names give masked == name.

    ``named``: right after 叫/名叫/小名, where any doubled character (豆豆) or any surname with plain
    characters (叫李想) is a name.
    """
    if p >= len(text):
        return None
    if text[p:p + 2] in _COMPOUND_SURNAMES:
        rest = _name_at(text, p + 1, named) if text[p + 1] in _SURNAMES else None
        given = len(rest[0]) - 1 if rest and rest[0] != rest[1] else 0
        if given:
            return text[p:p + 2 + given], text[p:p + 2] + "某" * given
    a = text[p]
    b = text[p + 1] if p + 1 < len(text) else ""
    c = text[p + 2] if p + 2 < len(text) else ""
    if a in _SURNAMES and b == "某":
        if c and "\u4e00" <= c <= "\u9fff" and c != "某" and c in _GIVEN:
            return a + b + c, a + "某某"
        name = a + b + ("某" if c == "某" else "")
        return name, name
    if a == "小" and b in _GIVEN and b not in "小孩学时心可区":
        return a + b, "小某"
    if b and a == b and a in _AA_CHARS:
        return a + b, "某某"
    if a in _SURNAMES:
        k = 0
        while k < 2 and p + 1 + k < len(text) and text[p + 1 + k] in _GIVEN:
            k += 1
        if k:
            name = text[p:p + 1 + k]
            if name in _NOT_NAMES or name[:2] in _NOT_NAMES:
                return None
            return name, name[0] + "某" * k
    if named:
        if b and a == b and "\u4e00" <= a <= "\u9fff" and a not in _AA_STOP:
            return a + b, "某某"
        for length in (3, 2):
            hit = _plain_name(text[p:p + length])
            if hit and len(hit[0]) == length:
                return hit
    return None


_NOT_IN_NAMES = set("的了在是有和就不人都也很到说要去会着没看好自己这那你我他她们个上下里中大小年月日岁今才仅满")


def _plain_name(cand: str) -> tuple[str, str] | None:
    """A surname and Chinese characters right before an age in brackets (李想（10岁）): a name even if the
    given-name characters are not in the usual list."""
    if (len(cand) >= 2 and cand[0] in _SURNAMES and "某" not in cand
            and all("\u4e00" <= ch <= "\u9fff" and ch not in _NOT_IN_NAMES for ch in cand[1:])
            and cand not in _NOT_NAMES and cand[:2] not in _NOT_NAMES):
        return cand, cand[0] + "某" * (len(cand) - 1)
    return None


_PSEUDONYM = re.compile(r"[（(]化名")


def _pseudonym(text: str, end: int) -> bool:
    """A name followed by （化名…: already a pseudonym, kept as it is."""
    return _PSEUDONYM.match(text, end) is not None


def _find_names(text: str) -> dict[str, str]:
    found: dict[str, str] = {}

    def add(start: int, named: bool = False) -> None:
        for _ in range(4):  # 孩子张子豪和李梓萱: names joined by 和/与/、/及 share the cue
            hit = _name_at(text, start, named)
            if not hit or _pseudonym(text, start + len(hit[0])):
                return
            if hit[0] != hit[1]:
                found[hit[0]] = hit[1]
            start += len(hit[0])
            if text[start:start + 1] not in ("和", "与", "、", "及"):
                return
            start += 1

    for m in _CUE.finditer(text):
        if m.group(0).startswith("女儿") and m.start() and text[m.start() - 1] == "妇":
            continue  # 妇女儿童…
        add(m.end(), named=m.group(0).endswith(("叫", "小名", "名字是")))
    for a, after, age in _ages(text):
        j = after + (text[after:after + 1] == "半")
        if text[j:j + 1] == "的":  # 13岁的张小明
            add(j + 1)
        m = _BEFORE_AGE.search(text, max(0, a - 6), a)
        if m is None:
            continue
        e = m.start()
        if age >= 18 and not re.match(r"[（(，,][ ]?[男女]", m.group(0)):
            continue
        if _OFFICIAL_BEFORE.search(text, max(0, e - 8), e):
            continue  # 县长李强（男，45岁）: a public role, not a victim
        for length in (3, 2):
            if e - length < 0:
                continue
            hit = _name_at(text, e - length)
            if hit is None and m.group(0)[:1] in "（(":
                hit = _plain_name(text[e - length:e])
            if hit and len(hit[0]) == length:
                if hit[0] != hit[1] and not _pseudonym(text, e):
                    found[hit[0]] = hit[1]
                break
    return found


def _apply_names(text: str, names: Mapping[str, str]) -> str:
    if not names:
        return text
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    return pattern.sub(lambda m: names[m.group(0)], text)


# ------------------------------------------------------------------------------------------ public
# cheap scans that let a pass be skipped on most posts
_IM_GATE = re.compile(r"[微威薇VvWwQq扣企]")
_DIGIT = re.compile(r"[0-9０-９]")
_ADDRESS_GATE = re.compile(r"[0-9０-９一二三四五六七八九十A-Za-zＡ-Ｚ][ ]?(?:[号栋幢室组弄户座]|单元)")


def _mask_plain(segment: str) -> str:
    if _IM_GATE.search(segment):
        segment = _IM.sub(lambda m: f"{m.group('cue')}{m.group('sep')}***", segment)
    if _DIGIT.search(segment):
        segment = _mask_phones_and_ids(segment)
    if _ADDRESS_GATE.search(segment):
        segment = _mask_addresses_by_clause(segment)
    return _mask_schools(segment)


def _mask_structured(text: str) -> str:
    """Everything but names; protected spans (URLs, post ids) untouched, e-mails masked."""
    spans = _protected_spans(text)
    if not spans:
        return _mask_plain(text)
    out: list[str] = []
    last = 0
    for start, end, replacement in spans:
        out.append(_mask_plain(text[last:start]))
        out.append(replacement)
        last = end
    out.append(_mask_plain(text[last:]))
    return "".join(out)


def _mask_with(text: str, names: Mapping[str, str]) -> str:
    return _apply_names(_mask_structured(text), names)


def mask(text: str | None) -> str:
    """All masks at once; ``mask(None) == ""``; safe to apply twice."""
    if not text:
        return ""
    return _mask_with(text, _find_names(text))


def mask_fields(obj: Mapping[str, object], fields: Iterable[str]) -> dict[str, object]:
    """A copy of ``obj`` with the string ``fields`` masked together.

    Names found next to a cue in any of the fields are masked in all of them (a title rarely carries the
    cue that its body has). Fields that are missing or not strings are copied unchanged.
    """
    fields = [f for f in fields if isinstance(obj.get(f), str)]
    names: dict[str, str] = {}
    for f in fields:
        names.update(_find_names(str(obj[f])))
    out = dict(obj)
    for f in fields:
        out[f] = _mask_with(str(obj[f]), names) if obj[f] else ""
    return out


def mask_post(post: Mapping[str, object]) -> dict[str, object]:
    """``mask_fields`` over a post's ``title`` and ``text``."""
    return mask_fields(post, ("title", "text"))


# characters of one token for the cut: numbers, masks, e-mails, URLs (a URL is never cut in two)
_TOKEN_CHAR = re.compile(r"[0-9０-９A-Za-z*@._%+\-某:/?#=&~]")


def mask_then_cut(text: str | None, limit: int, ellipsis: str = "…") -> str:
    """Mask, then cut to at most ``limit`` characters (ellipsis included).

    The cut never falls inside a masked token (``139****5678``, ``张某某``, ``***``), a number or a URL,
    so no partial number is left from which an original could be read; it backs off to the token's start.
    """
    masked = mask(text)
    if len(masked) <= limit:
        return masked
    if limit <= len(ellipsis):
        return ellipsis[:max(limit, 0)]
    cut = limit - len(ellipsis)
    while 0 < cut < len(masked) and _TOKEN_CHAR.match(masked[cut - 1]) and _TOKEN_CHAR.match(masked[cut]):
        cut -= 1
    return masked[:cut].rstrip() + ellipsis
