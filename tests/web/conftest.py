"""Web fixtures: a real instance with incidents made by the real engine, users of every role,
and (for the browser tests) the app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.worker import process
from web.app import create_app
from web.auth import add_user
from yuqing.domain import Post
from yuqing.runtime import Runtime
from yuqing.store import store_posts
from yuqing.timeutil import to_shanghai

PASSWORD = "correct-horse-9"
ROLES = {"duty1": "duty", "resp1": "responder", "ana1": "analyst", "admin1": "admin"}


def make_posts(rt: Runtime, specs: list[dict]) -> None:
    """Store pre-classified posts (category/severity as a scenario carries them) and run the pipeline."""
    now = rt.clock.now()
    posts = []
    for spec in specs:
        spec = dict(spec)
        hours_ago = spec.pop("hours_ago", 1)
        posts.append(Post.model_validate({
            "platform": "weibo", "published_at": to_shanghai(now - timedelta(hours=hours_ago)).isoformat(),
            "fetched_at": to_shanghai(now).isoformat(), **spec}))
    with rt.session() as s:
        store_posts(s, posts, now, source="test")
    report = process(rt)
    assert report.done >= 1, report.summary()


FIRST_EVENT = [
    {"id": "w:1", "author": "江城热点", "reposts": 800, "comments": 300, "likes": 2000, "category": "rights",
     "severity": 2, "text": "江城某小区女子遭丈夫家暴，邻居报警，手机13812345678，妇联已介入", "hours_ago": 3},
    {"id": "w:2", "author": "江城日报", "author_verified": True, "reposts": 1500, "category": "rights", "severity": 2,
     "text": "江城警方通报：某小区家暴事件，男子已被行政拘留，妇联介入帮助受害女子", "hours_ago": 2},
]


@pytest.fixture
def web_rt(runtime: Runtime) -> Iterator[Runtime]:
    with runtime.session() as s:
        for username, role in ROLES.items():
            add_user(s, username, PASSWORD, role, runtime.clock.now())
    make_posts(runtime, FIRST_EVENT + [
        {"id": "n:1", "platform": "news", "title": "三八节表彰大会召开", "text": "市妇联召开表彰大会，表彰最美家庭",
         "category": "none", "severity": 0},
    ])
    yield runtime


@pytest.fixture
def client(web_rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(web_rt)) as c:
        yield c


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form (with its CSRF token); returns the session's CSRF token."""
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": "/"}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    return client.get("/api/me").json()["csrf_token"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(web_rt: Runtime) -> Iterator[str]:
    yield from serve_app(web_rt)


def serve_app(rt: Runtime) -> Iterator[str]:
    """The real app over HTTP on a free local port, in a thread (for the browser tests)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
