"""The scaled topology as real processes: a web process and CLI processes on one PostgreSQL.

Runs only on the PostgreSQL + Redis suite (``LUNGSIGN_TEST_DATABASE_URL`` and
``LUNGSIGN_TEST_REDIS_URL`` set, as ``.ci/run`` does). Web and worker processes on Redis:
``test_worker_crash.py``.
"""

from __future__ import annotations

import subprocess

import httpx
import pytest

from app.config import Settings
from tests.conftest import PG_URL, REDIS_URL
from tests.servers import free_port, lungsign_command, running, server_env

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (PG_URL and REDIS_URL),
        reason="needs LUNGSIGN_TEST_DATABASE_URL and LUNGSIGN_TEST_REDIS_URL (.ci/run sets both)",
    ),
]


def _cli(settings: Settings, *args: str, stdin: str = "") -> str:
    result = subprocess.run(
        lungsign_command(*args),
        env=server_env(settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_web_and_cli_processes_share_postgresql(settings: Settings) -> None:
    assert settings.sqlalchemy_url.startswith("postgresql")
    port = free_port()
    serve = lungsign_command("serve", "--host", "127.0.0.1", "--port", str(port))
    with running(serve, server_env(settings), f"http://127.0.0.1:{port}") as base:
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        login = {"username": "dr-lin", "password": "pw-topology-1"}
        assert httpx.post(f"{base}/api/v1/auth/login", json=login).status_code == 401

        # another process, the CLI, adds the account while the web process runs
        _cli(settings, "user", "add", "dr-lin", "--role", "coordinator", stdin="pw-topology-1\n")
        with httpx.Client(base_url=base) as browser_like:
            response = browser_like.post("/api/v1/auth/login", json=login)
            assert response.status_code == 200, response.text
            assert response.json()["role"] == "coordinator"
            assert browser_like.get("/api/v1/datasets").status_code == 200  # the session works

        token = _cli(settings, "token", "create", "dr-lin").strip()
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/api/v1/datasets", headers=headers).status_code == 200
        assert httpx.get(f"{base}/api/v1/datasets").status_code == 401
