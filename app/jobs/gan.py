"""GAN jobs: train (``train_gan``), measure (``evaluate`` of a GAN), generate (``generate``).

Training checkpoints under ``models/training/gan-job<ID>.pt`` about twenty times a run, so a
job whose worker died resumes there. Measuring is a job of its own, queued when training
ends, so generation and studies never wait for it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.jobs import store
from app.jobs.context import JobContext
from app.services.datasets.rendering import WINDOWS, png_bytes, sample_sheet, window_to_uint8
from app.services.ingest.patching import content_hash, pixel_bytes
from app.tables import Dataset, Job, ModelVersion, Patch
from models.classifier import ClassifierConfig
from models.gan import IMAGE_SIZES
from models.gan_metrics import evaluate_checkpoint, memorisation
from models.gan_training import GANConfig, GANProgress, train
from models.generation import generate
from models.patches import PatchSet

GAN_DEFAULTS = GANConfig()
FEATURE_CLASSIFIER = ClassifierConfig()  # the FD/KID/precision/recall feature space
C2ST_CLASSIFIER = ClassifierConfig(epochs=15)
METRIC_SAMPLES_PER_LABEL = 64  # generated patches per label for the GAN report
SHEET_REAL, SHEET_GENERATED = 4, 8  # patches per label row of the sample sheet
CHECKPOINTS_PER_RUN = 20
LOSS_POINTS = 200  # loss curve points kept in the job's metrics


def gan_config(data: PatchSet, dataset_name: str, params: dict[str, Any]) -> GANConfig:
    """The run's config: defaults, the data's patch size, the steps asked (epochs or steps)."""
    if data.image_size not in IMAGE_SIZES:
        sizes = ", ".join(map(str, IMAGE_SIZES))
        raise Invalid(
            f"dataset {dataset_name!r} has {data.image_size} px patches; the GAN needs {sizes} px"
        )
    cfg = replace(GAN_DEFAULTS, seed=params["seed"], image_size=data.image_size)
    if params.get("steps"):
        cfg.steps = int(params["steps"])
    elif params.get("epochs"):
        cfg.steps = max(1, math.ceil(params["epochs"] * len(data) / cfg.batch_size))
    cfg.checkpoint_every = max(10, cfg.steps // CHECKPOINTS_PER_RUN)
    cfg.sample_every = cfg.checkpoint_every * 2
    cfg.log_every = max(1, min(cfg.log_every, cfg.steps // 100))  # the progress bar moves
    return cfg


def run_train_gan(ctx: JobContext) -> None:
    """Train (or resume) a GAN, record its version with a sample sheet, queue its measuring."""
    params = ctx.params
    with ctx.db.session() as session:
        dataset = store.get_dataset(session, params["dataset"])
        data = store.load_patch_set(session, dataset)
        snap = store.snapshot(session, dataset)
        lineage = {"dataset": dataset.name, "dataset_id": dataset.id, "snapshot": snap}
    cfg = gan_config(data, params["dataset"], params)
    partial = store.models_dir(ctx.settings) / "training" / f"gan-job{ctx.job_id}.pt"
    samples = job_dir(ctx) / "samples.png"
    losses: list[list[float]] = list(ctx.extra_metrics.get("losses", []))

    def progress(p: GANProgress) -> None:
        ctx.progress(0.95 * p.step / p.total, f"step {p.step}/{p.total} d={p.losses['d']:.3f}")
        losses.append([p.step, round(p.losses["d"], 4), round(p.losses["g"], 4)])
        del losses[: max(0, len(losses) - LOSS_POINTS)]
        ctx.metrics(losses=list(losses))  # a copy: the monitor thread writes it
        if p.grid is not None:
            _write_atomic(samples, grid_png(p.grid))
            ctx.metrics(samples_step=p.step)

    result = train(cfg, data, progress, ctx.should_stop, checkpoint_path=partial)
    if result.stopped:
        ctx.check_stop()
    ctx.progress(0.97, "sample sheet")
    sheet = _sheet(data, result.checkpoint)
    with ctx.db.session() as session:
        metrics = {"train_seconds": round(result.seconds, 1)}
        lineage.update(n=len(data), run=store.run_info(cfg.seed, snap, cfg.device))
        row = store.record_version(
            session, ctx.settings, "gan", partial, cfg.to_dict(), metrics, lineage, ctx.job_id
        )
        path = Path(row.checkpoint_path).with_suffix(".png")
        path.write_bytes(sheet)
        measure = Job(
            kind="evaluate",
            params={"model": row.version, "dataset": dataset.name, "kind": "gan"},
            created_by_id=ctx.user_id,
        )
        session.add(measure)
        session.flush()
        ctx.complete(
            session,
            {
                "model_version": row.version,
                "samples_png": str(path),
                "evaluate_job": measure.id,
                **metrics,
            },
        )
    partial.unlink(missing_ok=True)
    from app.jobs.queue import MEASURING, MEASURING_DELAY_S, enqueue

    enqueue(ctx.settings, measure.id, MEASURING, MEASURING_DELAY_S)


def run_evaluate_gan(ctx: JobContext) -> None:
    """A GAN version's quality against a real dataset, stored in the version's metrics."""
    version, dataset_name = int(ctx.params["model"]), ctx.params["dataset"]
    with ctx.db.session() as session:
        gan = store.get_model_version(session, "gan", version)
        data = store.load_patch_set(session, store.get_dataset(session, dataset_name))
        checkpoint = store.load_checkpoint(gan)
    ctx.progress(0.05, "generating and training the measuring classifiers")
    measured, _ = evaluate_checkpoint(
        checkpoint, data, FEATURE_CLASSIFIER, C2ST_CLASSIFIER, METRIC_SAMPLES_PER_LABEL
    )
    ctx.check_stop()
    with ctx.db.session() as session:
        gan = store.get_model_version(session, "gan", version)
        gan.metrics = {**gan.metrics, **measured, "measured_on": dataset_name}
        ctx.complete(session, {"model_version": version, "dataset": dataset_name, **measured})


def run_generate(ctx: JobContext) -> None:
    """A new generated dataset from a GAN version, optionally without near-copies."""
    p = ctx.params
    with ctx.db.session() as session:
        gan = store.get_model_version(session, "gan", int(p["gan"]))
        checkpoint = store.load_checkpoint(gan)
    out = generate(
        checkpoint,
        int(p["per_label"]),
        seed=int(p["seed"]),
        on_progress=lambda done, total: ctx.progress(0.8 * done / total, "generating"),
    )
    ctx.check_stop()
    with ctx.db.session() as session:
        gan = store.get_model_version(session, "gan", int(p["gan"]))
        dropped = set(_near_copies(session, gan, out.patches)) if p["drop_near_copies"] else set()
        ctx.progress(0.9, "storing")
        result = _store_generated(session, gan, out, p["dataset"], dropped)
        ctx.complete(session, result)


def _store_generated(
    session: Session, gan: ModelVersion, out: Any, name: str, dropped: set[int]
) -> dict[str, Any]:
    if store.dataset_exists(session, name):
        raise Invalid(f"dataset {name!r} exists; choose a new name")
    size = int(out.patches.shape[-1])
    dataset = Dataset(name=name, kind="generated", patch_size=size, model_version_id=gan.id)
    session.add(dataset)
    session.flush()
    seen: set[str] = set()
    for i, (patch, label, seed) in enumerate(zip(out.patches, out.labels, out.seeds, strict=True)):
        digest = content_hash(label, patch)
        if digest in seen or i in dropped:
            continue
        seen.add(digest)
        session.add(
            Patch(
                dataset_id=dataset.id,
                source="generated",
                label_code=label,
                patient_key=f"gan-v{gan.version}",
                split="train",
                height=size,
                width=size,
                pixels=pixel_bytes(patch),
                content_hash=digest,
                model_version_id=gan.id,
                seed=seed,
            )
        )
    session.flush()
    return {
        "dataset": name,
        "model_version": gan.version,
        "generated": len(seen),
        "dropped_near_copies": len(dropped),
    }


def _near_copies(session: Session, gan: ModelVersion, patches: np.ndarray) -> list[int]:
    """Indices of PATCHES the memorisation check flags against the GAN's training dataset."""
    trained_on = session.get(Dataset, (gan.lineage or {}).get("dataset_id"))
    if trained_on is None:
        raise Invalid(
            f"the dataset GAN version {gan.version} was trained on is gone: near-copies "
            "cannot be checked"
        )
    return list(
        memorisation(store.load_patch_set(session, trained_on), patches)["near_copy_indices"]
    )


def _sheet(real: PatchSet, checkpoint: dict[str, Any]) -> bytes:
    """Per label: the first real patches beside generated ones, for a look by eye."""
    seed = int(checkpoint["config"]["seed"])
    fake = generate(checkpoint, SHEET_GENERATED, seed=seed + 1)
    rows = []
    for code in real.label_codes:
        r = real.patches[np.asarray(real.labels) == code][:SHEET_REAL]
        g = fake.patches[np.asarray(fake.labels) == code][:SHEET_GENERATED]
        rows.append((code, r, g))
    return sample_sheet(rows)


def grid_png(grid: np.ndarray) -> bytes:
    """(labels, per_label, S, S) int16 HU as one lung-window PNG, a row per label."""
    rows, cols, size, _ = grid.shape
    tiles = grid.transpose(0, 2, 1, 3).reshape(rows * size, cols * size)
    return png_bytes(window_to_uint8(tiles, *WINDOWS["lung"]))


def job_dir(ctx: JobContext) -> Path:
    """Files a job shows while it runs (the GAN's sample grid)."""
    path = ctx.settings.data_dir / "jobs" / str(ctx.job_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
