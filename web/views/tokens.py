"""API 令牌 page: a user creates personal API tokens (each shown once, right after it is made), sees
them by prefix with their last use, and revokes them; a 管理员 sees and revokes everyone's.

Forms carry the session's CSRF token. Creating answers with a redirect (so reloading the page
never makes a second token); the new token waits in the server's memory under a random one-time
key for at most five minutes, is shown once to the user who made it and is then forgotten — it is
never stored in the database, the session cookie or a URL.
"""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.api_tokens import NewToken, create_token, list_tokens, revoke_token
from web.deps import CurrentUser, csrf_token, page_user, rt_of, verify_csrf
from web.templating import templates
from yuqing.db.models import ApiTokenRow
from yuqing.errors import InputError

router = APIRouter()
SHOW_FOR_S = 300
MAX_WAITING = 1000


def _waiting(request: Request) -> dict[str, tuple[float, str, NewToken]]:
    store = getattr(request.app.state, "new_tokens", None)
    if store is None:
        store = request.app.state.new_tokens = {}
    now = time.monotonic()
    for key in [k for k, (at, _, _) in store.items() if now - at > SHOW_FOR_S]:
        del store[key]
    return store


def _take(request: Request, user: CurrentUser, key: str | None) -> NewToken | None:
    """The token made by ``user`` under this one-time key, once; None otherwise."""
    if not key:
        return None
    store = _waiting(request)
    entry = store.get(key)
    if entry is None or entry[1] != user.username:
        return None
    del store[key]
    return entry[2]


def _page(request: Request, user: CurrentUser, new: NewToken | None = None, error: str = "",
          status: int = 200) -> Response:
    rt = rt_of(request)
    everyone = user.can("admin")
    with rt.session() as s:
        rows = list_tokens(s, None if everyone else user.username)
        s.expunge_all()
    return templates.TemplateResponse(request, "tokens.html", {
        "user": user, "csrf": csrf_token(request), "tokens": rows, "everyone": everyone, "new": new,
        "error": error, "flash": request.session.pop("flash", None)}, status_code=status)


@router.get("/tokens", response_class=HTMLResponse, include_in_schema=False)
def tokens_page(request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    new = _take(request, user, request.session.pop("new_token_key", None))
    response = _page(request, user, new=new)
    if new is not None:
        response.headers["Cache-Control"] = "no-store"  # the token is in this answer only
    return response


@router.post("/tokens", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(verify_csrf)])
async def create(request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    form = await request.form()
    label = str(form.get("label") or "")
    rt = rt_of(request)
    try:
        with rt.session() as s:
            new = create_token(s, user.username, label, rt.clock.now(), actor=user.username)
    except InputError as exc:
        return _page(request, user, error=str(exc), status=400)
    store = _waiting(request)
    while len(store) >= MAX_WAITING:
        store.pop(next(iter(store)))
    key = secrets.token_urlsafe(16)
    store[key] = (time.monotonic(), user.username, new)
    request.session["new_token_key"] = key
    return RedirectResponse("/tokens", status_code=303)


@router.post("/tokens/{token_id}/revoke", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def revoke(token_id: int, request: Request, user: CurrentUser = Depends(page_user)) -> Response:
    rt = rt_of(request)
    with rt.session() as s:
        row = s.get(ApiTokenRow, token_id)
        if row is None or (row.username != user.username and not user.can("admin")):
            raise HTTPException(404, f"令牌 {token_id} 不存在")
        changed = revoke_token(s, row, rt.clock.now(), actor=user.username)
        request.session["flash"] = (f"已撤销令牌 {row.prefix}…（{row.label}）" if changed
                                    else f"令牌 {row.prefix}… 此前已撤销")
    return RedirectResponse("/tokens", status_code=303)
