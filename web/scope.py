"""Which incidents a signed-in user may see and act on: their unit's and every unit's below it.

One rule for every incident-reading and acting path (board, incident page and its actions,
search results linking incidents, JSON API, reports):

* a user belongs to a unit (``users.unit_id``); a user without a unit is the root and sees all;
* a unit sees the incidents it owns (``incidents.unit_id``) and those of its whole subtree
  (alerting.units.subtree); an incident with no owner stored belongs to the root;
* without ``units:`` in the settings nobody is restricted (everything behaves as before);
* an incident outside the user's scope answers **404 事件不存在** — exactly what a missing
  incident answers, so a neighbouring county cannot even learn that it exists.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import select

from alerting import units
from yuqing.db.models import IncidentRow, UserRow
from yuqing.errors import InputError


def unit_of_user(session: Any, username: str) -> str | None:
    return session.scalar(select(UserRow.unit_id).where(UserRow.username == username))


def scope_for(settings: Any, unit_id: str | None) -> set[str] | None:
    """Unit ids a user of ``unit_id`` sees; None = everything."""
    if not settings.units:
        return None
    return units.subtree(settings, unit_id)


def viewer_scope(request: Request, username: str) -> set[str] | None:
    """The signed-in user's scope (None = no restriction)."""
    rt = request.app.state.rt
    if not rt.settings.units:
        return None
    with rt.session() as s:
        return scope_for(rt.settings, unit_of_user(s, username))


def restrict(stmt: Any, scope: set[str] | None, settings: Any) -> Any:
    """``stmt`` (a select over IncidentRow) limited to the scope."""
    if scope is None:
        return stmt
    root_id = units.root(settings).id
    if root_id in scope:  # cannot happen for a non-root scope, kept for safety
        return stmt.where((IncidentRow.unit_id.in_(scope)) | (IncidentRow.unit_id.is_(None)))
    return stmt.where(IncidentRow.unit_id.in_(scope))


def sees(scope: set[str] | None, settings: Any, unit_id: str | None) -> bool:
    if scope is None:
        return True
    return (unit_id or units.root(settings).id) in scope


def require_visible(request: Request, username: str, incident_id: int) -> None:
    """404 (the same answer as a missing incident) unless the user may see the incident."""
    rt = request.app.state.rt
    scope = viewer_scope(request, username)
    if scope is None:
        return
    with rt.session() as s:
        unit_id = s.scalar(select(IncidentRow.unit_id).where(IncidentRow.id == int(incident_id)))
        exists = s.scalar(select(IncidentRow.id).where(IncidentRow.id == int(incident_id))) is not None
    if not exists or not sees(scope, rt.settings, unit_id):
        raise HTTPException(404, f"事件 {incident_id} 不存在")


def visible_ids(request: Request, username: str, ids: list[int]) -> set[int]:
    """Those of ``ids`` the user may see."""
    rt = request.app.state.rt
    scope = viewer_scope(request, username)
    if scope is None or not ids:
        return set(ids)
    with rt.session() as s:
        rows = s.execute(select(IncidentRow.id, IncidentRow.unit_id).where(IncidentRow.id.in_(ids))).all()
    return {i for i, u in rows if sees(scope, rt.settings, u)}


def set_user_unit(session: Any, settings: Any, username: str, unit_id: str | None, now: Any,
                  actor: str = "system") -> None:
    """Put a user in a unit (None/"" = the root); audited. Raises InputError for an unknown unit."""
    from yuqing import audit

    unit_id = (unit_id or "").strip() or None
    if unit_id is not None and (not settings.units or units.get(settings, unit_id) is None):
        known = "、".join(u.id for u in settings.units) or "（未配置 units）"
        raise InputError(f"单位 {unit_id} 不存在（可选: {known}）")
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None:
        raise InputError(f"用户 {username} 不存在")
    before = user.unit_id
    user.unit_id = unit_id
    audit.record(session, actor=actor, action="user.unit", object_type="user", object_id=username, at=now,
                 before={"unit_id": before}, after={"unit_id": unit_id})
