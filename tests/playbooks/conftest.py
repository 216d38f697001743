"""Fixtures of the playbooks tests: a real incident row in a migrated SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 Shanghai


def make_incident(session, category: str = "rights", stage: str = "warning", severity: int = 2,
                  clock: datetime = T0, lag_minutes: int = 30, posts: int = 3) -> IncidentRow:
    detected = clock + timedelta(minutes=lag_minutes)
    row = IncidentRow(title="某地女童遭受欺凌事件", category=category, severity=severity, peak_severity=severity,
                      stage=stage, heat=10.0, peak_heat=12.5, clock_started_at=clock,
                      deadline=clock + timedelta(hours=12), detected_at=detected, stage_entered_at=detected,
                      created_at=detected, updated_at=detected)
    session.add(row)
    session.flush()
    for n in range(posts):
        pid = f"p{row.id}-{n}"
        session.add(PostRow(id=pid, platform="weibo" if n % 2 == 0 else "news", text=f"帖子{n}", url=f"https://x/{n}",
                            published_at=clock + timedelta(minutes=n), first_seen_at=detected,
                            last_seen_at=detected, reposts=10 * (n + 1), comments=5, likes=7, views=100))
        session.flush()
        session.add(IncidentPostRow(incident_id=row.id, post_id=pid, added_at=detected, reason="similar"))
    session.flush()
    return row


@pytest.fixture
def session(runtime):
    with runtime.session() as s:
        yield s
