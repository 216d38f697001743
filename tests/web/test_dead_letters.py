"""管理 → 死信: posts and notifications given up after their attempts, shown with reason, attempts and
time to administrators only, and put back in their queue by 重新排队 (a CSRF-checked POST)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from alerting.sender import claim_due, send_due
from app.worker import MAX_ATTEMPTS, claim
from tests.web.conftest import login
from yuqing.db.models import AuditRow, NotificationRow, PostRow
from yuqing.runtime import Runtime


def _make_dead_letters(rt: Runtime) -> int:
    """A post whose workers all died, and a notification whose senders all died (real claim paths)."""
    now = rt.clock.now()
    with rt.session() as s:
        s.execute(update(PostRow).where(PostRow.id == "w:2")
                  .values(status="processing", attempts=MAX_ATTEMPTS, claimed_at=now - timedelta(minutes=5)))
        note_id = s.scalars(select(NotificationRow.id).where(NotificationRow.status == "pending")
                            .order_by(NotificationRow.id)).first()
        s.execute(update(NotificationRow).where(NotificationRow.id != note_id, NotificationRow.status == "pending")
                  .values(status="suppressed"))
    assert claim(rt, 10, now) == []  # claimed MAX_ATTEMPTS times already: dead, not handed out
    for i in range(rt.settings.notify.max_attempts):  # each sender claims it and dies
        assert [c.id for c in claim_due(rt, now + timedelta(minutes=10 * i), f"dead-{i}")] == [note_id]
    report = send_due(rt, now + timedelta(hours=3), worker_id="survivor")
    assert report.dead == 1 and report.sent == 0, report.errors
    return note_id


def test_admin_sees_dead_letters_and_requeues_them(client: TestClient, web_rt: Runtime) -> None:
    note_id = _make_dead_letters(web_rt)
    token = login(client, "duty1")
    assert client.get("/admin").status_code == 403
    client.post("/logout", data={"csrf_token": token})
    token = login(client, "admin1")
    page = client.get("/admin")
    assert page.status_code == 200
    dead = page.text.split('<section id="dead">')[1].split("</section>")[0]
    assert "w:2" in dead and "处理进程多次中断" in dead and f"<td>{MAX_ATTEMPTS}</td>" in dead
    assert f"#{note_id}" in dead and "发送进程多次中断" in dead
    assert dead.count("重新排队</button>") == 2

    # without the CSRF token nothing happens
    refused = client.post("/admin/dead/requeue", data={"kind": "post", "id": "w:2"}, follow_redirects=False)
    assert refused.status_code in (400, 403)
    with web_rt.session() as s:
        assert s.get(PostRow, "w:2").status == "dead"

    for kind, object_id in (("post", "w:2"), ("notification", str(note_id))):
        resp = client.post("/admin/dead/requeue", data={"kind": kind, "id": object_id, "csrf_token": token},
                           follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"].endswith("#dead")
        assert "已重新排队" in client.get("/admin").text
    with web_rt.session() as s:
        post, note = s.get(PostRow, "w:2"), s.get(NotificationRow, note_id)
        assert (post.status, post.attempts, post.error) == ("pending", 0, None)
        assert (note.status, note.attempts, note.claimed_by) == ("pending", 0, None)
        actions = list(s.scalars(select(AuditRow.action).where(AuditRow.action == "dead_letter.requeue")))
    assert len(actions) == 2
    # a second requeue of what is no longer dead is refused with a message, nothing changes
    client.post("/admin/dead/requeue", data={"kind": "post", "id": "w:2", "csrf_token": token},
                follow_redirects=False)
    assert "帖子 w:2 不在死信中" in client.get("/admin").text
    # requeued, the post goes through again
    from app.worker import process

    assert process(web_rt).done == 1
