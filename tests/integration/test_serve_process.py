"""``lungsign serve`` and its worker child: the worker never outlives the server.

Runs on both suites (SQLite + SQLite queue by default, PostgreSQL + Redis in the second run).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from app.config import Settings
from tests.servers import free_port, lungsign_command, server_env, wait_until_up

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    """The processes whose parent is PID (from /proc; Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill-9"])
def test_the_worker_stops_with_the_server(settings: Settings, stop: signal.Signals) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = lungsign_command("serve", "--host", "127.0.0.1", "--port", str(port))
    server = subprocess.Popen(command, env=server_env(settings))
    workers: list[int] = []
    try:
        wait_until_up(base, server)
        deadline = time.monotonic() + 30
        while not (workers := _children(server.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers) == 1, "serve starts one worker process beside the web server"
        server.send_signal(stop)
        server.wait(timeout=60)
        deadline = time.monotonic() + 45
        while _alive(workers[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(workers[0]), f"the worker outlived the server ({stop.name})"
    finally:
        server.kill()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
