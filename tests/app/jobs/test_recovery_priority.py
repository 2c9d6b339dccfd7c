"""Jobs a worker re-sends (at its start, or when a message was lost) keep their place: a
measuring job (a GAN's evaluation, a study's machine reader) still waits behind training."""

from __future__ import annotations

from datetime import timedelta

from app.config import Settings
from app.db import Database
from app.jobs import queue, runner
from app.tables import Job, utcnow


def test_recovered_measuring_jobs_stay_behind_training(settings: Settings, db: Database) -> None:
    long_ago = utcnow() - timedelta(minutes=5)
    with db.session() as session:
        jobs = [
            Job(kind=kind, params={}, status="queued", created_at=long_ago)
            for kind in ("evaluate", "train_gan", "machine_reader", "generate")
        ]
        session.add_all(jobs)
        session.flush()
        ids = {job.kind: job.id for job in jobs}
    sent = runner.recover(db, settings, at_start=True)
    assert sorted(sent) == sorted(ids.values())
    huey = queue.queue_for(settings).huey
    order = [int(task.args[0]) for task in huey.pending()]
    first, then = order[:2], order[2:]
    assert set(first) == {ids["train_gan"], ids["generate"]}, order
    assert set(then) == {ids["evaluate"], ids["machine_reader"]}, order
    huey.flush()
