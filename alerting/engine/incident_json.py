"""Incidents as JSON objects: the contract's INC line, also printed by `yuqing incidents list --json`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.engine.region import region_json
from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow
from yuqing.timeutil import iso_shanghai


def post_ids(session: Session, incident_id: int) -> list[str]:
    rows = session.execute(
        select(PostRow.id).join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
        .where(IncidentPostRow.incident_id == incident_id)
        .order_by(PostRow.published_at, PostRow.id)).scalars()
    return list(rows)


def incident_json(session: Session, incident: IncidentRow) -> dict[str, Any]:
    return {
        "id": incident.id,
        "category": incident.category,
        "severity": incident.severity,
        "stage": incident.stage,
        "post_ids": post_ids(session, incident.id),
        "clock_started_at": iso_shanghai(incident.clock_started_at),
        "deadline": iso_shanghai(incident.deadline),
        "first_response_at": iso_shanghai(incident.first_response_at),
        "heat": round(float(incident.heat or 0.0), 2),
        "region": region_json(incident),  # {"code", "name", "level", "confidence"} or null
    }


def list_incidents(session: Session, *, stages: list[str] | None = None,
                   include_merged: bool = False) -> list[IncidentRow]:
    query = select(IncidentRow).order_by(IncidentRow.id)
    if not include_merged:
        query = query.where(IncidentRow.merged_into.is_(None))
    if stages:
        query = query.where(IncidentRow.stage.in_(stages))
    return list(session.scalars(query))
