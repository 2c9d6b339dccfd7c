"""Patient-disjoint k-fold evaluation of the classifier modes, compared on the same folds.

Modes: ``real-only``; ``gan-pretrain`` (pre-train on generated, fine-tune on real — the
reference method); ``mixed`` (real ∪ generated in one stage).

``generated`` is either a fixed ``PatchSet`` or a function ``(fold_training_set, fold) →
PatchSet``. Only the function form is leak-free: a GAN trained on all patients has seen each
fold's test patients, which flatters ``gan-pretrain`` and ``mixed``. Reports say which was used.

Usage::

    folds = patient_folds(real, 5)
    report = compare_modes(real, ClassifierConfig(), folds, train_fraction=0.25,
                           generated=lambda train, fold: make_generated(train))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.classifier import ClassifierConfig, train_classifier
from models.folds import patient_fraction
from models.metrics import Predictions, classification_report, paired_difference
from models.patches import PatchSet

MODES = ("real-only", "gan-pretrain", "mixed")
GeneratedSource = PatchSet | Callable[[PatchSet, int], PatchSet]
Folds = Sequence[tuple[np.ndarray, np.ndarray]]


def cross_validate(
    data: PatchSet,
    cfg: ClassifierConfig,
    mode: str,
    folds: Folds,
    train_fraction: float = 1.0,
    generated: GeneratedSource | None = None,
    on_fold: Callable[[int, int], None] | None = None,
    resume_dir: Path | None = None,
) -> Predictions:
    """Out-of-fold class probabilities for every patch of ``data`` (trained per fold).

    With ``resume_dir``, each finished fold's test probabilities are saved there, and a later
    call with the same folds and folder loads them instead of training that fold again.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode != "real-only" and generated is None:
        raise ValueError(f"mode {mode!r} needs generated patches")
    proba = np.zeros((len(data), len(data.label_codes)), dtype=np.float32)
    for fold, (train_idx, test_idx) in enumerate(folds):
        saved = resume_dir / f"{mode}-fold{fold}.npy" if resume_dir is not None else None
        if saved is not None and saved.exists():
            proba[test_idx] = np.load(saved)
            if on_fold is not None:
                on_fold(fold + 1, len(folds))
            continue
        train = patient_fraction(data.subset(train_idx), train_fraction, seed=cfg.seed + fold)
        extra = None
        if generated is not None and mode != "real-only":
            extra = generated(train, fold) if callable(generated) else generated
        trained = train_classifier(
            train,
            cfg,
            pretrain=extra if mode == "gan-pretrain" else None,
            mixed=extra if mode == "mixed" else None,
        )
        proba[test_idx] = trained.predict_proba(data.patches[test_idx])
        if saved is not None:
            _save_atomic(saved, proba[test_idx])
        if on_fold is not None:
            on_fold(fold + 1, len(folds))
    return Predictions(data.targets(), proba, np.asarray(data.patients), data.label_codes)


def _save_atomic(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as out:
        np.save(out, array)
    tmp.replace(path)


def compare_modes(
    data: PatchSet,
    cfg: ClassifierConfig,
    folds: Folds,
    modes: Sequence[str] = ("real-only", "gan-pretrain"),
    train_fraction: float = 1.0,
    generated: GeneratedSource | None = None,
    normal_code: str | None = "NOR",
) -> dict[str, Any]:
    """Each mode's report, and each other mode minus ``modes[0]`` paired on the same patches."""
    preds = {
        mode: cross_validate(data, cfg, mode, folds, train_fraction, generated) for mode in modes
    }
    base = modes[0]
    return {
        "folds": len(folds),
        "train_fraction": train_fraction,
        "generated_source": _describe(generated),
        "modes": {mode: classification_report(p, normal_code) for mode, p in preds.items()},
        "paired": {
            f"{mode} - {base}": paired_difference(preds[mode], preds[base]) for mode in modes[1:]
        },
    }


def _describe(generated: GeneratedSource | None) -> str:
    if generated is None:
        return "none"
    if callable(generated):
        return "per fold, from a GAN trained on that fold's training patients only"
    return "fixed set (its GAN may have seen test patients: optimistic for GAN modes)"
