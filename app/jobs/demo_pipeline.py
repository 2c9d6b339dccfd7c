"""The demo's pipeline, as jobs the worker runs and the pages show: import the demo cohort,
a short GAN → generation → a first demo study (readable within minutes), then the full GAN
→ generation → a second study, and the classifier in ``gan-pretrain`` and ``real-only``.

Idempotent: every step is a job request, and the same request finds the same job, so a demo
restarted half-way carries on where it was. Each study names the GAN version it shows.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.errors import LungsignError
from app.jobs import queue, store, submit
from app.jobs.imports import save_upload
from app.services.installation.demo import DEMO_ACCOUNTS, DEMO_DATASET, ensure_cohort
from app.services.studies import lifecycle as studies
from app.services.studies.spec import StudySpec
from app.tables import Job, Study, User

log = logging.getLogger(__name__)
SHORT_GAN_STEPS = 400  # about 1.5 min on 2 CPU cores: the first study's GAN
FULL_GAN_STEPS = 3000  # about 10 min: the second study's GAN
PER_LABEL = 24
STUDY_ITEMS = 40
FOLDS = 5
POLL_S = 1.0
Say = Callable[[str], None]


class DemoPipeline:
    def __init__(self, settings: Settings, db: Database, say: Say = log.info) -> None:
        self.settings, self.db, self._say = settings, db, say
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        """Report a step, with the time since the pipeline started."""
        seconds = int(time.monotonic() - self.started)
        self._say(f"[demo {seconds // 60}m{seconds % 60:02d}s] {message}")

    def run(self, patients: int) -> None:
        """Every step in order; returns when the last job has ended."""
        self._import(patients)
        short = self._gan(SHORT_GAN_STEPS, "first")
        self._study(short, "demo study 1 (short GAN)")
        full = self._gan(FULL_GAN_STEPS, "full")
        generated = self._study(full, "demo study 2 (full GAN)")
        for mode, extra in (("gan-pretrain", {"generated": generated}), ("real-only", {})):
            params = {"dataset": DEMO_DATASET, "mode": mode, "folds": FOLDS, **extra}
            result = self._job("train_classifier", params)
            self.say(f"classifier {mode}: accuracy {result['accuracy']:.3f}")
        self.say("demo pipeline done")

    def _import(self, patients: int) -> None:
        """The demo cohort, zipped as an upload and imported by an import job (once)."""
        with self.db.session() as session:
            if store.dataset_exists(session, DEMO_DATASET):
                return
        cohort = ensure_cohort(self.settings, patients)
        archive = shutil.make_archive(str(self.settings.data_dir / "demo-cohort"), "zip", cohort)
        with open(archive, "rb") as source:
            upload = save_upload(self.settings, source)
        Path(archive).unlink()
        result = self._job("import", {"dataset": DEMO_DATASET, "upload": upload})
        self.say(f"demo cohort: {result['imported']} patches imported")

    def _gan(self, steps: int, which: str) -> int:
        result = self._job("train_gan", {"dataset": DEMO_DATASET, "steps": steps, "seed": 0})
        self.say(f"{which} GAN: version {result['model_version']}")
        return int(result["model_version"])

    def _study(self, gan_version: int, title: str) -> str:
        """Generate from GAN_VERSION and open a study of its patches for the demo readers."""
        generated = f"demo-gan-v{gan_version}"
        params = {
            "gan": gan_version,
            "per_label": PER_LABEL,
            "dataset": generated,
            "drop_near_copies": True,
        }
        self._job("generate", params)
        name = f"{title}, GAN v{gan_version}"
        with self.db.session() as session:
            if session.scalar(select(Study.id).where(Study.name == name)) is None:
                admin = session.scalar(select(User).where(User.username == "admin"))
                spec = StudySpec(
                    name=name,
                    real={"dataset": DEMO_DATASET, "split": None},
                    generated={"datasets": [generated]},
                    items_per_reader=STUDY_ITEMS,
                    real_fraction=0.5,
                    readers=[n for n, role in DEMO_ACCOUNTS if role == "reader"],
                    seed=gan_version,
                )
                study = studies.create_study(session, spec, admin)
                studies.open_study(session, study.id, admin)
        self.say(f"{name!r} is open for reader1-reader3")
        return generated

    def _job(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        """Submit (or find) the job, wait for it, return its result."""
        with self.db.session() as session:
            admin = session.scalar(select(User).where(User.username == "admin"))
            submitted = submit.create(session, self.settings, kind, params, admin)
            job_id = submitted.job.id
        if submitted.created:
            queue.enqueue(self.settings, job_id)
        self.say(f"job {job_id} ({kind}) — follow it at /jobs/{job_id}")
        while True:
            with self.db.session() as session:
                job = session.get_one(Job, job_id)
                status, result, message = job.status, dict(job.result), job.message
            if status == "succeeded":
                return result
            if status in ("failed", "cancelled"):
                raise LungsignError(f"demo job {job_id} ({kind}) {status}: {message}")
            time.sleep(POLL_S)
