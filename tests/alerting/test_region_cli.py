"""`yuqing incidents list --json` / `show` print the incident's region (real CLI, real database)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_list_json_and_show_carry_the_region(config_file: Path, tmp_path: Path) -> None:
    posts = [
        {"id": "r1", "platform": "weibo", "category": "rights", "severity": 2, "region": "广东",
         "published_at": "2026-03-02T09:00:00+08:00",
         "text": "南充仪陇县一女子被丈夫打成重伤，仪陇县公安局已立案。我老家在湖北麻城"},
        {"id": "r2", "platform": "weibo", "category": "policy", "severity": 1,
         "published_at": "2026-03-02T09:05:00+08:00", "text": "离婚冷静期的误读又来了，律师为你一一解答"},
    ]
    data = tmp_path / "posts.jsonl"
    data.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts), encoding="utf-8")
    yq = [sys.executable, "-m", "app.cli"]
    run = dict(capture_output=True, text=True, timeout=120)
    for args in (["init"], ["ingest", str(data)], ["process"]):
        done = subprocess.run([*yq, *args], **run)
        assert done.returncode == 0, done.stderr
    listed = subprocess.run([*yq, "incidents", "list", "--json"], **run)
    objs = {tuple(o["post_ids"]): o for o in map(json.loads, listed.stdout.splitlines())}
    region = objs[("r1",)]["region"]
    assert region["code"] == "511324000000" and region["name"] == "四川省南充市仪陇县"
    assert region["level"] == "county" and 0.5 <= region["confidence"] <= 1.0
    assert objs[("r2",)]["region"] is None  # a commentary names no place
    shown = subprocess.run([*yq, "incidents", "show", str(objs[("r1",)]["id"])], **run)
    assert "地域：四川省南充市仪陇县（县级，可信度" in shown.stdout
    as_json = subprocess.run([*yq, "incidents", "show", str(objs[("r1",)]["id"]), "--json"], **run)
    assert json.loads(as_json.stdout)["region"] == region


def test_relocate_fills_incidents_that_have_no_region_yet(config_file: Path, tmp_path: Path) -> None:
    from sqlalchemy import update

    from yuqing.db.models import IncidentRow
    from yuqing.runtime import Runtime
    from yuqing.settings import load_settings

    post = {"id": "x1", "platform": "weibo", "category": "rights", "severity": 2,
            "published_at": "2026-03-02T09:00:00+08:00", "text": "衡南县一女子被家暴，县妇联已介入"}
    data = tmp_path / "posts.jsonl"
    data.write_text(json.dumps(post, ensure_ascii=False) + "\n", encoding="utf-8")
    yq = [sys.executable, "-m", "app.cli"]
    run = dict(capture_output=True, text=True, timeout=120)
    for args in (["init"], ["ingest", str(data)], ["process"]):
        assert subprocess.run([*yq, *args], **run).returncode == 0
    rt = Runtime(load_settings(config_file))
    with rt.session() as s:  # an incident from before migration 0011: no region, no tally
        s.execute(update(IncidentRow).values(region_code=None, region_name=None, region_level=None,
                                             region_confidence=None, features={}))
    rt.close()
    done = subprocess.run([*yq, "incidents", "relocate"], **run)
    assert done.returncode == 0 and "已重新识别 1 个事件的事发地，其中 1 个有变化" in done.stdout
    listed = subprocess.run([*yq, "incidents", "list", "--json"], **run)
    assert json.loads(listed.stdout.splitlines()[0])["region"]["code"] == "430422000000"
