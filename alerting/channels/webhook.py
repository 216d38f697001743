"""Shared HTTP POST of a JSON body to a chat robot webhook (WeCom, DingTalk, Feishu)."""

from __future__ import annotations

from typing import Any

import httpx

from alerting.channels.base import SendError


def redact_url(url: str) -> str:
    """The webhook URL carries the robot key: never show more than its host."""
    try:
        return httpx.URL(url).host or "webhook"
    except Exception:  # noqa: BLE001 - any malformed URL
        return "webhook"


def post_json(url: str, body: dict[str, Any], *, timeout: float, name: str) -> dict[str, Any]:
    """POST ``body``; raise SendError with a Chinese reason (never the URL's secret part)."""
    host = redact_url(url)
    try:
        response = httpx.post(url, json=body, timeout=timeout,
                              headers={"Content-Type": "application/json; charset=utf-8"})
    except httpx.TimeoutException:
        raise SendError(f"{name} 请求超时（{host}，{timeout:g} 秒）") from None
    except httpx.HTTPError as exc:
        raise SendError(f"{name} 连接失败（{host}）: {type(exc).__name__}") from None
    if response.status_code == 429:
        raise SendError(f"{name} 限流（HTTP 429）", retry_after=_retry_after(response))
    if response.status_code >= 400:
        raise SendError(f"{name} 返回 HTTP {response.status_code}（{host}）",
                        permanent=response.status_code in (400, 401, 403, 404))
    try:
        data = response.json()
    except ValueError:
        raise SendError(f"{name} 返回的不是 JSON（HTTP {response.status_code}）") from None
    return data if isinstance(data, dict) else {}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
