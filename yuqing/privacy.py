"""Masking of personal data (seed 002, 信息安全与保密要求): alerts, reports and exports never
show ID-card numbers, phone numbers, home addresses, or identities of minors and victims."""

from __future__ import annotations

import re

_ID_CARD = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ](\d{7,8})(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# a street address down to the building/house number: 幸福路12号3栋2单元501室
_ADDRESS = re.compile(
    r"([\u4e00-\u9fa5]{1,12}(?:路|街|大道|巷|胡同|弄|村|小区|社区|花园|公寓|大厦))"
    r"[\u4e00-\u9fa5\d一二三四五六七八九十零百\-]{0,12}?\d+\s*(?:号|栋|幢|单元|室|楼|号楼)"
    r"(?:[\d\-]*\s*(?:号|栋|幢|单元|室|楼|层))*"
)
# a minor or victim named with an age: 张某某（13岁）, 女童李小红, 受害人王芳
_MINOR_NAMED = re.compile(
    r"(女童|男童|幼童|女孩|男孩|学生|女生|男生|孩子|未成年人|受害人|受害者|被害人|当事人)"
    r"(?![被在的遭于因与和及是已曾将从向对称说])([\u4e00-\u9fa5]{2,3}?)"
    r"(?=[，,。；;、：:！!？?（(\s]|$|今年|年仅|\d|的|被|遭|在|于|因|称|说|等|家|父|母|与|和|电话|手机|身份|住|现|系|为|同学|女士|先生)"
)
_NAME_AGE = re.compile(r"(?<![\u4e00-\u9fa5])([\u4e00-\u9fa5]{2,3})([（(]?(?:[1-9]|1[0-7])岁[)）]?)")
_SURNAME_OK = set("某")
# Common surnames (and 小/阿 nicknames): a "name" after 女童/受害人… must start with one, which keeps
# ordinary words (孩子都能领…, 当事人身份…) unmasked.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜"
    "冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝小阿"
)
_NOT_NAMES = {"今年", "年仅", "刚满", "已经", "大约", "只有", "仅仅", "当时", "目前", "现年", "孩子", "女儿", "儿子",
              "女孩", "男孩", "女童", "男童", "学生", "该生", "其中", "一名", "一个", "年满", "不满", "未满"}


def mask_id_card(text: str) -> str:
    return _ID_CARD.sub(lambda m: m.group(1) + "********" + "****", text)


def mask_phone(text: str) -> str:
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****", text)


def mask_address(text: str) -> str:
    return _ADDRESS.sub(lambda m: m.group(1) + "***", text)


def _mask_name(name: str) -> str:
    if all(ch in _SURNAME_OK for ch in name[1:]):
        return name  # already 张某 / 张某某
    return name[0] + "某" * (len(name) - 1)


def mask_minors(text: str) -> str:
    text = _MINOR_NAMED.sub(
        lambda m: m.group(0) if m.group(2) in _NOT_NAMES or m.group(2)[:2] in _NOT_NAMES
        or m.group(2)[0] not in _SURNAMES else m.group(1) + _mask_name(m.group(2)), text)
    return _NAME_AGE.sub(
        lambda m: m.group(0) if m.group(1) in _NOT_NAMES or m.group(1)[-2:] in _NOT_NAMES
        or m.group(1)[0] not in _SURNAMES else _mask_name(m.group(1)) + m.group(2), text)


def mask(text: str | None) -> str:
    """All masks at once; safe to apply twice."""
    if not text:
        return ""
    text = mask_id_card(text)
    text = mask_phone(text)
    text = _EMAIL.sub("***@***", text)
    text = mask_address(text)
    return mask_minors(text)
