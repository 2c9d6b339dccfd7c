"""A stopping worker starts no job, not even the one its shutdown just put back in the queue
(a stopping consumer may still take that message: the job then ran to the end, and the
shutdown waited for it). The job stays queued for the next worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.config import Settings
from app.db import Database
from app.jobs import runner
from app.tables import Job
from tests.job_factories import job_row


@pytest.fixture
def stopping() -> Iterator[None]:
    runner.stop_all()
    yield
    runner.STOPPING.clear()  # this test process goes on running other tests' jobs


def test_a_stopping_worker_leaves_the_job_queued(
    settings: Settings, db: Database, stopping: None
) -> None:
    with db.session() as session:
        job = Job(kind="train_gan", params={"dataset": "x", "steps": 1, "seed": 0})
        session.add(job)
        session.flush()
        job_id = job.id
    assert runner.run_job(db, settings, job_id, "stopping-worker") is None
    row = job_row(db, job_id)
    assert (row.status, row.worker_id, row.attempts) == ("queued", None, 0)
