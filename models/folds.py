"""Patient-disjoint cross-validation folds and the low-data training subsets."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from models.patches import PatchSet


def patient_folds(data: PatchSet, k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train_idx, test_idx) pairs; no patient is on both sides, labels stratified as far
    as patients allow (``StratifiedGroupKFold``)."""
    n_patients = len(set(data.patients))
    if n_patients < k:
        raise ValueError(f"{k} patient-disjoint folds need ≥ {k} patients, have {n_patients}")
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(data)), data.targets(), groups=data.patients))


def patient_fraction(data: PatchSet, fraction: float, seed: int = 0) -> PatchSet:
    """The patches of a random ``fraction`` of the patients (at least one patient)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"train_fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return data
    keys = sorted(set(data.patients))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(keys), size=max(1, round(fraction * len(keys))), replace=False)
    return data.of_patients({keys[i] for i in chosen})
