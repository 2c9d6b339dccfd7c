"""What a running job's work sees: its parameters, a progress sink, a stop check, a log.

The work never waits on the database for progress: ``progress``, ``log`` and ``metrics``
only change memory, and a monitor thread writes them (with a heartbeat, and reading cancel
requests) every ``FLUSH_S`` seconds. ``complete`` marks the job succeeded in the work's own
final transaction, so its outputs (a model version, a dataset) and "succeeded" commit together.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.tables import Job, utcnow

FLUSH_S = 1.0
LOG_LINES = 60


class Cancelled(Exception):
    """The job was cancelled (``should_stop`` said so and the work stopped)."""


class Lost(Exception):
    """Another worker took the job over (this one's heartbeat went stale)."""


class Interrupted(Exception):
    """The worker is shutting down: the job stopped at a checkpoint and goes back to the queue."""


@dataclass(eq=False)  # hashable by identity: the runner keeps a set of running jobs
class JobContext:
    db: Database
    settings: Settings
    job_id: int
    kind: str
    params: dict[str, Any]
    worker_id: str
    user_id: int | None = None
    attempt: int = 1
    fraction: float = 0.0
    message: str = ""
    extra_metrics: dict[str, Any] = field(default_factory=dict)
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    stop: threading.Event = field(default_factory=threading.Event)
    lost: bool = False
    interrupted: bool = False
    dirty: bool = True

    def progress(self, fraction: float, message: str = "") -> None:
        self.fraction = max(0.0, min(1.0, fraction))
        if message:
            self.message = message
        self.dirty = True

    def log(self, line: str) -> None:
        self.lines.append(line.rstrip())
        self.dirty = True

    def metrics(self, **values: Any) -> None:
        self.extra_metrics.update(values)
        self.dirty = True

    def should_stop(self) -> bool:
        return self.stop.is_set()

    def interrupt(self) -> None:
        """Ask the work to stop for a worker shutdown (not a cancel)."""
        self.interrupted = True
        self.stop.set()

    def check_stop(self) -> None:
        """After work stopped, or between phases of work that has no inner stop check: raise
        why it must end (lost claim, worker shutdown, cancel)."""
        if self.lost:
            raise Lost()
        if self.interrupted:
            raise Interrupted()
        if self.stop.is_set():
            raise Cancelled()

    def owned(self) -> Any:
        """The WHERE clause that keeps a write to this worker's claim."""
        return (Job.id == self.job_id) & (Job.worker_id == self.worker_id)

    def complete(self, session: Session, result: dict[str, Any]) -> None:
        """Mark the job succeeded with RESULT, in SESSION's transaction (with the outputs)."""
        done = session.execute(
            update(Job)
            .where(self.owned())
            .values(
                status="succeeded",
                progress=1.0,
                message="done",
                result=result,
                metrics=self.extra_metrics,
                log_tail=self.tail(),
                finished_at=utcnow(),
                heartbeat_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Lost()

    def tail(self) -> str:
        return "\n".join(self.lines)

    def flush(self) -> None:
        """Write progress and heartbeat; pick up a cancel request or a lost claim."""
        with self.db.session() as session:
            values: dict[str, Any] = {"heartbeat_at": utcnow()}
            if self.dirty:
                self.dirty = False
                values.update(
                    progress=self.fraction,
                    message=self.message[:500],
                    metrics=self.extra_metrics,
                    log_tail=self.tail(),
                )
            done = session.execute(
                update(Job)
                .where(self.owned(), Job.status == "running")
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            cancel = session.get(Job, self.job_id)
            if done.rowcount != 1:  # type: ignore[attr-defined]
                self.lost = True
                self.stop.set()
            elif cancel is not None and cancel.cancel_requested:
                self.stop.set()

    @contextmanager
    def monitored(self) -> Iterator[None]:
        """Run the monitor thread while the work runs."""
        finished = threading.Event()

        def loop() -> None:
            while not finished.wait(FLUSH_S):
                try:
                    self.flush()
                except Exception:  # a database hiccup must not kill the work
                    self.dirty = True

        thread = threading.Thread(target=loop, name=f"job-{self.job_id}-monitor", daemon=True)
        thread.start()
        try:
            yield
        finally:
            finished.set()
            thread.join()
