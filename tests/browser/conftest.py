"""Browser tests: the real server in a subprocess, driven by Playwright through Debian's Chromium.

Locally a missing Chromium skips these tests with a reason; in CI (``CI=true``) it fails them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(settings: Settings) -> dict[str, str]:
    """The environment that points a lungsign process at this test's database and data dir."""
    env = dict(os.environ)
    env.update(
        LUNGSIGN_DATABASE_URL=settings.sqlalchemy_url,
        LUNGSIGN_DATA_DIR=str(settings.data_dir),
        LUNGSIGN_SECRET_KEY=str(settings.secret_key),
        LUNGSIGN_PSEUDONYM_KEY=str(settings.pseudonym_key),
    )
    return env


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """Base URL of a real uvicorn serving this test's database."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=server_env(settings))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start within 30 s")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: `make test` installs it with apt-get")
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
