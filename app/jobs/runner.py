"""Running a job in a worker: claim it, run its kind's work under a monitor, record the end.

A claim is an UPDATE that succeeds for one worker only: of a queued job, or of a running one
whose heartbeat is older than ``settings.job_stale_s`` (its worker died: ``kill -9``, a
reboot). The work then resumes from its own checkpoint. Failures are retried up to
``MAX_ATTEMPTS`` runs; a domain error (bad data, a missing dataset) fails at once.
"""

from __future__ import annotations

import logging
import threading
import traceback
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from app.config import Settings
from app.db import Database
from app.errors import LungsignError
from app.jobs import kinds
from app.jobs.context import Cancelled, Interrupted, JobContext, Lost
from app.jobs.queue import enqueue, pending_job_ids, priority_of
from app.tables import Job, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # runs that raised
MAX_STARTS = 6  # starts, including those whose worker died
RUNNING: set[JobContext] = set()  # this process's running jobs (a shutdown interrupts them)
STOPPING = threading.Event()  # this worker process is shutting down: it starts no job
TRACEBACK_LINES = 25
ORPHAN_AFTER = timedelta(seconds=5)  # a queued job is sent right after its commit


def stop_all() -> None:
    """A worker shutdown: running jobs stop at their next step and go back to the queue, and
    no job starts here any more — not even the one just put back, whose message a stopping
    consumer could still take (it then ran to the end and held the shutdown up). The next
    worker's recovery pass sends every queued job again."""
    STOPPING.set()
    for ctx in list(RUNNING):
        ctx.interrupt()


def run_job(db: Database, settings: Settings, job_id: int, worker_id: str) -> str | None:
    """Claim and run JOB_ID; the status it ended with, or None when it was not ours to run."""
    if STOPPING.is_set():
        return None
    ctx = claim(db, settings, job_id, worker_id)
    if ctx is None:
        return None
    log.info("job %d (%s) started by %s", job_id, ctx.kind, worker_id)
    if ctx.attempt > MAX_STARTS:  # its workers keep dying (out of memory, say)
        return _end(ctx, "failed", f"started {MAX_STARTS} times without finishing; giving up")
    handler = _LogToJob(ctx)
    logging.getLogger("models").addHandler(handler)
    logging.getLogger("app").addHandler(handler)
    RUNNING.add(ctx)
    if STOPPING.is_set():  # the shutdown came between the claim and here
        ctx.interrupt()
    try:
        with ctx.monitored():
            kinds.KINDS[ctx.kind].run(ctx)
        return "succeeded"
    except Interrupted:
        return _requeue(ctx, "interrupted by a worker shutdown; resumes on the next worker", 0)
    except Lost:
        log.warning("job %d was taken over by another worker", job_id)
        return None
    except Cancelled:
        return _end(ctx, "cancelled", "cancelled")
    except LungsignError as exc:
        ctx.log(f"error: {exc}")
        return _end(ctx, "failed", str(exc))
    except Exception as exc:
        ctx.lines.extend(traceback.format_exc().splitlines()[-TRACEBACK_LINES:])
        return _retry_or_fail(db, settings, ctx, exc)
    finally:
        RUNNING.discard(ctx)
        logging.getLogger("models").removeHandler(handler)
        logging.getLogger("app").removeHandler(handler)


def claim(db: Database, settings: Settings, job_id: int, worker_id: str) -> JobContext | None:
    """Take JOB_ID for WORKER_ID if it is queued, or running with a stale heartbeat."""
    now = utcnow()
    stale = now - timedelta(seconds=settings.job_stale_s)
    with db.session() as session:
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, _claimable(stale))
            .values(
                status="running",
                worker_id=worker_id,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
                started_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        job = session.get_one(Job, job_id)
        ctx = JobContext(
            db, settings, job.id, job.kind, dict(job.params), worker_id, job.created_by_id
        )
        ctx.extra_metrics = dict(job.metrics or {})
        ctx.lines.extend((job.log_tail or "").splitlines())
        ctx.attempt = job.attempts
        ctx.log(f"attempt {job.attempts} on {worker_id}")
        ctx.fraction = job.progress
        return ctx


def _claimable(stale: Any) -> Any:
    return or_(
        Job.status == "queued",
        and_(Job.status == "running", or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale)),
    )


def recover(db: Database, settings: Settings, at_start: bool) -> list[int]:
    """Re-send the jobs no worker is running: running ones whose heartbeat went stale, and
    queued ones whose message is not in the queue (a crash between commit and enqueue, a
    Redis restart) — at a worker's start all queued ones. Duplicate messages are harmless:
    only one claim succeeds."""
    now = utcnow()
    stale = now - timedelta(seconds=settings.job_stale_s)
    with db.session() as session:
        running = session.execute(
            select(Job.id, Job.kind)
            .where(Job.status == "running", _claimable(stale))
            .order_by(Job.id)
        )
        queued = session.execute(
            select(Job.id, Job.kind)
            .where(Job.status == "queued", Job.created_at < now - ORPHAN_AFTER)
            .order_by(Job.id)
        )
        ids = [(job_id, kind) for job_id, kind in running]
        waiting = [(job_id, kind) for job_id, kind in queued]
    if not at_start:
        in_queue = pending_job_ids(settings)
        waiting = [(job_id, kind) for job_id, kind in waiting if job_id not in in_queue]
    for job_id, kind in ids + waiting:
        enqueue(settings, job_id, priority_of(kind))
    sent = [job_id for job_id, _ in ids + waiting]
    if sent:
        log.info("re-sent jobs %s", sent)
    return sent


def _end(ctx: JobContext, status: str, message: str) -> str:
    with ctx.db.session() as session:
        session.execute(
            update(Job)
            .where(ctx.owned())
            .values(
                status=status,
                message=message[:500],
                log_tail=ctx.tail(),
                metrics=ctx.extra_metrics,
                finished_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
    log.info("job %d %s: %s", ctx.job_id, status, message)
    return status


def _retry_or_fail(db: Database, settings: Settings, ctx: JobContext, exc: Exception) -> str:
    with db.session() as session:
        attempts = session.get_one(Job, ctx.job_id).attempts
    reason = f"{type(exc).__name__}: {exc}"
    if attempts >= MAX_ATTEMPTS:
        return _end(ctx, "failed", f"failed {attempts} times; last: {reason}")
    return _requeue(ctx, f"attempt {attempts} failed ({reason}); retrying", 1)


def _requeue(ctx: JobContext, message: str, counted: int) -> str:
    """Back to the queue; COUNTED is 0 when the attempt should not count (a shutdown)."""
    with ctx.db.session() as session:
        session.execute(
            update(Job)
            .where(ctx.owned())
            .values(
                status="queued",
                worker_id=None,
                message=message,
                log_tail=ctx.tail(),
                metrics=ctx.extra_metrics,
                attempts=Job.attempts - 1 + counted,
            )
            .execution_options(synchronize_session=False)
        )
    enqueue(ctx.settings, ctx.job_id)
    return "queued"


class _LogToJob(logging.Handler):
    """Log records of ``models`` and ``app`` during a job go to its log tail too."""

    def __init__(self, ctx: JobContext) -> None:
        super().__init__(logging.INFO)
        self.ctx = ctx

    def emit(self, record: logging.LogRecord) -> None:
        self.ctx.log(f"{record.levelname.lower()}: {record.getMessage()}")
