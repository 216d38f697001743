"""An incident's region on a real database and the real engine: posts vote, joins recompute it,
merges rebuild it, and it is printed in the INC/--json objects."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from alerting import actions
from alerting.engine.core import handle_posts
from alerting.engine.incident_json import incident_json
from alerting.engine.region import aggregate, region_of_incident, region_zh
from yuqing import places
from yuqing.db.models import IncidentRow, PostRow
from yuqing.domain import Post
from yuqing.runtime import Runtime
from yuqing.store import store_posts

T0 = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


def _feed(rt: Runtime, now: datetime, *posts: dict) -> None:
    with rt.session() as s:
        store_posts(s, [Post.model_validate({"platform": "weibo", "published_at": T0.isoformat(), **p})
                        for p in posts], now)
        rows = [s.get(PostRow, p["id"]) for p in posts]
        for row in rows:
            row.category, row.severity = "rights", 2
        handle_posts(s, rows, now, rt.settings)


def _incident_of(rt: Runtime, post_id: str) -> int:
    from alerting.engine.grouping import incident_of_post

    with rt.session() as s:
        inc = incident_of_post(s, post_id)
        assert inc is not None
        return inc.id


def test_region_follows_the_posts_that_join(runtime: Runtime) -> None:
    now = T0 + timedelta(minutes=5)
    # the first post names only the province; the IP属地 is elsewhere (the poster's, not the event's)
    _feed(runtime, now, {"id": "a", "text": "河南一女子被丈夫当街殴打致重伤，视频曝光", "region": "广东"})
    inc = _incident_of(runtime, "a")
    with runtime.session() as s:
        first = region_of_incident(s, inc)
    assert first is not None and (first.code, first.level) == ("410000000000", "province")
    # a repost names the county and town: the region becomes the town (inside 郸城县), agreed by both
    _feed(runtime, now, {"id": "b", "text": "郸城县汲冢镇警方通报：男子殴打妻子已被刑拘", "repost_of": "a"})
    with runtime.session() as s:
        region = region_of_incident(s, inc)
        row = s.get(IncidentRow, inc)
        obj = incident_json(s, row)
        shown = region_zh(row)
    assert region is not None
    assert region.code == "411625000000/汲冢镇" and region.level == "town"
    assert places.contains_code("411625", region.code) and places.contains_code("411600000000", region.code)
    assert not places.contains_code("411621000000", region.code)  # 扶沟县
    assert region.confident and region.name == "河南省周口市郸城县汲冢镇"
    assert obj["region"] == region.to_json() and set(obj["region"]) == {"code", "name", "level", "confidence"}
    assert "郸城县汲冢镇" in shown
    # a commentary naming no place joins and changes nothing
    _feed(runtime, now, {"id": "c", "text": "家暴不是家务事，转发呼吁关注", "repost_of": "a", "region": "北京"})
    with runtime.session() as s:
        assert region_of_incident(s, inc) == region


def test_no_place_is_null_and_ip_only_is_not_confident(runtime: Runtime) -> None:
    now = T0 + timedelta(minutes=5)
    _feed(runtime, now, {"id": "n", "text": "关于女性就业歧视的讨论：招聘中的性别门槛何时消失"})
    _feed(runtime, now, {"id": "i", "text": "我被老公打了三年，不知道该找谁求助，求大家支招", "region": "湖南"})
    with runtime.session() as s:
        nothing = s.get(IncidentRow, _incident_of(runtime, "n"))
        assert incident_json(s, nothing)["region"] is None
        assert region_zh(nothing).startswith("未识别")
        ip_only = region_of_incident(s, _incident_of(runtime, "i"))
    assert ip_only is not None and ip_only.code == "430000000000" and not ip_only.confident


def test_merge_rebuilds_the_region_from_all_posts(runtime: Runtime) -> None:
    now = T0 + timedelta(minutes=5)
    _feed(runtime, now, {"id": "m1", "text": "长沙岳麓区一小学食堂饭菜发霉，家长要求彻查"})
    _feed(runtime, now, {"id": "m2", "text": "网传某地幼儿园老师体罚学生，园方回应正在调查", "region": "湖南"})
    a, b = _incident_of(runtime, "m1"), _incident_of(runtime, "m2")
    assert a != b
    with runtime.session() as s:
        actions.merge(s, a, [b], actor="tester", now=now, settings=runtime.settings)
    with runtime.session() as s:
        region = region_of_incident(s, a)
        target = s.scalars(select(IncidentRow).where(IncidentRow.id == a)).one()
        assert set(target.features["region"]) == {"text|430104000000", "ip|430000000000"}  # both posts
    assert region is not None and region.code == "430104000000"  # 岳麓区; the IP vote lies inside 湖南


def test_aggregate_conflicting_counties_falls_back_to_their_common_unit() -> None:
    a = places.extract("衡南县")[0]
    b = places.extract("衡东县")[0]
    region = aggregate([(a, 1.0), (b, 1.0)])
    assert region is not None and region.code == "430400000000" and region.level == "city"  # 衡阳市
    assert region.confidence == 1.0  # both lie in 衡阳市: sure of the city, not of a county
    far = aggregate([(a, 1.0), (places.extract("郸城县")[0], 1.0)])
    assert far is None  # 湖南 against 河南: no unit holds a majority
    assert aggregate([]) is None
    majority = aggregate([(a, 1.0), (a, 1.0), (b, 1.0)])
    assert majority is not None and majority.code == a.code and 0.5 < majority.confidence < 1.0


def test_the_tally_is_bounded_and_the_dropped_weight_still_counts() -> None:
    from types import SimpleNamespace

    from alerting.engine.region import MAX_VOTES, REST_KEY, note_post

    incident = IncidentRow(features={})
    counties = [c for c in places.gazetteer().names if c.startswith("41") and c[4:6] != "00"][: MAX_VOTES + 5]
    for i in range(12):  # the event: 郸城县, named by a dozen posts
        note_post(incident, SimpleNamespace(text=f"郸城县一女子被家暴（{i}）", title=None, extra={}))
    for code in counties:  # and one mention each of many other counties of 河南
        note_post(incident, SimpleNamespace(text=f"{places.gazetteer().names[code]}也有过类似的事", title=None,
                                            extra={}))
    tally = incident.features["region"]
    assert len([k for k in tally if k != REST_KEY]) == MAX_VOTES and tally[REST_KEY]["n"] >= 5
    assert incident.region_level == "province" and incident.region_code == "410000000000"  # no county has a majority



def test_where_commenters_live_does_not_outvote_the_event() -> None:
    from types import SimpleNamespace

    from alerting.engine.region import note_post

    incident = IncidentRow(features={})
    note_post(incident, SimpleNamespace(text="郸城县一女子被家暴", title=None, extra={}))
    for name in ("杭州", "成都", "西安", "南京"):  # "X网友": the commenter's place, not the event's
        note_post(incident, SimpleNamespace(text=f"{name}网友表示愤慨", title=None, extra={}))
    assert incident.region_code == "411625000000"


def test_split_rebuilds_both_regions(runtime: Runtime) -> None:
    now = T0 + timedelta(minutes=5)
    _feed(runtime, now, {"id": "s1", "text": "衡阳衡南县一小学发生踩踏，多名学生受伤"})
    _feed(runtime, now, {"id": "s2", "text": "衡南县踩踏后续：涉事学校校长被停职", "repost_of": "s1"},
          {"id": "s3", "text": "邵阳新邵县一女子被家暴", "repost_of": "s1"})
    source = _incident_of(runtime, "s1")
    with runtime.session() as s:
        mixed = region_of_incident(s, source)
        assert mixed is not None and mixed.code == "430422000000"  # 2 of 3 posts: 衡南县
        new = actions.split(s, source, ["s3"], actor="tester", now=now, settings=runtime.settings)
        new_id = new.id
    with runtime.session() as s:
        kept, moved = region_of_incident(s, source), region_of_incident(s, new_id)
    assert kept is not None and kept.code == "430422000000" and kept.confidence == 1.0
    assert moved is not None and moved.code == "430522000000"  # 新邵县
