"""Tiny synthetic patch sets for the model tests: one bright blob per class, class-specific
position and HU, on lung-like background; a few patients each."""

from __future__ import annotations

import numpy as np

from models.patches import PatchSet


def blob_patches(
    n_per_class: int = 6,
    size: int = 32,
    codes: tuple[str, ...] = ("AAA", "BBB", "NOR"),
    seed: int = 0,
) -> PatchSet:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    patches, labels, patients = [], [], []
    for k, code in enumerate(codes):
        for i in range(n_per_class):
            img = rng.normal(-850, 40, (size, size))
            if code != "NOR":
                cy, cx = size * (k + 1) / (len(codes) + 1), size / 2 + rng.uniform(-2, 2)
                r = size / 6
                img[(yy - cy) ** 2 + (xx - cx) ** 2 < r**2] = 60 + 300 * k
            patches.append(np.rint(img).astype(np.int16))
            labels.append(code)
            patients.append(f"P{i % 5}")
    return PatchSet(np.stack(patches), labels, patients, codes)
