"""The federation used by the unit tests: 厦门市妇联 with two district federations, each with a roster."""

from __future__ import annotations

from typing import Any


def person(pid: str, name: str) -> dict[str, Any]:
    return {"id": pid, "name": name}


def roster(duty: str, lead: str) -> dict[str, Any]:
    return {"people": [person(duty, duty), person(lead, lead)],
            "shifts": [{"people": [duty]}],
            "escalation": [{"name": "值班员", "people": []}, {"name": "分管领导", "people": [lead]}],
            "ack_timeout_minutes": 30}


UNITS: list[dict[str, Any]] = [
    {"id": "xm", "name": "厦门市妇联", "region": "350200", "level": "city", "roster": roster("xm_duty", "xm_lead")},
    {"id": "siming", "name": "思明区妇联", "region": "350203", "level": "county", "parent": "xm",
     "roster": roster("siming_duty", "siming_lead")},
    {"id": "huli", "name": "湖里区妇联", "region": "350206", "level": "county", "parent": "xm",
     "roster": roster("huli_duty", "huli_lead")},
]
