"""Real lungsign processes for tests: environment, free port, start and wait for /healthz."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.config import Settings


def server_env(settings: Settings) -> dict[str, str]:
    """The environment that points a lungsign process at this test's database and data dir."""
    env = dict(os.environ)
    for key in [k for k in env if k.startswith("LUNGSIGN_")]:
        del env[key]  # only this test's settings, none of the developer's shell
    env.update(
        LUNGSIGN_DATABASE_URL=settings.sqlalchemy_url,
        LUNGSIGN_DATA_DIR=str(settings.data_dir),
        LUNGSIGN_SECRET_KEY=str(settings.secret_key),
        LUNGSIGN_PSEUDONYM_KEY=str(settings.pseudonym_key),
    )
    if settings.redis_url:
        env["LUNGSIGN_REDIS_URL"] = settings.redis_url
    return env


def lungsign_command(*args: str) -> list[str]:
    """The installed ``lungsign`` console script next to this Python, with ARGS."""
    script = Path(sys.executable).with_name("lungsign")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(command: Sequence[str], env: dict[str, str], base: str) -> Iterator[str]:
    """Start COMMAND, wait until BASE/healthz answers, yield BASE, then stop it."""
    process = subprocess.Popen(list(command), env=env)
    try:
        wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_up(base: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer {base}/healthz within {seconds:.0f} s")
