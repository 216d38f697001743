"""People's judgements back into training data: posts of incidents dismissed as false alarms
become ``none``; posts relabelled by a person (``classifications.by_user``) take that label."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.db.models import ClassificationRow, IncidentPostRow, IncidentRow, PostRow
from yuqing.domain import Post

POST_FIELDS = [name for name in Post.model_fields]


def _wire(row: PostRow) -> dict[str, Any]:
    data = {name: getattr(row, name, None) for name in POST_FIELDS}
    return Post.model_validate(data).to_wire()


def feedback_rows(session: Session) -> list[dict[str, Any]]:
    """Labelled posts (post schema + label_category/label_severity); a person's relabel wins."""
    labels: dict[str, tuple[str, int, str]] = {}
    dismissed = session.execute(
        select(IncidentPostRow.post_id).join(IncidentRow, IncidentRow.id == IncidentPostRow.incident_id)
        .where(IncidentRow.stage == "dismissed")).scalars()
    for post_id in dismissed:
        labels[post_id] = ("none", 0, "dismissed")
    relabels = session.execute(select(ClassificationRow).where(ClassificationRow.by_user.is_not(None))
                               .order_by(ClassificationRow.created_at, ClassificationRow.id)).scalars()
    for row in relabels:
        sev = 0 if row.category == "none" else max(1, min(4, int(row.severity)))
        labels[row.post_id] = (row.category, sev, f"relabel:{row.by_user}")
    out = []
    for post_id in sorted(labels):
        post = session.get(PostRow, post_id)
        if post is None:
            continue
        category, severity, origin = labels[post_id]
        obj = _wire(post)
        obj.update(label_category=category, label_severity=severity, label_source=origin)
        out.append(obj)
    return out
