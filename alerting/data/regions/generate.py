"""Writes posts.jsonl: crisis posts with the true place of their event (see README.md).

Run: .venv/bin/python alerting/data/regions/generate.py   (deterministic, seed below)

Counties are drawn from the whole gazetteer (cpca's adcodes.csv, every province); each post is
written in one of several *forms* (how the place is named) and one of several *registers* (who
writes: victim, relative, neighbour, media, official notice, commentator), with the hard cases
the issue names: a county without its city, 区 names several cities share, former names,
nicknames, IP属地 elsewhere, several places in one post, and none. The writer knows the truth
and never consults the resolver: forms are chosen by how people write, not by what it reads.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from pathlib import Path

from yuqing import places as gz

OUT = Path(__file__).with_name("posts.jsonl")
SEED = 20261202
rng = random.Random(SEED)
G = gz.gazetteer()
NAMES = G.names
SHARED = {n for n, codes in G.full_names.items() if len(codes) > 1}
SKIP = {"市辖区", "城区", "郊区", "矿区"}


def level(code: str) -> str:
    return gz._level(code)


def prov_short(code: str) -> str:
    name = NAMES[code[:2] + "0" * 10]
    for full, short in (("内蒙古自治区", "内蒙古"), ("广西壮族自治区", "广西"), ("西藏自治区", "西藏"),
                        ("宁夏回族自治区", "宁夏"), ("新疆维吾尔自治区", "新疆")):
        if name == full:
            return short
    return name[:-1] if name.endswith(("省", "市")) else name


NATIONS = [x.strip() for x in (gz.gazetteer_path().parent / "56_nations.csv").read_text(encoding="utf-8").splitlines()
           if x.strip()]


def short(name: str) -> str:
    """How people write a unit without its suffix: 郸城县 → 郸城, 恩施土家族苗族自治州 → 恩施."""
    if "自治" in name:
        return gz._short(name, NATIONS) or name
    for suf in ("新区", "林区", "地区", "县", "区", "市", "旗", "盟"):
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            return name[: -len(suf)]
    return name


COUNTIES = [c for c in NAMES if level(c) == "county" and NAMES[c] not in SKIP
            and c[:2] not in ("71", "81", "82")]
PROVINCES = sorted({c[:2] + "0" * 10 for c in COUNTIES})
MUNI = ("11", "12", "31", "50")


def city_of(code: str) -> str | None:
    city = code[:4] + "0" * 8
    return city if city in NAMES else None


# towns and villages: real-sounding names (the gazetteer has none), written with the county
TOWN_HEADS = "东西南北新老大小石高黄白青马杨李王张刘陈赵长双龙凤桥河湖山林柳花金银"
TOWN_TAILS = ["家庄", "河", "桥", "集", "店", "坪", "塘", "沟", "湾", "营", "屯", "铺", "岭", "口", "寨", "坝", "埠"]
VIL_TAILS = ["家村", "庄村", "湾村", "坡村", "岗村", "沟村", "洼村", "营村", "寨村", "林村"]


def town_name() -> str:
    return rng.choice(TOWN_HEADS) + rng.choice(TOWN_TAILS) + rng.choice(["镇", "镇", "乡", "街道"])


def village_name() -> str:
    return rng.choice(TOWN_HEADS) + rng.choice(VIL_TAILS)


# --- the event, in each register ------------------------------------------------------------
# {P} the place phrase; {p} a second, short mention of the place (or of the county)
EVENTS = {
    "rights": [
        ("victim", "我是{P}的，结婚六年被老公打了无数次，昨晚又被他拿皮带抽，报警后派出所只说调解，我该怎么办"),
        ("victim", "求助！{P}，我在公司怀孕五个月被调岗降薪，人事让我主动辞职，不签就扣工资"),
        ("relative", "我姐嫁到{P}，被婆家关在屋里不让出门，手机也被收了，上次视频脸上全是伤，求大家帮帮她"),
        ("neighbour", "{P}这边昨晚一户人家又吵起来了，男的把女的打得满脸是血，邻居们报了警，孩子在旁边一直哭"),
        ("media", "【{P}一女子遭前男友跟踪骚扰数月 报警后仍被堵在小区门口】近日，有网友反映，其多次报警未果"),
        ("media", "{P}一小学老师被指猥亵多名女生，家长联名举报，当地教育部门称已介入调查"),
        ("official", "警情通报：{P}公安局接群众报警，辖区一男子殴打其妻子致轻伤，目前该男子已被依法行政拘留，案件正在进一步调查中"),
        ("official", "关于网传{P}某幼儿园教师虐童一事的情况通报：经核查，涉事教师已被停职，公安机关已立案侦查"),
        ("media", "被拐28年后，她终于找到了回家的路。当年她在{P}被人贩子拐走，卖到外省一个山村"),
        ("victim", "在{P}一家电子厂上班，面试的时候HR直接说不招已婚未育的女生，这算不算就业歧视？"),
        ("neighbour", "{P}我们村一个姑娘才十五岁就被家里逼着嫁人，收了二十万彩礼，村里没人管"),
        ("media", "{P}外嫁女讨要土地补偿款多年无果，村委会称“嫁出去的女儿泼出去的水”"),
        ("media", "13岁女孩在{P}遭校园欺凌，被多名同学扇耳光并拍视频上传，涉事学生家长拒绝道歉"),
        ("victim", "{P}这边有人把我的照片P成不雅图发到群里，还说我是小三，现在全网都在骂我，我想死的心都有了"),
        ("relative", "我妈在{P}老家被我爸家暴了三十年，这次终于下定决心离婚，法院却一直拖着不判"),
    ],
    "emergency": [
        ("media", "突发！{P}一幼儿园发生火灾，多名儿童被疏散，暂无人员伤亡报告，起火原因正在调查"),
        ("media", "{P}一中学食堂多名学生出现呕吐腹泻症状，疑似食物中毒，已送医救治"),
        ("neighbour", "{P}小学门口刚才出事了，一辆车冲上人行道撞了好几个放学的孩子，救护车来了好几辆"),
        ("relative", "急寻！我家孩子今天下午在{P}走失，7岁男孩，穿蓝色校服，有消息请联系，万分感谢"),
        ("official", "{P}应急管理局通报：今日凌晨一民房发生火灾，造成一名妇女及两名儿童受伤，已全力救治"),
        ("media", "暴雨致{P}多个村庄被淹，一名孕妇被困家中，消防员划船将其转移至安全地带"),
        ("media", "{P}一小学发生踩踏事件，据悉有学生受伤，具体情况待官方通报"),
        ("neighbour", "{P}这边停电一整天了，医院新生儿科的保温箱靠发电机撑着，太揪心了"),
    ],
    "policy": [
        ("victim", "{P}这边办生育津贴要跑五六趟，社保说材料不全，单位说不归他们管，产假都快休完了钱还没拿到"),
        ("media", "{P}推出彩礼新规，网友吵翻了：有人叫好，有人说管得太宽"),
        ("neighbour", "听说{P}要取消育儿补贴了？街道的人也说不清楚，到底是真是假"),
        ("official", "辟谣：网传{P}“离婚需排队三个月”系误读，当地民政局回应称离婚冷静期规定并无变化"),
        ("victim", "在{P}申请托育补贴被拒，理由是户口不在本地，可我们在这里交了八年社保"),
    ],
    "image": [
        ("media", "{P}妇联工作人员被曝辱骂求助女子，当地妇联回应：已停职调查"),
        ("victim", "打给{P}妇联求助，接电话的人说“你老公打你肯定是你做错了什么”，这就是娘家人？"),
        ("media", "{P}妇联官方账号发布不当言论引争议，该条内容已删除"),
    ],
    "work": [
        ("victim", "{P}妇联的热线打了十几次都没人接，被家暴的时候到底能找谁"),
        ("media", "{P}妇联组织“女德”讲座引发争议，讲师称女子应以夫为纲"),
        ("neighbour", "{P}妇联调解家暴就是劝和，我邻居被打到骨折还让她为了孩子忍一忍"),
    ],
}
COMMENTARY = [
    "家暴从来不是家务事，每一个沉默的人都是帮凶。反家暴法实施这么多年，为什么受害者还是求助无门？",
    "就业性别歧视该如何破解？招聘中“限男性”“已婚已育优先”的门槛何时才能真正消失",
    "关于离婚冷静期的误读又来了，到底冷静期适用于哪些情况，律师为你一一解答",
    "拐卖妇女儿童的案件，买方必须同罪！转发呼吁加大对收买行为的惩处力度",
    "校园欺凌不是“闹着玩”，家长和学校都不能再视而不见了",
    "为什么每次出了事，大家第一反应都是“妇联在哪里”？这个问题值得思考",
    "生育补贴到底什么时候能落到实处？网友们都在问",
    "女性在职场中遭遇的隐形歧视，比你想象的更普遍",
    "幼儿园安全事故频发，监管到底缺位在哪里？专家呼吁建立全国统一的安全标准",
    "彩礼问题说到底是观念问题，靠一纸规定能管住吗？",
    "每一个被拐的孩子背后都是一个破碎的家庭，别让寻亲成为一辈子的等待",
    "反家暴告诫书制度落地难，问题出在哪",
]
NOISE_PRE = ["", "", "", "#{T}# ", "【转】", "扩散！", "", "紧急扩散 ", "", "#关注妇女权益# "]
NOISE_POST = ["", "", "", "", "[怒]", "[泪]", " 求扩散", " @全国妇联", "", " 希望有关部门严查", " 转发周知",
              " 后续持续关注", "[心碎]", ""]
TITLES = ["", "", "", "{S}一女子遭家暴", "{S}发生一起校园安全事件", "{S}通报", "关注{S}事件", ""]


def place_phrase(code: str, form: str) -> tuple[str, str, dict]:
    """(phrase naming the county, short re-mention, extra) in one form of writing."""
    county = NAMES[code]
    city = city_of(code)
    city_name = NAMES.get(city, "") if city else ""
    prov = prov_short(code)
    muni = code[:2] in MUNI
    shared = county in SHARED
    s = short(county)
    city_txt = "" if muni or not city_name else (city_name if rng.random() < 0.4 else short(city_name))
    # nobody shortens 吉安县 to 吉安 (the city's name) or 长治县 to 长治
    same_as_city = bool(city_name) and s == short(city_name)
    county_txt = county if (len(s) < 2 or same_as_city or rng.random() < 0.55) else s
    extra: dict = {}
    if form == "full":
        town, vil = town_name(), village_name()
        prov_txt = NAMES[code[:2] + "0" * 10] if rng.random() < 0.5 else prov
        sep = rng.choice(["", "", " "])
        parts = [prov_txt] + ([] if muni else [city_txt or city_name]) + [county]
        if rng.random() < 0.7:
            parts.append(town)
        if rng.random() < 0.6:
            parts.append(vil)
        return sep.join(parts), county_txt, extra
    if form == "county_only":
        if shared:  # nobody writes a shared 区 name alone when they know the city: add it
            return (city_txt or city_name or prov) + county, county_txt, extra
        return county_txt, county_txt, extra
    if form == "city_county":
        return (city_txt or prov) + county_txt, county_txt, extra
    if form == "prov_county":
        return prov + county_txt, county_txt, extra
    if form == "town":  # a town named with its county elsewhere in the post (title or a later line)
        return town_name(), county, extra
    raise ValueError(form)


FORMS = {"full": 0.18, "county_only": 0.22, "city_county": 0.2, "prov_county": 0.1, "town": 0.06,
         "ambiguous_district": 0.06, "former_name": 0.04, "nickname": 0.04, "none": 0.1}
# independent of form: poster elsewhere (IP属地 of another province), several places, dateline
IP_ELSEWHERE = 0.35
SEVERAL = 0.2

AMBIGUOUS = [  # (district name, context that settles it, true code)
    ("朝阳区", "长春市", "220104000000"), ("朝阳区", "北京", "110105000000"), ("朝阳区", "长春", "220104000000"),
    ("鼓楼区", "福州", "350102000000"), ("鼓楼区", "南京", "320106000000"), ("鼓楼区", "徐州", "320302000000"),
    ("鼓楼区", "开封", "410204000000"), ("普陀区", "舟山", "330903000000"), ("普陀区", "上海", "310107000000"),
    ("西湖区", "南昌", "360103000000"), ("西湖区", "杭州", "330106000000"), ("白云区", "贵阳", "520113000000"),
    ("白云区", "广州", "440111000000"), ("通州区", "南通", "320612000000"), ("通州区", "北京", "110112000000"),
    ("南山区", "深圳", "440305000000"), ("南山区", "鹤岗", "230404000000"), ("江北区", "宁波", "330205000000"),
    ("江北区", "重庆", "500105000000"), ("铁西区", "沈阳", "210106000000"), ("铁西区", "鞍山", "210303000000"),
    ("青山区", "武汉", "420107000000"), ("青山区", "包头", "150204000000"), ("长安区", "西安", "610116000000"),
    ("长安区", "石家庄", "130102000000"), ("新城区", "西安", "610102000000"), ("新城区", "呼和浩特", "150102000000"),
    ("海州区", "连云港", "320706000000"), ("海州区", "阜新", "210902000000"), ("宝山区", "上海", "310113000000"),
    ("城中区", "西宁", "630103000000"), ("城中区", "柳州", "450202000000"), ("桥西区", "石家庄", "130104000000"),
    ("和平区", "天津", "120101000000"), ("和平区", "沈阳", "210102000000"), ("向阳区", "佳木斯", "230803000000"),
]
# the same district where the only context is the poster's IP属地 (province)
AMBIGUOUS_IP = [("朝阳区", "吉林", "220104000000"), ("鼓楼区", "福建", "350102000000"), ("普陀区", "浙江", "330903000000"),
                ("西湖区", "江西", "360103000000"), ("白云区", "贵州", "520113000000"), ("通州区", "江苏", "320612000000"),
                ("南山区", "黑龙江", "230404000000"), ("铁西区", "辽宁", "210106000000"), ("青山区", "内蒙古", "150204000000"),
                ("长安区", "陕西", "610116000000")]
FORMER = [  # (former name phrase, true code, note)
    ("襄樊市樊城区", "420606000000"), ("襄樊市襄城区", "420602000000"), ("原襄樊市谷城县", "420625000000"),
    ("思茅区", "530802000000"), ("普洱市思茅区", "530802000000"), ("通什", "469001000000"),
    ("海南通什市", "469001000000"), ("上海闸北区", "310106000000"), ("闸北", "310106000000"),
    ("北京崇文区", "110101000000"), ("宣武区", "110102000000"), ("上海卢湾区", "310101000000"),
    ("天津塘沽", "120116000000"), ("塘沽区", "120116000000"), ("汉沽", "120116000000"), ("南汇", "310115000000"),
    ("四川达县", "511703000000"), ("大庸市永定区", "430802000000"), ("荆沙市沙市区", "421002000000"),
    ("莱芜区", "371202000000"),
]
NICK = [  # (nickname + district, true code)
    ("沪上闵行", "310112000000"), ("魔都浦东新区", "310115000000"), ("申城静安区", "310106000000"),
    ("蓉城武侯区", "510107000000"), ("蓉城双流", "510116000000"), ("羊城天河区", "440106000000"),
    ("羊城白云区", "440111000000"), ("鹏城南山区", "440305000000"), ("鹏城龙岗", "440307000000"),
    ("泉城历下区", "370102000000"), ("榕城鼓楼区", "350102000000"), ("冰城道里区", "230102000000"),
    ("春城五华区", "530102000000"), ("星城岳麓区", "430104000000"), ("鹭岛思明区", "350203000000"),
    ("帝都海淀", "110108000000"), ("津门河西区", "120103000000"), ("杭城余杭区", "330110000000"),
    ("金陵江宁区", "320115000000"), ("筑城南明区", "520102000000"), ("邕城青秀区", "450103000000"),
    ("甬城鄞州", "330212000000"), ("锡城滨湖区", "320211000000"), ("山城重庆渝中区", "500103000000"),
]
ELSEWHERE_LEAD = ["我老家在{X}，", "我娘家在{X}，", "我现在在{X}打工，", "我户籍是{X}的，", "我远在{X}，",
                  "我是{X}人，", "我从{X}回来才知道，"]


def other_county(code: str) -> str:
    while True:
        c = rng.choice(COUNTIES)
        if c[:2] != code[:2]:
            return c


def other_province_name(code: str) -> str:
    while True:
        p = rng.choice(PROVINCES)
        if p[:2] != code[:2]:
            return prov_short(p)


def write_post(i: int) -> dict:
    form = rng.choices(list(FORMS), weights=list(FORMS.values()))[0]
    category = rng.choices(list(EVENTS), weights=[0.5, 0.2, 0.12, 0.08, 0.1])[0]
    register, frame = rng.choice(EVENTS[category])
    extra: dict = {}
    title = ""
    variety: list[str] = [form, register]
    if form == "none":
        text = rng.choice(COMMENTARY) + rng.choice(NOISE_POST)
        truth = None
        if rng.random() < 0.6:
            extra["region"] = prov_short(rng.choice(PROVINCES))
            variety.append("ip")
        return _post(i, category, text, "", extra, truth, variety)
    if form == "ambiguous_district":
        if rng.random() < 0.7:
            name, ctx, truth = rng.choice(AMBIGUOUS)
            phrase = ctx + name if rng.random() < 0.6 else name
            if phrase == name:  # the city is in another sentence
                frame = frame + f"。{ctx}的朋友帮忙转一下"
                variety.append("city_elsewhere_in_post")
        else:
            name, ip, truth = rng.choice(AMBIGUOUS_IP)
            phrase = name
            extra["region"] = ip
            variety.append("settled_by_ip")
        text = frame.replace("{P}", phrase)
        return _post(i, category, _noise(text), title, extra, truth, variety)
    if form == "former_name":
        phrase, truth = rng.choice(FORMER)
        return _post(i, category, _noise(frame.replace("{P}", phrase)), "", extra, truth, variety)
    if form == "nickname":
        phrase, truth = rng.choice(NICK)
        return _post(i, category, _noise(frame.replace("{P}", phrase)), "", extra, truth, variety)
    code = rng.choice(COUNTIES)
    phrase, again, extra = place_phrase(code, form)
    truth = code
    if form == "town":  # the county is in the title, or a closing line
        if rng.random() < 0.5:
            city = city_of(code)
            plain = short(NAMES[code]) != short(NAMES.get(city or "", "")) and NAMES[code] not in SHARED
            title = (f"{NAMES[code] if rng.random() < 0.5 or not plain else (prov_short(code) + short(NAMES[code]))}"
                     f"：{category_title(category)}")
            variety.append("county_in_title")
        else:
            frame = frame + f"（{NAMES[code]}）"
            variety.append("county_in_brackets")
    text = frame.replace("{P}", phrase)
    if rng.random() < SEVERAL:
        other = other_county(code)
        lead = rng.choice(ELSEWHERE_LEAD).replace("{X}", rng.choice([NAMES[other], prov_short(other) + short(NAMES[other])]))
        text = lead + text if register in ("victim", "relative") else text + "。" + lead.rstrip("，") + "，看到家乡的消息很难受"
        variety.append("several_places")
    if register == "media" and rng.random() < 0.3:
        cap = NAMES.get(code[:2] + "01" + "0" * 8, "")
        if cap and not cap.startswith(("市辖区",)):
            text = rng.choice(["新华社", "本报", "中新网"]) + short(cap) + f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日电 " + text
            variety.append("dateline")
    if rng.random() < IP_ELSEWHERE:
        ip = other_province_name(code)
        if rng.random() < 0.5:
            extra["region"] = ip
            variety.append("ip_field_elsewhere")
        else:
            text = text + rng.choice(["\nIP属地：", "\n发布于 ", " IP属地："]) + ip
            variety.append("ip_line_elsewhere")
    elif rng.random() < 0.4:
        extra["region"] = prov_short(code)
        variety.append("ip_same_province")
    return _post(i, category, _noise(text), title, extra, truth, variety)


def category_title(category: str) -> str:
    return {"rights": "一女子求助", "emergency": "突发事件", "policy": "政策疑问", "image": "妇联回应",
            "work": "妇联工作引争议"}[category]


def _noise(text: str) -> str:
    pre = rng.choice(NOISE_PRE).replace("{T}", rng.choice(["家暴", "女性权益", "校园安全", "寻人"]))
    return pre + text + rng.choice(NOISE_POST)


def _post(i: int, category: str, text: str, title: str, extra: dict, truth: str | None, variety: list[str]) -> dict:
    pid = f"region-{i:04d}"
    split = "heldout" if int(hashlib.sha256(pid.encode()).hexdigest(), 16) % 10 < 3 else "tune"
    truth_obj = None
    if truth:
        city = city_of(truth) or truth[:4] + "0" * 8
        truth_obj = {"county_code": truth, "county_name": NAMES[truth], "city_code": city,
                     "city_name": NAMES.get(city, NAMES[truth[:2] + "0" * 10])}
    post = {"id": pid, "platform": rng.choice(["weibo", "weibo", "douyin", "news", "tieba"]), "category": category,
            "text": text, "truth": truth_obj, "variety": variety, "split": split}
    if title:
        post["title"] = title
    post.update(extra)
    return post


def main() -> None:
    posts = [write_post(i) for i in range(640)]
    with OUT.open("w", encoding="utf-8") as fh:
        for p in posts:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    counts = Counter(v for p in posts for v in p["variety"])
    print(len(posts), "posts;", dict(Counter(p["split"] for p in posts)))
    print(json.dumps(dict(sorted(counts.items())), ensure_ascii=False))
    print("provinces:", len({p["truth"]["county_code"][:2] for p in posts if p["truth"]}))


if __name__ == "__main__":
    main()
