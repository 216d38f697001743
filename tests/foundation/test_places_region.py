"""yuqing/places.py, the region side: codes and containment, where one post's event is (locate),
former names and nicknames, shared 区 names, poster lines, several places, none (real gazetteer)."""

from __future__ import annotations

from yuqing.places import (
    Region,
    city_of,
    code_of,
    contains_code,
    county_of,
    display_name,
    extract,
    locate,
    normalize_code,
)


def _where(text: str, **kw: str) -> tuple[str | None, str]:
    found = locate(text, **kw)
    return (code_of(found.place) if found.place else None), found.kind


def test_containment_by_level_with_six_digit_and_town_codes() -> None:
    assert normalize_code("411625") == "411625000000"
    assert contains_code("410000000000", "411625000000")  # 河南 ⊃ 郸城
    assert contains_code("411600", "411625000000/汲冢镇/王庄村")  # 周口 ⊃ a village of 郸城
    assert contains_code("411625000000/汲冢镇", "411625000000/汲冢镇/王庄村")
    assert not contains_code("411625000000/汲冢镇", "411625000000/石桥镇")
    assert not contains_code("411625000000/汲冢镇", "411625000000")  # a town unit does not cover its county
    assert not contains_code("420000000000", "411625000000")
    assert contains_code("110100000000", "110105000000")  # 北京 市辖区 ⊃ 朝阳区
    assert contains_code("411625101000", "411625101000") and not contains_code("411625101000", "411625102000")
    assert not contains_code("411625000000", "/汲冢镇")  # a town whose county is unknown
    assert not contains_code("", "411625000000") and not contains_code("411625000000", "")
    assert (county_of("411625000000/汲冢镇"), city_of("411625000000/汲冢镇")) == ("411625000000", "411600000000")
    assert county_of("411600000000") is None and city_of("410000000000") is None
    assert Region("411625000000", "河南省周口市郸城县", "county", 0.456).to_json() == {
        "code": "411625000000", "name": "河南省周口市郸城县", "level": "county", "confidence": 0.46}


def test_full_address_gives_the_village_with_its_county_chain() -> None:
    found = locate("河南省周口市郸城县汲冢镇王庄村一女子被丈夫殴打").place
    assert found is not None and found.level == "village"
    assert code_of(found) == "411625000000/汲冢镇/王庄村"
    assert display_name(found) == "河南省周口市郸城县汲冢镇王庄村"


def test_county_named_without_its_city_and_two_character_counties() -> None:
    assert _where("郸城一小学发生踩踏") == ("411625000000", "text")
    assert _where("当年她在礼县被人贩子拐走")[0] == "621226000000"  # 礼县 after 在
    assert _where("听说蒲县要取消育儿补贴了")[0] == "141033000000"
    assert _where("扩散！平遥这边昨晚一户人家又吵起来了")[0] == "140728000000"  # a short name jieba calls a word
    assert _where("我妈在滁州市定远老家被打了")[0] == "341125000000"  # right after its own city
    assert _where("辟谣：网传乐山市中区离婚需排队")[0] == "511102000000"  # 乐山 + 市中区


def test_shared_district_names_by_context_ip_or_prior() -> None:
    assert _where("长春朝阳区一小学教师体罚学生")[0] == "220104000000"
    assert _where("南昌西湖区一女子遭跟踪")[0] == "360103000000"
    assert _where("暴雨致长安区多个村庄被淹。西安的朋友帮忙转一下")[0] == "610116000000"  # 西安 settles 长安区
    assert _where("在青山区一家电子厂上班，被辞退", ip_region="内蒙古")[0] == "150204000000"  # IP settles it
    # the post's own places beat the poster's IP属地
    assert _where("连云港市海州区一女童走失", ip_region="辽宁")[0] == "320706000000"
    guessed = locate("朝阳区一男子家暴妻子")
    assert guessed.ambiguous and guessed.weight < 1.0 and code_of(guessed.place) == "110105000000"


def test_former_names_renamed_units_and_nicknames() -> None:
    assert [p.code for p in extract("襄樊市樊城区")] == ["420600000000", "420606000000"]  # 襄樊 → 襄阳
    assert _where("海南通什一女童溺水")[0] == "469001000000"  # 通什 → 五指山
    assert _where("上海闸北区一阿婆被关在家里")[0] == "310106000000"  # 闸北 → 静安
    assert _where("天津塘沽一小学门口车辆冲撞")[0] == "120116000000"  # 塘沽 → 滨海新区
    assert _where("四川达县一孕妇")[0] == "511703000000"  # 达县 → 达川区
    assert _where("莱芜区一村民")[0] == "371202000000"  # 济南市莱芜区 (cpca still lists 莱芜市莱城区)
    assert _where("宁乡市一幼儿园")[0] == "430124000000"  # 撤县设市 after cpca's table
    assert _where("蓉城武侯区一小区")[0] == "510107000000"
    assert _where("鹏城南山区一公司招聘歧视")[0] == "440305000000"  # 鹏城 settles 南山区 (深圳, not 鹤岗)
    assert _where("沪上一中学")[0] == "310000000000"
    assert _where("内蒙古一女子", )[0] == "150000000000"


def test_event_place_beats_poster_and_where_people_live() -> None:
    # an IP属地 line is the poster's; the event's place is named in the text
    assert _where("郸城县一女子被家暴\nIP属地：广东") == ("411625000000", "text")
    assert _where("南充仪陇县一学校食堂中毒 发布于 北京")[0] == "511324000000"
    # 老家 / 打工 / …人 mark where the writer lives or comes from, not the event
    assert _where("我老家在四川南充仪陇县，我姐在宜宾翠屏区被打了")[0] == "511502000000"
    assert _where("我现在在浙江上虞打工，我妈在衡南县被我爸打了三十年")[0] == "430422000000"
    assert _where("我是甘肃夏河人，牡丹江市绥芬河市这边办生育津贴要跑五六趟")[0] == "231081000000"
    # a dateline names where the reporter files from
    assert _where("新华社郑州6月3日电 郸城县一小学发生踩踏")[0] == "411625000000"
    # a town whose county is named only at the end of the post
    assert _where("本报沈阳9月20日电 柳埠镇一中学食堂多名学生中毒（凌源市）")[0] == "211382000000/柳埠镇"
    assert _where("扩散！网传龙坝街道某幼儿园教师虐童（潜江市）")[0] == "429005000000/龙坝街道"


def test_author_location_and_ip_are_fallbacks_and_a_commentary_names_none() -> None:
    assert _where("我被老公打了三年，不知道该找谁", author_location="湖南 长沙") == ("430100000000", "author")
    assert _where("我被老公打了三年，不知道该找谁", ip_region="湖南") == ("430000000000", "ip")
    assert _where("我被老公打了三年\nIP属地：湖南") == ("430000000000", "ip")
    assert locate("我被老公打了三年", ip_region="湖南").weight < 0.5  # below the routing threshold
    assert _where("反家暴法实施九年了，为什么那么多女性还是不敢报警？") == (None, "none")
    assert locate("") .place is None
