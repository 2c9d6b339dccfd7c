"""Classifier jobs: patient-disjoint cross-validation of a mode, a final model on all real
patches recorded as a ``classifier`` version, and evaluation of a version on a dataset."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import Invalid
from app.jobs import store
from app.jobs.context import JobContext
from app.jobs.fold_gans import FoldGans
from app.jobs.gan import gan_config
from app.tables import ModelVersion
from models.classifier import ClassifierConfig, TrainedClassifier, train_classifier
from models.cross_validation import Folds, cross_validate
from models.folds import patient_folds
from models.metrics import Predictions, classification_report, paired_difference
from models.patches import PatchSet

CLASSIFIER_DEFAULTS = ClassifierConfig()


def check_classifier_data(real: PatchSet, dataset_name: str, folds: int, seed: int) -> Folds:
    """The patient-disjoint folds, or the reason this dataset cannot train a classifier."""
    if len(real.label_codes) < 2:
        raise Invalid(f"dataset {dataset_name!r} has one label only; a classifier needs two")
    try:
        return patient_folds(real, folds, seed)
    except ValueError as exc:
        raise Invalid(f"dataset {dataset_name!r}: {exc}") from exc


def run_train_classifier(ctx: JobContext) -> None:
    """Cross-validate MODE (and real-only on the same folds when MODE uses generated patches),
    then train on all real patches and record the model.

    GAN modes are leak-free unless a fixed ``generated`` set is named: each fold then gets a
    GAN of its own, trained on that fold's training patients only (``app/jobs/fold_gans.py``).
    A fixed set's GAN may have seen the test patients; the report says so (``leakage``).

    Each finished fold's out-of-fold probabilities are kept under ``models/training/folds/``,
    keyed by everything that determines them (data snapshot, folds, seed, fraction, config,
    the generated set's content or the per-fold GAN settings): a resumed job skips its finished
    folds, and a later job with the same key (the ``real-only`` run after a ``gan-pretrain``
    one) reuses them."""
    p = ctx.params
    mode, generated_name = p["mode"], p.get("generated")
    cfg = replace(CLASSIFIER_DEFAULTS, seed=p["seed"])
    with ctx.db.session() as session:
        dataset = store.get_dataset(session, p["dataset"])
        snap = store.snapshot(session, dataset)
        real = store.load_patch_set(session, dataset)
        fixed = _generated(session, generated_name, real) if generated_name else None
        fixed_key = (
            store.snapshot(session, store.get_dataset(session, generated_name))[:16]
            if generated_name
            else None
        )
        normal = store.normal_code(session)
        lineage: dict[str, Any] = {
            "dataset": dataset.name,
            "snapshot": snap,
            "generated": generated_name,
            "parent_gan_version": _parent_gan(session, generated_name),
        }
    splits = check_classifier_data(real, p["dataset"], p["folds"], p["seed"])
    cache = fold_cache(ctx.settings, snap, splits, p, cfg)
    runs = [mode] if mode == "real-only" else [mode, "real-only"]
    stages = len(runs) + 1
    per_fold = None
    if mode != "real-only" and fixed is None:
        gan_cfg = gan_config(real, p["dataset"], {"seed": p["seed"], "steps": p["gan_steps"]})
        per_fold = FoldGans(
            cache / f"gans-{_digest([gan_cfg.to_dict(), p['per_label']])[:16]}",
            gan_cfg,
            p["per_label"],
            ctx.should_stop,
            ctx.check_stop,
            lambda fold, step, steps: ctx.progress(
                (fold + step / steps) / len(splits) / stages,
                f"{mode}: fold {fold + 1}/{len(splits)}, its GAN at step {step}/{steps}",
            ),
        )
        lineage["gan_per_fold"] = {"steps": gan_cfg.steps, "per_label": p["per_label"]}
    generated = fixed if fixed is not None else per_fold
    source = fixed_key or (per_fold.folder.name if per_fold else "")
    preds = {}
    for i, run in enumerate(runs):
        step = _fold_progress(ctx.progress, i, stages, run)
        resume = cache / (run if run == "real-only" else f"{run}-{source}")
        reused = len(list(resume.glob("*-fold*.npy")))
        if reused:
            ctx.log(f"{run}: {reused} of {len(splits)} folds already computed, reused")
        preds[run] = cross_validate(
            real, cfg, run, splits, p["train_fraction"], generated, step, resume_dir=resume
        )
        ctx.check_stop()
    report = classification_report(preds[mode], normal)
    if mode != "real-only":
        report["paired_vs_real_only"] = paired_difference(preds[mode], preds["real-only"])
        report["leakage"] = fixed is not None
        report["generated_source"] = (
            "fixed set: its GAN may have seen the test patients (optimistic: leakage)"
            if fixed is not None
            else "one GAN per fold, trained on that fold's training patients only"
        )
    ctx.progress(len(runs) / stages, "final model")
    final_generated = fixed
    if per_fold is not None:
        final_generated = per_fold.pooled(len(splits), real.label_codes, cfg.seed)
    final = train_classifier(
        real,
        cfg,
        pretrain=final_generated if mode == "gan-pretrain" else None,
        mixed=final_generated if mode == "mixed" else None,
        should_stop=ctx.should_stop,
    )
    ctx.check_stop()
    summary = {
        "mode": mode,
        "folds": p["folds"],
        "train_fraction": p["train_fraction"],
        **report,
    }
    lineage["run"] = store.run_info(cfg.seed, snap, cfg.device)
    checkpoint = _save(ctx.settings, final)
    with ctx.db.session() as session:
        row = store.record_version(
            session,
            ctx.settings,
            "classifier",
            checkpoint,
            cfg.to_dict(),
            summary,
            lineage,
            ctx.job_id,
        )
        ctx.complete(session, {"model_version": row.version, **summary, **_headline(report)})
    checkpoint.unlink(missing_ok=True)


def fold_cache(
    settings: Settings, snap: str, splits: Folds, params: dict[str, Any], cfg: ClassifierConfig
) -> Path:
    """The folder of out-of-fold probabilities for this data, folds and training config."""
    key = {
        "snapshot": snap,
        "splits": hashlib.sha256(b"|".join(test.tobytes() for _, test in splits)).hexdigest(),
        "train_fraction": params["train_fraction"],
        "config": cfg.to_dict(),
    }
    return store.models_dir(settings) / "training" / "folds" / _digest(key)[:24]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def run_evaluate_classifier(ctx: JobContext) -> None:
    """A classifier version's metrics on a dataset (the job's result)."""
    version, name = int(ctx.params["model"]), ctx.params["dataset"]
    with ctx.db.session() as session:
        result = evaluate_classifier(session, version, name)
        ctx.complete(session, result)


def evaluate_classifier(session: Session, version: int, dataset_name: str) -> dict[str, Any]:
    """A classifier version's metrics on every patch of a dataset."""
    model = store.get_model_version(session, "classifier", version)
    trained = TrainedClassifier.from_checkpoint(store.load_checkpoint(model))
    data = store.load_patch_set(session, store.get_dataset(session, dataset_name))
    data = PatchSet(data.patches, data.labels, data.patients, tuple(trained.label_codes))
    pred = Predictions(
        data.targets(),
        trained.predict_proba(data.patches),
        np.asarray(data.patients),
        data.label_codes,
    )
    report = classification_report(pred, store.normal_code(session))
    return {"model_version": version, "dataset": dataset_name, **report, **_headline(report)}


def _fold_progress(
    on_progress: Callable[[float, str], None], stage: int, stages: int, message: str
) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        on_progress((stage + done / total) / stages, f"{message}: fold {done}/{total}")

    return report


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    return {"accuracy": report["accuracy"]["value"], "accuracy_ci95": report["accuracy"]["ci95"]}


def _generated(session: Session, name: str, real: PatchSet) -> PatchSet:
    data = store.load_patch_set(session, store.get_dataset(session, name))
    missing = set(data.labels) - set(real.label_codes)
    if missing:
        raise Invalid(f"generated labels absent from the real dataset: {sorted(missing)}")
    return PatchSet(data.patches, data.labels, data.patients, real.label_codes)


def _parent_gan(session: Session, generated_name: str | None) -> int | None:
    if generated_name is None:
        return None
    dataset = store.get_dataset(session, generated_name)
    if dataset.model_version_id is None:
        return None
    parent = session.get(ModelVersion, dataset.model_version_id)
    return parent.version if parent else None


def _save(settings: Settings, trained: TrainedClassifier) -> Path:
    folder = store.models_dir(settings) / "training"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"classifier-{uuid.uuid4().hex}.pt"
    torch.save(trained.checkpoint(), path)
    return path
