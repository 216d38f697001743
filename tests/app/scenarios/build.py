"""Writes the scenario files of tests/alerting/scenarios/ (run it after editing; the files are committed).

Each post carries its gold event in ``event`` (an extra wire field the product ignores), so the
tests can measure the precision and recall of incident grouping.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
TZ = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)  # a Monday


def t(hours: float) -> str:
    return (DAY0 + timedelta(hours=hours)).isoformat()


def post(pid: str, hours: float, text: str, category: str, severity: int, event: str | None, *,
         platform: str = "weibo", fetched: float | None = None, author: str = "网友", followers: int = 200,
         reposts: int = 0, comments: int = 0, likes: int = 0, verified: bool = False, **extra: object) -> dict:
    obj = {"id": pid, "platform": platform, "text": text, "author": author, "author_followers": followers,
           "author_verified": verified, "published_at": t(hours),
           "fetched_at": t(fetched if fetched is not None else hours + 0.1),
           "reposts": reposts, "comments": comments, "likes": likes, "url": f"https://weibo.com/{pid}",
           "category": category, "severity": severity, "event": event}
    obj.update(extra)
    return obj


def action(name: str, hours: float, post_id: str, **extra: object) -> dict:
    return {"action": name, "at": t(hours), "post_id": post_id, **extra}


def write(name: str, lines: list[dict]) -> None:
    with (HERE / name).open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def concurrent() -> list[dict]:
    """Three events in the same hours (two of them rights in the same hour) over three days, with noise."""
    a = "kindergarten"
    b = "dv_shaoyang"
    c = "subsidy_policy"
    return [
        post("a1", 1.0, "江西南昌市青山湖区一幼儿园4岁女童从二楼坠落身亡，家属质疑园方监管不力", "rights", 2, a),
        post("b1", 1.2, "湖南邵阳一女子长期遭丈夫家暴，报警后仍被殴打致重伤住院，邻居拍下视频", "rights", 2, b),
        post("n1", 1.3, "市妇联举办三八妇女节巾帼建功表彰大会，表彰一批先进集体和个人", "none", 0, None),
        post("a2", 2.0, "南昌青山湖区幼儿园女童坠楼事件：园方称老师当时在隔壁教室，家属要求公开监控", "rights", 2, a),
        post("b2", 2.5, "邵阳家暴女子伤情曝光，当地妇联已介入，帮助申请人身安全保护令", "rights", 2, b),
        post("n2", 3.0, "南昌一幼儿园开展春季安全教育活动，小朋友学习防火知识", "none", 0, None),
        post("a3", 5.0, "#南昌幼儿园女童坠亡# 教育局通报：涉事幼儿园已停业整顿，园长被约谈", "rights", 3, a,
             author="南昌发布", verified=True, followers=800000, reposts=900, comments=1200, likes=5000),
        post("c1", 26.0, "网传育儿补贴只发给二孩家庭？不少家长在问，新政到底怎么领", "policy", 1, c),
        post("a4", 28.0, "女童在幼儿园二楼坠落身亡一事，青山湖区调查组公布初步调查结果", "rights", 2, a),
        post("b3", 30.0, "湖南邵阳警方通报：男子涉嫌故意伤害已被刑拘，家暴受害女子仍在治疗", "rights", 2, b,
             author="邵阳警方", verified=True, followers=300000, reposts=300, comments=500, likes=2000),
        post("c2", 30.5, "育儿补贴新政解读：每个三岁以下孩子都能领，并非只给二孩，网传说法不实", "policy", 1, c),
        post("n3", 31.0, "湖南邵阳油菜花开，游客踏青赏花", "none", 0, None),
        post("c3", 50.0, "关于育儿补贴申领范围的误读仍在发酵，有家长质疑妇联宣传不到位", "policy", 2, c),
        post("a5", 52.0, "南昌幼儿园女童坠亡事件后续：家属与园方达成调解，涉事老师被停职", "rights", 2, a),
    ]


def storm() -> list[dict]:
    """A post reposted by many accounts within two hours: every repost joins the original's incident."""
    base = post("s0", 10.0, "某县妇联工作人员被曝对求助的家暴受害者态度冷漠，称“家务事自己解决”，视频引发众怒",
                "image", 1, "cold_staff", reposts=50, comments=80, likes=300)
    lines = [base]
    for i in range(1, 41):
        lines.append(post(f"s{i}", 10.0 + i * 0.05, "转发微博" if i % 3 else "太过分了！//转发微博", "image", 1,
                          "cold_staff", repost_of="s0", followers=100 + 50 * i,
                          reposts=i * 5, comments=i * 3, likes=i * 20))
    # the original's counts grow as the storm goes on (same id: engagement update, re-queued)
    for step, hours in enumerate((11.0, 12.0, 13.0), start=1):
        update = dict(base)
        update.update(fetched_at=t(hours), reposts=50 + 3000 * step, comments=80 + 2000 * step,
                      likes=300 + 9000 * step)
        lines.append(update)
    lines.append(action("ack", 10.5, "s0"))
    return lines


def late() -> list[dict]:
    """An old post found late moves the clock earlier and breaches at once."""
    return [
        post("l1", 20.0, "河南周口一小学女生在校遭同学欺凌，视频在网上流传，家长称学校不作为", "rights", 2, "bully",
             fetched=20.2),
        # published 14 h before detection: the incident is already late when this is found
        post("l0", 6.0, "周口某小学女生被多名同学围殴的视频，网友呼吁教育部门彻查", "rights", 2, "bully",
             fetched=21.0),
        post("x1", 22.0, "浙江温州一托育机构被曝虐童，家长调取监控发现孩子被老师推搡", "rights", 2, "nursery",
             fetched=22.1),
        action("ack", 22.1, "x1"),
        action("respond", 25.0, "x1", url="https://weibo.com/wenzhou/statement"),
    ]


def aftermath() -> list[dict]:
    """Respond, heat falls (善后), then a new surge (二次发酵) sends it back to 应对."""
    ev = "bride_price"
    lines = [
        post("f1", 0.0, "甘肃一地彩礼纠纷致新娘被家暴，当地妇联调解被指偏袒男方", "work", 2, ev,
             reposts=200, comments=300, likes=800),
        post("f2", 0.5, "甘肃彩礼纠纷新娘遭家暴，妇联调解偏袒男方？网友热议", "work", 2, ev,
             reposts=100, comments=200, likes=500),
        action("ack", 0.6, "f1"),
        action("advance", 1.0, "f1", reason="成立应对小组"),
        action("respond", 3.0, "f1", url="https://weibo.com/gansu_fulian/statement"),
    ]
    # two days later: a new video reignites it
    for i in range(12):
        lines.append(post(f"g{i}", 60.0 + i * 0.2, f"甘肃彩礼纠纷新娘遭家暴事件又有新视频曝光，妇联调解过程被质疑（{i}）",
                          "work", 2, ev, reposts=400 + 50 * i, comments=600, likes=2000, followers=5000))
    return lines


def false_alarm() -> list[dict]:
    return [
        post("d1", 9.0, "网传山东临沂一女童被拐卖，警方正在寻找", "emergency", 2, "rumour"),
        action("dismiss", 9.5, "d1", reason="经核实为旧闻谣言，女童已于当日找到"),
        post("d2", 12.0, "山东临沂女童被拐卖系谣言，女童已平安回家", "emergency", 1, "rumour"),
    ]


if __name__ == "__main__":
    write("concurrent.jsonl", concurrent())
    write("storm.jsonl", storm())
    write("late.jsonl", late())
    write("aftermath.jsonl", aftermath())
    write("false_alarm.jsonl", false_alarm())
