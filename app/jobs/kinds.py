"""The job kinds: each one's parameters, the checks made when a job is created (so bad
requests get a 4xx and nothing is queued) and the work a worker runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import Conflict, Invalid
from app.jobs import params as P
from app.jobs import store
from app.jobs.context import JobContext
from app.tables import Dataset, Patch

IMAGE_SIZES = (32, 64, 128)
Check = Callable[[Session, Settings, Any], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    params: type[P.Params]
    check: Check  # → what identifies the data the job reads (for de-duplication)
    run: Callable[[JobContext], None]


def _real_dataset(session: Session, name: str, min_labels: int = 1) -> Dataset:
    dataset = store.get_dataset(session, name)
    if dataset.kind != "real":
        raise Invalid(f"dataset {name!r} holds {dataset.kind} patches; choose a real dataset")
    labels = session.scalar(
        select(func.count(func.distinct(Patch.label_code))).where(Patch.dataset_id == dataset.id)
    )
    if not labels:
        raise Invalid(f"dataset {name!r} has no patches")
    if labels < min_labels:
        raise Invalid(f"dataset {name!r} has one label only; a classifier needs two")
    return dataset


def _check_train_gan(session: Session, _s: Settings, p: P.TrainGanParams) -> dict[str, Any]:
    dataset = _real_dataset(session, p.dataset)
    if dataset.patch_size not in IMAGE_SIZES:  # models.gan's, without importing torch here
        sizes = ", ".join(map(str, IMAGE_SIZES))
        raise Invalid(
            f"dataset {p.dataset!r} has {dataset.patch_size} px patches; the GAN needs {sizes} px"
        )
    if p.epochs and p.steps:
        raise Invalid("give epochs or steps, not both")
    return {"snapshot": store.snapshot(session, dataset)}


def _check_generate(session: Session, _s: Settings, p: P.GenerateParams) -> dict[str, Any]:
    gan = store.get_model_version(session, "gan", p.gan)
    if store.dataset_exists(session, p.dataset):
        raise Conflict(f"dataset {p.dataset!r} exists; choose a new name")
    return {"gan_checkpoint": gan.checkpoint_path}


def _check_train_classifier(
    session: Session, _s: Settings, p: P.TrainClassifierParams
) -> dict[str, Any]:
    if (p.mode == "real-only") != (p.generated is None):
        raise Invalid("generated is needed by gan-pretrain and mixed, and only by them")
    dataset = _real_dataset(session, p.dataset, min_labels=2)
    patients = session.scalar(
        select(func.count(func.distinct(Patch.patient_key))).where(Patch.dataset_id == dataset.id)
    )
    if (patients or 0) < p.folds:
        raise Invalid(
            f"dataset {p.dataset!r}: {p.folds} patient-disjoint folds need ≥ {p.folds} "
            f"patients, have {patients}"
        )
    identity = {"snapshot": store.snapshot(session, dataset)}
    if p.generated:
        identity["generated"] = store.snapshot(session, store.get_dataset(session, p.generated))
    return identity


def _check_evaluate(session: Session, _s: Settings, p: P.EvaluateParams) -> dict[str, Any]:
    model = store.get_model_version(session, p.kind, p.model)
    dataset = store.get_dataset(session, p.dataset)
    return {"checkpoint": model.checkpoint_path, "snapshot": store.snapshot(session, dataset)}


def _check_import(session: Session, settings: Settings, p: P.ImportParams) -> dict[str, Any]:
    from app.jobs.imports import uploads_dir

    if not (uploads_dir(settings) / p.upload).is_file():
        raise Invalid(f"upload {p.upload!r} is not waiting to be imported")
    return {"upload": p.upload}


def _run_train_gan(ctx: JobContext) -> None:
    from app.jobs.gan import run_train_gan

    run_train_gan(ctx)


def _run_generate(ctx: JobContext) -> None:
    from app.jobs.gan import run_generate

    run_generate(ctx)


def _run_train_classifier(ctx: JobContext) -> None:
    from app.jobs.classifier import run_train_classifier

    run_train_classifier(ctx)


def _run_evaluate(ctx: JobContext) -> None:
    if ctx.params["kind"] == "gan":
        from app.jobs.gan import run_evaluate_gan

        run_evaluate_gan(ctx)
    else:
        from app.jobs.classifier import run_evaluate_classifier

        run_evaluate_classifier(ctx)


def _run_import(ctx: JobContext) -> None:
    from app.jobs.imports import run_import

    run_import(ctx)


# The work imports torch lazily: the web process checks parameters without loading it.
KINDS: dict[str, Kind] = {
    "import": Kind(P.ImportParams, _check_import, _run_import),
    "train_gan": Kind(P.TrainGanParams, _check_train_gan, _run_train_gan),
    "generate": Kind(P.GenerateParams, _check_generate, _run_generate),
    "train_classifier": Kind(
        P.TrainClassifierParams, _check_train_classifier, _run_train_classifier
    ),
    "evaluate": Kind(P.EvaluateParams, _check_evaluate, _run_evaluate),
}
