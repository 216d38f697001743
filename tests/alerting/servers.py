"""Real local HTTP endpoints for the notification tests: a recording webhook server and a
minimal Slack Web API (chat.postMessage, conversations.history/replies) that can answer 429."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable; None = the server's default success answer
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # block until the server is closed (a client timeout)


class _Handler(BaseHTTPRequestHandler):
    server: RecordingServer

    def log_message(self, *args: Any) -> None:  # keep test output clean
        return None

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        rec = Recorded(self.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                       {k.lower(): v for k, v in self.headers.items()}, body)
        reply = self.server.next_reply(rec)
        if reply.hang:
            self.server.release.wait(10)
            return
        data = json.dumps(reply.body if reply.body is not None else self.server.default_body(rec),
                          ensure_ascii=False).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle


class RecordingServer(ThreadingHTTPServer):
    """Records every request; answers from a script of :class:`Reply` (then the default)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Recorded] = []
        self.script: deque[Reply] = deque()
        self.lock = threading.Lock()
        self.release = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> RecordingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()

    def next_reply(self, rec: Recorded) -> Reply:
        with self.lock:
            self.requests.append(rec)
            return self.script.popleft() if self.script else Reply()

    def default_body(self, rec: Recorded) -> Any:
        return {"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"}

    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]


class SlackServer(RecordingServer):
    """Enough of the Slack Web API for slack-sdk: messages are kept with their metadata."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []
        self._ts = 1700000000

    def next_reply(self, rec: Recorded) -> Reply:
        reply = super().next_reply(rec)
        if reply.status == 200 and reply.body is None:
            reply = Reply(body=self._api(rec))
        return reply

    def _params(self, rec: Recorded) -> dict[str, Any]:
        if rec.method == "GET":
            return dict(rec.query)
        if rec.headers.get("content-type", "").startswith("application/json"):
            return rec.json
        return {k: v[0] for k, v in parse_qs(rec.body.decode("utf-8")).items()}

    def _api(self, rec: Recorded) -> dict[str, Any]:
        method = rec.path.rsplit("/", 1)[-1]
        params = self._params(rec)
        if rec.headers.get("authorization") != "Bearer xoxb-test-token":
            return {"ok": False, "error": "invalid_auth"}
        with self.lock:
            if method == "chat.postMessage":
                self._ts += 1
                msg = {"ts": f"{self._ts}.000100", "channel": params["channel"], "text": params.get("text"),
                       "attachments": params.get("attachments"), "blocks": params.get("blocks"),
                       "thread_ts": params.get("thread_ts"), "metadata": params.get("metadata"),
                       "reply_broadcast": params.get("reply_broadcast")}
                self.messages.append(msg)
                return {"ok": True, "channel": params["channel"], "ts": msg["ts"], "message": msg}
            if method == "conversations.history":
                msgs = [m for m in self.messages if m["channel"] == params["channel"]
                        and (not m["thread_ts"] or m["reply_broadcast"])]
                return {"ok": True, "messages": list(reversed(msgs)), "has_more": False}
            if method == "conversations.replies":
                ts = params["ts"]
                msgs = [m for m in self.messages if m["channel"] == params["channel"]
                        and (m["ts"] == ts or m["thread_ts"] == ts)]
                return {"ok": True, "messages": msgs, "has_more": False}
        return {"ok": False, "error": "unknown_method"}
