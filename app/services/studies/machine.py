"""The machine reader beside the radiologists: queue its job, and turn the job's scores into
the results' ``machine_reader`` block (the job itself: ``app/jobs/machine_reader.py``).

The block is built from the newest succeeded ``machine_reader`` job of the study: its P(real)
per study item is the machine's rating (AUC, positive class real, over every counted study
item), P(real) > 0.5 its verdict "real". Where a current classifier labelled the real items,
its labels are set against the readers' labels on the same items.
"""

from __future__ import annotations

from typing import Any

from sklearn.metrics import roc_auc_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.errors import Invalid, NotFound
from app.jobs import submit
from app.services.studies.records import JudgmentRecord, version_order
from app.services.studies.stats import _kappa, proportion
from app.tables import Job, Study, User

KIND = "machine_reader"
THRESHOLD = 0.5  # P(real) above this: the machine's verdict is "real"


def queue_at_open(session: Session, study: Study, user: User | None) -> Job | None:
    """The machine-reader job for a study that has just opened, or None where it cannot run
    (no generated items, a GAN whose training data is unknown): opening never fails for it.
    The caller enqueues the job after commit; otherwise a worker's recovery pass sends it."""
    try:
        # the kind's check reads the database only; the process settings are enough here
        submitted = submit.create(session, get_settings(), KIND, {"study": study.id}, user)
    except (Invalid, NotFound):
        return None
    return submitted.job if submitted.created else None


def request_run(
    session: Session, settings: Settings, study_id: int, user: User | None, seed: int | None
) -> submit.Submitted:
    """Run the machine reader (again): SEED None takes the next unused seed, so every request
    is a fresh run; a given SEED returns the same job when nothing it reads has changed."""
    if seed is None:
        seed = 1 + max(
            (int(j.params.get("seed", 0)) for j in jobs_of(session, study_id)), default=-1
        )
    return submit.create(session, settings, KIND, {"study": study_id, "seed": seed}, user)


def active_job(session: Session, study_id: int) -> Job | None:
    """The study's machine-reader job that is queued or running, if any (the newest)."""
    return next((j for j in jobs_of(session, study_id) if j.status in submit.ACTIVE), None)


def jobs_of(session: Session, study_id: int) -> list[Job]:
    """The study's machine-reader jobs, newest first."""
    jobs = session.scalars(select(Job).where(Job.kind == KIND).order_by(Job.id.desc()))
    return [j for j in jobs if j.params.get("study") == study_id]


def summary(
    session: Session, study_id: int, records: list[JudgmentRecord]
) -> dict[str, Any] | None:
    """The results' ``machine_reader`` block: None when no job was ever asked for; the newest
    job's status while none has succeeded; else the machine's statistics."""
    jobs = jobs_of(session, study_id)
    if not jobs:
        return None
    done = next((j for j in jobs if j.status == "succeeded"), None)
    newest = {"job": jobs[0].id, "status": jobs[0].status, "message": jobs[0].message}
    if done is None:
        return {**newest, "progress": jobs[0].progress}
    block = statistics(done.result, records)
    block.update(status="succeeded", job=done.id)
    if jobs[0].id != done.id:
        block["newer_job"] = newest
    return block


def statistics(result: dict[str, Any], records: list[JudgmentRecord]) -> dict[str, Any]:
    """The machine as one more reader, from a job result (pure)."""
    items = result["items"]
    gen = [i for i in items if i["source"] == "generated"]
    real = [i for i in items if i["source"] == "real"]

    def says_real(i: dict[str, Any]) -> bool:
        return float(i["p_real"]) > THRESHOLD

    labelled = [i for i in real if i.get("classifier_label")]
    block: dict[str, Any] = {
        "reader": "machine",
        "method": (
            "two-class CNN (real vs generated) trained on the GANs' training patches minus the "
            "study's, against fresh patches of the same GANs; P(real) > 0.5 counts as 'real'"
        ),
        "n_judgments": len(items),
        "auc": _auc(items),
        "generated_judged_real": _count(gen, says_real),
        "real_judged_real": _count(real, says_real),
        "accuracy": _count(items, lambda i: says_real(i) == (i["source"] == "real")),
        "sensitivity": _count(gen, lambda i: not says_real(i)),
        "specificity": _count(real, says_real),
        "label_accuracy": _count(labelled, lambda i: i["classifier_label"] == i["true_label"]),
        "reading_time_ms": {"median": None, "q1": None, "q3": None},
        "per_model_version": [
            {
                "model_version": version,
                "n": len(mine),
                "auc": _auc(real + mine),
                "generated_judged_real": _count(mine, says_real),
            }
            for version in sorted({i["model_version"] for i in gen}, key=version_order)
            for mine in [[i for i in gen if i["model_version"] == version]]
        ],
        "gan_versions": result["gan_versions"],
        "train_real": result["train_real"],
        "train_generated": result["train_generated"],
        "left_out_study_patches": result["left_out_study_patches"],
        "seed": result["seed"],
        "classifier": _classifier(result, labelled, records),
        "items": items,
    }
    return block


def _classifier(
    result: dict[str, Any], labelled: list[dict[str, Any]], records: list[JudgmentRecord]
) -> dict[str, Any] | None:
    """The current classifier's labels of the real items against the readers' labels."""
    if result.get("classifier_version") is None:
        return None
    given = {i["item"]: i["classifier_label"] for i in labelled}
    same = [r for r in records if r.item in given and r.label]
    return {
        "model_version": result["classifier_version"],
        "label_accuracy": _count(labelled, lambda i: i["classifier_label"] == i["true_label"]),
        "same_items": {
            "n_items": len({r.item for r in same}),
            "readers_label_accuracy": _count(same, lambda r: r.label == r.true_label),
            "classifier_label_accuracy": _count(same, lambda r: given[r.item] == r.true_label),
            "agreement": _count(same, lambda r: r.label == given[r.item]),
            "kappa": _kappa([given[r.item] for r in same], [str(r.label) for r in same]),
        },
    }


def _auc(items: list[dict[str, Any]]) -> float | None:
    truth = [i["source"] == "real" for i in items]
    if len(set(truth)) < 2:
        return None
    return float(roc_auc_score(truth, [float(i["p_real"]) for i in items]))


def _count(rows: list[Any], hit: Any) -> dict[str, Any]:
    return proportion(sum(1 for r in rows if hit(r)), len(rows))
