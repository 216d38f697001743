"""The configuration editor pages: schema-driven forms per section, field errors, nothing saved when
invalid, secrets refused, versions with who/diff, rollback, 管理员 only, CSRF."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import login
from web import config_form
from yuqing import config_store
from yuqing.runtime import Runtime


def _form(rt: Runtime, section: str) -> dict[str, str]:
    node, _ = config_form.render(section, config_store.section_data(rt.settings, section))
    return {**config_form.flatten(node), "__base_version": str(rt.config_version or "")}


def _versions(rt: Runtime) -> list[config_store.Version]:
    with rt.session() as s:
        return config_store.history(s)


def test_only_admin_and_every_section_renders(client: TestClient, web_rt: Runtime) -> None:
    login(client, "duty1")
    assert client.get("/admin/config/roster").status_code == 403
    client.cookies.clear()
    login(client, "admin1")
    for section in config_store.EDITABLE_SECTIONS:
        page = client.get(f"/admin/config/{section}")
        assert page.status_code == 200, section
        assert "保存为新版本" in page.text
    page = client.get("/admin/config/keyword_schemes")
    assert 'name="keyword_schemes.0.subject"' in page.text and "预览此方案" in page.text
    assert client.get("/admin/config/web").status_code == 404  # not an editable section
    admin = client.get("/admin").text
    assert "重启服务生效" not in admin and 'href="/admin/config/roster"' in admin


def test_save_keyword_in_force_at_once_with_history_and_rollback(client: TestClient, web_rt: Runtime) -> None:
    csrf = login(client, "admin1")
    form = _form(web_rt, "keyword_schemes")
    form["keyword_schemes.0.event"] += "\n彩礼纠纷"
    assert client.post("/admin/config/keyword_schemes", data=form).status_code == 403  # no CSRF token
    assert _versions(web_rt) == []
    resp = client.post("/admin/config/keyword_schemes",
                       data={**form, "csrf_token": csrf, "__comment": "新增彩礼纠纷"}, follow_redirects=False)
    assert resp.status_code == 303
    assert "彩礼纠纷" in web_rt.settings.keyword_schemes[0].event  # this process: at once
    (v1,) = _versions(web_rt)
    assert v1.username == "admin1" and v1.comment == "新增彩礼纠纷" and v1.changed == ["keyword_schemes"]
    page = client.get(resp.headers["location"]).text
    assert "已保存为配置版本 1" in page
    history = client.get("/admin/config/history").text
    assert "admin1" in history and "+  - 彩礼纠纷" in history and "关键词方案" in history
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", history)  # Beijing time
    # an item removed, then the first version back by rollback
    form2 = _form(web_rt, "keyword_schemes")
    form2["keyword_schemes.1.__delete"] = "on"
    removed = web_rt.settings.keyword_schemes[1].name
    client.post("/admin/config/keyword_schemes", data={**form2, "csrf_token": csrf})
    assert removed not in [s.name for s in web_rt.settings.keyword_schemes]
    resp = client.post("/admin/config/rollback/1", data={"csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303
    assert removed in [s.name for s in web_rt.settings.keyword_schemes]
    latest = _versions(web_rt)[0]
    assert latest.id == 3 and latest.rollback_of == 1 and latest.sections == v1.sections


def test_invalid_form_shows_errors_next_to_fields_and_saves_nothing(client: TestClient, web_rt: Runtime) -> None:
    csrf = login(client, "admin1")
    form = _form(web_rt, "sources")
    form["sources.0.interval_minutes"] = "0"
    form["sources.1.cookie_env"] = "SUB=_2A25Lsecretcookie; SUBP=0033"
    before = web_rt.settings.sources
    resp = client.post("/admin/config/sources", data={**form, "csrf_token": csrf})
    assert resp.status_code == 400
    assert "配置有误，未保存" in resp.text
    assert re.search(r'data-error-for="sources\.0\.interval_minutes">应大于或等于 1<', resp.text)
    assert 'data-error-for="sources.1.cookie_env">这里填写环境变量的名称' in resp.text
    assert 'value="0"' in resp.text  # what was typed stays in the form
    assert _versions(web_rt) == [] and web_rt.settings.sources == before
    # roster: an unknown person in a shift is an error of the roster, shown at its top
    form = _form(web_rt, "roster")
    form["roster.shifts.0.people"] = "nobody"
    resp = client.post("/admin/config/roster", data={**form, "csrf_token": csrf})
    assert resp.status_code == 400 and "值班表引用了未定义的人员: nobody" in resp.text
    # a new empty item: its required fields are named
    form = _form(web_rt, "channels")
    form["channels.9.__item"] = "1"
    resp = client.post("/admin/config/channels", data={**form, "csrf_token": csrf})
    assert resp.status_code == 400
    assert 'data-error-for="channels.1.name">必填' in resp.text or 'data-error-for="channels.1.type">必填' in resp.text
    assert _versions(web_rt) == []


def test_draft_scheme_preview(client: TestClient, web_rt: Runtime) -> None:
    login(client, "admin1")
    page = client.get("/admin/preview", params={"s.subject": "妇联", "s.event": "家暴\n虐童"})
    assert page.status_code == 200 and "匹配" in page.text and "家暴" in page.text
    bad = client.get("/admin/preview", params={"s.exclude": "广告"})
    assert "至少需要一个非空词组" in bad.text


def test_garbage_forms_are_refused_never_500(client: TestClient, web_rt: Runtime) -> None:
    csrf = login(client, "admin1")
    values = ["", "0", "-1", "1e309", "x" * 3000, "[" * 5000, "!!python/object:os.system", "a: [b", "\x00",
              "2026-13-45", "SUB=abc", "{a: 1}", "99999999999999999999999"]
    for section in config_store.EDITABLE_SECTIONS:
        base = _form(web_rt, section)
        for key in list(base)[:8]:
            for value in values:
                resp = client.post(f"/admin/config/{section}", data={**base, key: value, "csrf_token": csrf,
                                                                      f"{section}.999999999999999999.junk": value})
                assert resp.status_code in (200, 303, 400), (section, key, value, resp.status_code)
    versions = _versions(web_rt)
    for v in versions:  # whatever was accepted validates and holds no secret
        config_store.compose(web_rt.seed, v.sections)


def test_a_stale_form_does_not_overwrite_another_change(client: TestClient, web_rt: Runtime) -> None:
    from datetime import UTC, datetime

    csrf = login(client, "admin1")
    page = client.get("/admin/config/roster").text
    assert 'name="__base_version" value=""' in page
    form = _form(web_rt, "roster")
    # meanwhile another administrator (or `yuqing config import`) changes the roster ...
    roster = dict(config_store.section_data(web_rt.settings, "roster"), ack_timeout_minutes=7)
    with web_rt.session() as s:
        config_store.save(s, web_rt.settings, {"roster": roster}, "other", datetime(2026, 3, 2, tzinfo=UTC))
    form["roster.ack_timeout_minutes"] = "30"
    resp = client.post("/admin/config/roster", data={**form, "__base_version": "", "csrf_token": csrf})
    assert resp.status_code == 400 and "other 已保存了配置版本 1" in resp.text
    assert len(_versions(web_rt)) == 1
    # ... a change of another section is not a conflict
    form = _form(web_rt, "channels")
    form["channels.0.min_severity"] = "2"
    resp = client.post("/admin/config/channels", data={**form, "__base_version": "", "csrf_token": csrf},
                       follow_redirects=False)
    assert resp.status_code == 303
    latest = _versions(web_rt)[0]
    assert latest.sections["roster"]["ack_timeout_minutes"] == 7 and latest.sections["channels"][0]["min_severity"] == 2
    # a fresh form (based on the version in force) saves
    page = client.get("/admin/config/roster").text
    assert f'name="__base_version" value="{latest.id}"' in page
    form = _form(web_rt, "roster")
    form["roster.ack_timeout_minutes"] = "30"
    resp = client.post("/admin/config/roster", data={**form, "__base_version": str(latest.id), "csrf_token": csrf},
                       follow_redirects=False)
    assert resp.status_code == 303 and web_rt.settings.roster.ack_timeout_minutes == 30
