"""The demo pipeline as jobs, with tiny models and a worker running in a thread: a first
study opens for the three demo readers, then the second, and both classifiers are recorded;
run again, it adds nothing."""

from __future__ import annotations

import threading

import pytest
import torch
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.jobs import demo_pipeline
from app.jobs.demo_pipeline import DemoPipeline
from app.services.installation.demo import DemoSetup, ensure_accounts
from app.tables import Assignment, Job, ModelVersion, Study
from tests.job_factories import run_queue, use_tiny_models


@pytest.fixture
def small_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.set_num_threads(1)
    use_tiny_models(monkeypatch)
    for name, value in [
        ("SHORT_GAN_STEPS", 10),
        ("FULL_GAN_STEPS", 20),
        ("PER_LABEL", 4),
        ("STUDY_ITEMS", 8),
        ("FOLDS", 3),
        ("POLL_S", 0.05),
    ]:
        monkeypatch.setattr(demo_pipeline, name, value)


def _run_with_worker(settings: Settings, db: Database, said: list[str]) -> None:
    done = threading.Event()

    def worker() -> None:
        while not done.is_set():
            run_queue(settings)
            done.wait(0.05)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        DemoPipeline(settings, db, said.append).run(patients=3)
    finally:
        done.set()
        thread.join()


def test_the_demo_pipeline_opens_two_studies_and_trains_both_classifiers(
    settings: Settings, db: Database, small_demo: None
) -> None:
    ensure_accounts(db, DemoSetup())
    said: list[str] = []
    _run_with_worker(settings, db, said)
    with db.session() as session:
        studies = session.scalars(select(Study).order_by(Study.id)).all()
        assert [s.name for s in studies] == [
            "demo study 1 (short GAN), GAN v1",
            "demo study 2 (full GAN), GAN v2",
        ]
        assert all(s.status == "open" for s in studies)
        readers = session.scalar(select(func.count()).select_from(Assignment))
        assert readers == 6  # three demo readers in each
        classifiers = session.scalars(
            select(ModelVersion).where(ModelVersion.kind == "classifier").order_by(ModelVersion.id)
        ).all()
        assert [c.metrics["mode"] for c in classifiers] == ["gan-pretrain", "real-only"]
        jobs = session.scalar(select(func.count()).select_from(Job))
    assert any("is open for reader1-reader3" in line for line in said)
    assert said[-1].endswith("demo pipeline done") and said[0].startswith("[demo 0m")

    _run_with_worker(settings, db, [])  # a restarted demo finds every step done
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == jobs
        assert session.scalar(select(func.count()).select_from(Study)) == 2
