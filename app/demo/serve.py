"""After the demo: the dashboard on the demo instance, with the clock going on from the demo's end."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime

from yuqing.runtime import Runtime
from yuqing.settings import Settings


class ContinuedClock:
    """Real time, shifted so that it continues from the end of the simulated day."""

    def __init__(self, sim_end: datetime) -> None:
        self.offset = sim_end - datetime.now(sim_end.tzinfo)

    def now(self) -> datetime:
        from datetime import UTC

        return datetime.now(UTC) + self.offset


def free_port(host: str, wanted: int) -> int:
    for port in (wanted, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("没有可用端口")


def _keep_ticking(rt: Runtime, stop: threading.Event, every: float = 30.0) -> None:
    """The clock tick and outbox keep running while the dashboard is up (acks from the board count)."""
    from alerting.engine.core import tick
    from alerting.sender import send_due

    while not stop.wait(every):
        try:
            with rt.session() as s:
                tick(s, rt.clock.now(), rt.settings)
            send_due(rt, rt.clock.now())
        except Exception:  # the board stays up; the next tick tries again
            time.sleep(1)


def serve_dashboard(settings: Settings, sim_end: datetime, host: str, port: int) -> None:
    """Blocks until Ctrl-C."""
    import uvicorn

    from web.app import create_app

    rt = Runtime(settings, ContinuedClock(sim_end))
    stop = threading.Event()
    ticker = threading.Thread(target=_keep_ticking, args=(rt, stop), name="demo-tick", daemon=True)
    ticker.start()
    try:
        uvicorn.run(create_app(rt), host=host, port=port, log_level="warning", proxy_headers=False)
    finally:
        stop.set()
        rt.close()
