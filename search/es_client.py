"""An `elasticsearch` client that works unchanged with Elasticsearch 8, 9 and OpenSearch.

The 9.x client sends ``compatible-with=9`` media types and insists on the
``X-Elastic-Product`` header. We ask the server what it is first (plain HTTP ``GET /``) and
rewrite the media types to what it accepts: ``compatible-with=<major>`` for Elasticsearch,
plain JSON for OpenSearch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from elastic_transport import Transport

from search.types import IndexError_

_COMPAT = re.compile(r"application/vnd\.elasticsearch\+([a-z-]+); compatible-with=\d+")


@dataclass
class ServerInfo:
    distribution: str  # elasticsearch | opensearch
    version: str

    @property
    def major(self) -> int:
        try:
            return int(self.version.split(".")[0])
        except ValueError:
            return 8


def probe(url: str, auth: tuple[str, str] | None, api_key: str | None, verify: bool | str,
          timeout: float) -> ServerInfo:
    headers = {"Authorization": f"ApiKey {api_key}"} if api_key else {}
    try:
        resp = httpx.get(url.rstrip("/") + "/", auth=auth, headers=headers, verify=verify, timeout=timeout)
    except httpx.HTTPError as exc:
        raise IndexError_(f"无法连接 Elasticsearch（{url}）：{exc.__class__.__name__}。"
                          "请检查 index.elasticsearch.url 以及服务是否在运行。") from None
    if resp.status_code == 401:
        raise IndexError_(f"Elasticsearch（{url}）拒绝了登录：用户名/密码或 API Key 错误。"
                          "请检查 index.elasticsearch.username 及密码环境变量。")
    if resp.status_code == 403:
        raise IndexError_(f"Elasticsearch（{url}）权限不足：当前账号无权访问集群信息。")
    if resp.status_code >= 400:
        raise IndexError_(f"Elasticsearch（{url}）返回错误 {resp.status_code}。")
    try:
        version = resp.json().get("version", {})
    except ValueError:
        raise IndexError_(f"{url} 不是 Elasticsearch / OpenSearch 服务（返回内容不是 JSON）。") from None
    return ServerInfo(distribution=str(version.get("distribution", "elasticsearch")),
                      version=str(version.get("number", "8.0.0")))


def make_transport(info: ServerInfo) -> type[Transport]:
    """A transport class rewriting the client's media types for this server."""

    if info.distribution == "opensearch":
        def fix(value: str) -> str:
            return _COMPAT.sub(r"application/\1", value)
    else:
        major = max(7, min(info.major, 9))

        def fix(value: str) -> str:
            return _COMPAT.sub(rf"application/vnd.elasticsearch+\1; compatible-with={major}", value)

    class _Transport(Transport):
        def perform_request(self, method: str, target: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            headers = kwargs.get("headers")
            if headers is not None:
                for name in ("accept", "content-type"):
                    if headers.get(name):
                        headers[name] = fix(headers[name])
            return super().perform_request(method, target, *args, **kwargs)

    return _Transport
