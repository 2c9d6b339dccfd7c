"""The worker process: a Huey consumer whose task runs jobs, plus a recovery loop.

At start it re-sends the queued jobs and the running ones whose worker died; every
``RECOVER_EVERY_S`` it re-sends running jobs whose heartbeat went stale (another worker died).
One job runs at a time: training uses every core (or the GPU) by itself.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from app.config import Settings
from app.db import Database
from app.jobs import runner
from app.jobs.queue import queue_for

log = logging.getLogger(__name__)
RECOVER_EVERY_S = 10.0


class _Worker:
    settings: Settings
    db: Database
    worker_id: str


_current = _Worker()


def run_message(job_id: int) -> None:
    """The queue task's body in this worker process."""
    runner.run_job(_current.db, _current.settings, job_id, _current.worker_id)


def run_worker(settings: Settings) -> None:
    """Consume the installation's queue until interrupted (SIGINT/SIGTERM)."""
    _current.settings = settings
    _current.db = Database(settings.sqlalchemy_url)
    _current.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    runner.recover(_current.db, settings, include_queued=True)
    stop = threading.Event()
    threading.Thread(target=_recover_loop, args=(stop,), daemon=True).start()
    consumer = queue_for(settings).huey.create_consumer(
        workers=1, worker_type="thread", periodic=False, max_delay=1.0
    )
    log.info("worker %s consuming %s", _current.worker_id, queue_for(settings).huey.name)
    try:
        consumer.run()
    finally:
        stop.set()
        _current.db.dispose()


def _recover_loop(stop: threading.Event) -> None:
    while not stop.wait(RECOVER_EVERY_S):
        try:
            runner.recover(_current.db, _current.settings, include_queued=False)
        except Exception:
            log.exception("recovery pass failed")
