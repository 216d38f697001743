"""`feedback export`: dismissed incidents → none; a person's relabel wins."""

from __future__ import annotations

from datetime import UTC, datetime

from classifier.feedback import feedback_rows
from yuqing.db.models import ClassificationRow, IncidentPostRow, IncidentRow, PostRow


def _post(pid: str, now: datetime) -> PostRow:
    return PostRow(id=pid, platform="weibo", text=f"帖子 {pid}", first_seen_at=now, last_seen_at=now,
                   reposts=3, keywords=[])


def test_feedback_rows(runtime):
    now = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    with runtime.session() as s:
        for pid in ("a", "b", "c"):
            s.add(_post(pid, now))
        s.flush()
        inc = IncidentRow(title="误报", category="rights", severity=2, stage="dismissed", detected_at=now,
                          created_at=now, updated_at=now)
        open_inc = IncidentRow(title="进行中", category="rights", severity=2, stage="warning", detected_at=now,
                               created_at=now, updated_at=now)
        s.add_all([inc, open_inc])
        s.flush()
        s.add_all([IncidentPostRow(incident_id=inc.id, post_id="a", added_at=now),
                   IncidentPostRow(incident_id=inc.id, post_id="b", added_at=now),
                   IncidentPostRow(incident_id=open_inc.id, post_id="c", added_at=now)])
        s.add(ClassificationRow(post_id="b", category="work", severity=2, scores={}, by_user="duty1", created_at=now))
        s.add(ClassificationRow(post_id="c", category="rights", severity=2, scores={}, created_at=now))
    with runtime.session() as s:
        rows = {r["id"]: r for r in feedback_rows(s)}
    assert set(rows) == {"a", "b"}
    assert rows["a"]["label_category"] == "none" and rows["a"]["label_severity"] == 0
    assert rows["b"]["label_category"] == "work" and rows["b"]["label_severity"] == 2
    assert rows["a"]["platform"] == "weibo" and rows["a"]["text"] == "帖子 a"


def test_feedback_labels_replace_the_corpus_and_always_train(tmp_path):
    import json

    from classifier.corpus import by_split, read_labelled, split_of, with_feedback
    from tests.classifier.conftest import FIXTURES

    examples, _ = read_labelled(FIXTURES / "tiny.jsonl")
    crisis = next(e for e in examples if e.is_crisis and split_of(e.post.id) != "train")
    row = crisis.post.to_wire() | {"label_category": "none", "label_severity": 0}
    extra = {"id": "fb-1", "platform": "weibo", "text": "县妇联举办反家暴宣传周活动", "label_category": "none",
             "label_severity": 0}
    path = tmp_path / "feedback.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n" + json.dumps(extra, ensure_ascii=False) + "\nbad\n",
                    encoding="utf-8")
    merged, problems = with_feedback(examples, [path])
    assert len(problems) == 1 and "line 3" in problems[0]
    assert len(merged) == len(examples) + 1
    relabelled = [e for e in merged if e.post.id == crisis.post.id]
    assert len(relabelled) == 1 and not relabelled[0].is_crisis and relabelled[0].severity == 0
    train_ids = {e.post.id for e in by_split(merged)["train"]}
    assert {crisis.post.id, "fb-1"} <= train_ids
