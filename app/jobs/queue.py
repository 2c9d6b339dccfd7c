"""The Huey queue of one installation: Redis when ``LUNGSIGN_REDIS_URL`` is set, else SQLite
storage under the data dir. Messages carry a job id only; the job row holds the rest."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache

from huey import Huey, PriorityRedisHuey, SqliteHuey
from huey.api import TaskWrapper

from app.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Queue:
    huey: Huey
    run_job: TaskWrapper  # calling it enqueues a job id


def queue_name(settings: Settings) -> str:
    """One queue per database: workers of another installation (or test) never see its ids."""
    digest = hashlib.sha256(settings.sqlalchemy_url.encode()).hexdigest()[:12]
    return f"lungsign-{digest}"


def queue_for(settings: Settings) -> Queue:
    """The installation's queue (the same task name in the web process and the workers)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return _queue(settings.redis_url, str(settings.data_dir.resolve()), queue_name(settings))


@lru_cache(maxsize=32)
def _queue(redis_url: str | None, data_dir: str, name: str) -> Queue:
    huey: Huey
    if redis_url:
        huey = PriorityRedisHuey(name, url=redis_url, results=False)
    else:
        huey = SqliteHuey(name, filename=f"{data_dir}/queue.db", results=False, fsync=True)
    return Queue(huey, huey.task(name="lungsign.run_job", retries=0)(_run_job_message))


def _run_job_message(job_id: int) -> None:
    """The task body, in a worker: run the job with the worker's own database."""
    from app.jobs import worker

    worker.run_message(job_id)


MEASURING = -10  # priority of measuring jobs: generation and studies do not wait for them
MEASURING_DELAY_S = 15  # ... nor a request sent right after training ends (the worker is free)
MEASURING_KINDS = frozenset({"evaluate", "machine_reader"})


def priority_of(kind: str) -> int:
    """Measuring jobs (a GAN's evaluation, a study's machine reader) after everything else."""
    return MEASURING if kind in MEASURING_KINDS else 0


def enqueue(settings: Settings, job_id: int, priority: int = 0, delay: float = 0) -> None:
    """Send JOB_ID to the workers (after its row is committed); higher priorities go first,
    DELAY seconds later if asked."""
    queue = queue_for(settings)
    queue.run_job(job_id, priority=priority, delay=delay or None)
    log.info("job %d queued on %s", job_id, queue.huey.name)


def pending_job_ids(settings: Settings) -> set[int]:
    """Job ids waiting in the queue or its schedule (not those a worker has taken)."""
    huey = queue_for(settings).huey
    return {int(task.args[0]) for task in [*huey.pending(), *huey.scheduled()]}
