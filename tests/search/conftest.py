"""Search fixtures: a real Elasticsearch-speaking server (noida-db) or $YUQING_TEST_ES_URL."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

NOIDA = Path(sys.executable).parent / "noida-db"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes] | None, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"noida-db exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # waiting for a process to listen, not timing logic
    raise RuntimeError(f"Elasticsearch at {url} not ready after {deadline_s}s")


@pytest.fixture(scope="session")
def es_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("YUQING_TEST_ES_URL")
    if external:
        yield external
        return
    if not NOIDA.exists() and not shutil.which("noida-db"):
        pytest.fail("noida-db is not installed: pip install -e '.[test]'")
    port = free_port()
    data = tmp_path_factory.mktemp("noida")
    proc = subprocess.Popen([str(NOIDA if NOIDA.exists() else shutil.which("noida-db")), "start", "--data-dir",
                             str(data), "--host", "127.0.0.1", "--only", "elasticsearch",
                             "--elasticsearch-port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        yield url
    finally:
        # the console script is a wrapper around the server binary: stop the whole process group
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=10)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture
def es_prefix() -> str:
    return f"yqtest-{uuid.uuid4().hex[:10]}"
