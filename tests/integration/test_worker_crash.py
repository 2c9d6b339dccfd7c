"""A worker stopped (SIGTERM) and then one killed (``kill -9``) mid-job: each time the next
worker resumes the job from its checkpoint, and it ends with exactly one model version.
Real processes: a web process (``serve --no-worker``) and worker processes, on the embedded
default (SQLite database and SQLite queue) in the SQLite suite, and on PostgreSQL + Redis in
the PostgreSQL suite."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.tables import ModelVersion
from tests.factories import api_token, make_user
from tests.job_factories import store_patch_set
from tests.models.synthetic import blob_patches
from tests.servers import free_port, lungsign_command, running, server_env

pytestmark = pytest.mark.integration
STALE_S = "3"  # a dead worker's job is picked up 3 s after its last heartbeat
STEPS = 300


def _env(settings: Settings) -> dict[str, str]:
    return {**server_env(settings), "LUNGSIGN_JOB_STALE_S": STALE_S}


@contextmanager
def _worker(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(lungsign_command("worker"), env=_env(settings))
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=180)  # a measuring job ends before the worker stops


def _wait(base: str, auth: dict[str, str], job_id: int, until, seconds: float = 240) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = httpx.get(f"{base}/api/v1/jobs/{job_id}", headers=auth).json()
        if until(job):
            return job
        assert job["status"] not in ("failed", "cancelled"), job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} never got there: {job}")


def test_a_stopped_and_a_killed_worker_s_job_resumes_from_its_checkpoint(
    settings: Settings, db: Database
) -> None:
    store_patch_set(db, "blobs", blob_patches(6, codes=("GGO", "CAL", "NOR")))
    auth = api_token(db, make_user(db, "admin"))
    port = free_port()
    web = lungsign_command("serve", "--no-worker", "--port", str(port))
    with running(web, _env(settings), f"http://127.0.0.1:{port}") as base:
        # long enough that a stop asked for early lands mid-training on a fast, idle machine
        # too (100 steps took 12 s there, and the job once finished before the SIGTERM)
        body = {"kind": "train_gan", "params": {"dataset": "blobs", "steps": STEPS}}
        job = httpx.post(f"{base}/api/v1/jobs", json=body, headers=auth).json()
        with _worker(settings) as first:
            _wait(base, auth, job["id"], lambda j: j["progress"] >= 0.1)
            first.send_signal(signal.SIGTERM)  # a deploy or restart: stop at a checkpoint
            assert first.wait(timeout=60) == 0
        stopped = _wait(base, auth, job["id"], lambda j: True)
        assert stopped["status"] == "queued" and "interrupted" in stopped["message"]
        with _worker(settings) as second:
            _wait(base, auth, job["id"], lambda j: j["progress"] >= 0.4)
            os.kill(second.pid, signal.SIGKILL)
            second.wait()
        killed = _wait(base, auth, job["id"], lambda j: True)
        assert killed["status"] == "running" and killed["progress"] < 0.95
        with _worker(settings):
            done = _wait(base, auth, job["id"], lambda j: j["status"] == "succeeded")
    assert done["attempts"] == 2 and done["result"]["model_version"] == 1  # a stop is no attempt
    resumed = [
        int(line.rsplit(" ", 1)[1])
        for line in done["log_tail"].splitlines()
        if "resuming GAN from step" in line
    ]
    assert len(resumed) == 2 and 0 < resumed[0] < resumed[1], done["log_tail"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ModelVersion)) == 1
