"""yuqing/places.py: places found in text and the administrative hierarchy (real cpca gazetteer)."""

from __future__ import annotations

from yuqing.places import Place, conflicts, contains, extract, lookup, most_specific


def _one(text: str) -> Place:
    found = [p for p in extract(text) if p.level != "province"]
    assert found, text
    return found[-1]


def test_full_and_short_names_resolve_to_codes_and_levels() -> None:
    places = extract("河南周口郸城县汲冢镇一幼儿园")
    assert [(p.name, p.level) for p in places] == [("河南省", "province"), ("周口市", "city"),
                                                    ("郸城县", "county"), ("汲冢镇", "town")]
    assert places[2].code == "411625000000"
    assert extract("郸城一幼儿园")[0].code == "411625000000"  # short name
    assert extract("广西壮族自治区桂林市")[0].code == "450000000000"


def test_county_named_alone_is_inside_its_city_and_province() -> None:
    county = _one("衡南县一女子")
    assert county.parents == ("430000000000", "430400000000")
    assert contains(lookup("430400000000"), county)  # 衡阳市 ⊃ 衡南县
    assert contains(lookup("430000000000"), county)  # 湖南省 ⊃ 衡南县
    assert not contains(county, lookup("430400000000"))
    assert not conflicts(county, lookup("430400000000"))


def test_two_counties_conflict_and_a_county_conflicts_with_another_city() -> None:
    hengnan, lianyuan = _one("衡南县"), _one("涟源市")
    assert conflicts(hengnan, lianyuan) and conflicts(lianyuan, hengnan)
    assert conflicts(hengnan, lookup("411600000000"))  # 周口市
    assert not conflicts(hengnan, hengnan)


def test_village_in_town_in_county_chain() -> None:
    county, town, village = extract("全州县才湾镇南一村一民办幼儿园围墙倒塌")
    assert (town.level, village.level) == ("town", "village")
    assert county.code in town.parents and town.code in village.parents
    assert contains(county, village) and contains(town, village)
    other_town = extract("全州县石塘镇")[1]
    assert conflicts(town, other_town)
    assert conflicts(village, other_town)  # the village lies in 才湾镇, not 石塘镇
    # a town named without its county conflicts with no county (it is not known where it lies)
    bare = extract("才湾镇")[0]
    assert bare.parents == () and not conflicts(bare, _one("涟源市"))


def test_a_commentary_names_no_place_and_common_words_are_not_places() -> None:
    assert extract("这起事故暴露了民办园安全监管的漏洞，值得全社会反思") == []
    assert extract("希望都没事，东方卫视报道了，和平解决") == []
    assert extract("我家住在农村，嫁到隔壁村") == []


def test_ambiguous_name_is_resolved_by_context_or_dropped() -> None:
    assert [p.code for p in extract("北京朝阳区一小区")] == ["110000000000", "110105000000"]
    assert extract("朝阳区一小区") == []  # 朝阳区 of 北京 or of 长春: unknown, not guessed


def test_most_specific_and_json_round_trip() -> None:
    places = extract("湖南衡阳衡南县")
    assert [p.name for p in most_specific(places)] == ["衡南县"]
    for p in places:
        assert Place.from_json(p.to_json()) == p
