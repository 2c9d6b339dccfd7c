"""The worker process: a Huey consumer whose task runs jobs, plus a recovery loop.

At start, and every ``RECOVER_EVERY_S``, it re-sends the jobs no worker runs: running ones
whose heartbeat went stale (a worker died) and queued ones whose message was lost.
One job runs at a time: training uses every core (or the GPU) by itself.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime
from types import FrameType

from huey.consumer import Consumer

from app.config import Settings
from app.db import Database
from app.jobs import runner
from app.jobs.queue import queue_for

log = logging.getLogger(__name__)
RECOVER_EVERY_S = 10.0
FAR_FUTURE = datetime(9999, 1, 1)


class _Worker:
    settings: Settings
    db: Database
    worker_id: str


_current = _Worker()


def run_message(job_id: int) -> None:
    """The queue task's body in this worker process."""
    runner.run_job(_current.db, _current.settings, job_id, _current.worker_id)


def _start(settings: Settings) -> None:
    _current.settings = settings
    _current.db = Database(settings.sqlalchemy_url)
    _current.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    runner.recover(_current.db, settings, at_start=True)


def run_until_idle(settings: Settings) -> int:
    """Run the queued jobs one after another in this process, then return how many messages
    were handled (``lungsign worker --until-idle``: batch hosts, scripts, tests)."""
    _start(settings)
    huey = queue_for(settings).huey
    handled = 0
    try:
        while True:
            for scheduled in huey.read_schedule(FAR_FUTURE):  # delayed ones too: nothing waits
                huey.enqueue(scheduled)
            task = huey.dequeue()
            if task is None:
                break
            huey.execute(task)
            handled += 1
    finally:
        _current.db.dispose()
    return handled


def run_worker(settings: Settings) -> None:
    """Consume the installation's queue until interrupted (SIGINT/SIGTERM)."""
    _start(settings)
    stop = threading.Event()
    threading.Thread(target=_recover_loop, args=(stop,), daemon=True).start()
    consumer = _Consumer(
        queue_for(settings).huey,
        workers=1,
        worker_type="thread",
        periodic=False,
        max_delay=1.0,
        graceful_signal="TERM",
    )
    log.info("worker %s consuming %s", _current.worker_id, queue_for(settings).huey.name)
    try:
        consumer.run()
    finally:
        stop.set()
        _current.db.dispose()


class _Consumer(Consumer):
    """SIGTERM/SIGINT: the running job stops at a checkpoint and goes back to the queue, then
    the consumer exits (a GAN run is never killed mid-step by a restart or a deploy)."""

    def _handle_signal(self, signum: int, frame: FrameType | None) -> None:
        runner.stop_all()
        super()._handle_signal(signum, frame)


def _recover_loop(stop: threading.Event) -> None:
    while not stop.wait(RECOVER_EVERY_S):
        try:
            runner.recover(_current.db, _current.settings, at_start=False)
        except Exception:
            log.exception("recovery pass failed")
