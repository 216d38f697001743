"""A small local HTTP site that stands in for the real ones (tests, bench, the demo's replay site).

Routes come from a ``routes.json`` manifest in a directory and/or from Python callables::

    [{"path": "/weibo", "query": {"q": "家暴", "page": "2"}, "file": "web_p2.html",
      "status": 200, "headers": {"Content-Type": "text/html; charset=utf-8"}, "delay": 0}]

A route matches when the path is equal and every listed query parameter has that value
(the first match wins). ``body`` may replace ``file``. Without a matching route, a file
under the directory with the request path is served; otherwise 404. Callables get a
:class:`SiteRequest` (GET or POST, with the body) and return a :class:`Reply`. Every request is recorded.

    with FixtureSite(directory) as site:
        site.url  # http://127.0.0.1:PORT
"""

from __future__ import annotations

import json
import mimetypes
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class SiteRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_path: str
    method: str = "GET"
    body: bytes = b""

    def header(self, name: str) -> str:
        """A request header by case-insensitive name ("" when absent)."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), "")


@dataclass
class Reply:
    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow site)


Handler = Callable[[SiteRequest], Reply]


def _content_type(name: str) -> str:
    if name.endswith(".json"):
        return "application/json; charset=utf-8"
    if name.endswith((".xml", ".rss", ".atom")):
        return "application/xml"
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return guessed + ("; charset=utf-8" if guessed.startswith("text/") else "")


class FixtureSite:
    def __init__(self, directory: str | Path | None = None, handlers: dict[str, Handler] | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = Path(directory) if directory else None
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.routes: list[dict[str, Any]] = []
        if self.directory and (self.directory / "routes.json").exists():
            self.routes = json.loads((self.directory / "routes.json").read_text(encoding="utf-8"))
        self.requests: list[SiteRequest] = []
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, handler: Handler) -> None:
        self.handlers[path] = handler

    def start(self) -> FixtureSite:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fixture-site", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FixtureSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- resolution --------------------------------------------------------------
    def resolve(self, req: SiteRequest) -> Reply:
        handler = self.handlers.get(req.path)
        if handler is not None:
            return handler(req)
        for route in self.routes:
            if route.get("path") != req.path:
                continue
            wanted = route.get("query") or {}
            if all(req.query.get(k) == str(v) for k, v in wanted.items()):
                return self._reply_from_route(route)
        if self.directory is not None:
            candidate = (self.directory / req.path.lstrip("/")).resolve()
            if candidate.is_file() and self.directory.resolve() in candidate.parents:
                return Reply(candidate.read_bytes(), 200, {"Content-Type": _content_type(candidate.name)})
        return Reply("not found", 404, {"Content-Type": "text/plain; charset=utf-8"})

    def _reply_from_route(self, route: dict[str, Any]) -> Reply:
        headers = dict(route.get("headers") or {})
        if "file" in route:
            assert self.directory is not None
            body: bytes | str = (self.directory / route["file"]).read_bytes()
            headers.setdefault("Content-Type", _content_type(route["file"]))
        else:
            body = route.get("body", "")
            if not isinstance(body, str):
                body = json.dumps(body, ensure_ascii=False)
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return Reply(body, int(route.get("status", 200)), headers, float(route.get("delay", 0)))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                self._serve("GET", b"")

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                self._serve("POST", self.rfile.read(length) if length else b"")

            def _serve(self, method: str, data: bytes) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                req = SiteRequest(parts.path, query, {k: v for k, v in self.headers.items()}, self.path,
                                  method, data)
                site.requests.append(req)
                try:
                    reply = site.resolve(req)
                except Exception as exc:  # a broken handler is a 500, like a real site
                    reply = Reply(f"handler error: {exc}", 500)
                if reply.delay and site._stop.wait(reply.delay):
                    return
                body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        return _Handler


def main() -> None:
    """`python -m crawlers.testing.site DIR [--port N]`: serve a fixture directory (demo replay site)."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description="本地模拟站点：按 routes.json 或文件路径提供页面")
    parser.add_argument("directory")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    opts = parser.parse_args()
    with FixtureSite(opts.directory, host=opts.host, port=opts.port) as site:
        print(f"模拟站点已启动：{site.url}（目录 {opts.directory}），Ctrl+C 退出", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
