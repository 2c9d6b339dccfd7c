"""Patch sets: int16 HU patches with their label codes and patient keys, as plain arrays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class PatchSet:
    """``patches`` (N, H, W) int16 HU; ``labels`` and ``patients`` one string per patch.

    ``label_codes`` fixes the class order (index = class id); by default the sorted codes present.
    Label codes are data: nothing in ``models`` names a particular sign.
    """

    patches: np.ndarray
    labels: list[str]
    patients: list[str]
    label_codes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.patches.ndim != 3 or self.patches.dtype != np.int16:
            raise ValueError(
                f"patches must be int16 (N, H, W), got {self.patches.dtype} {self.patches.shape}"
            )
        n = len(self.patches)
        if len(self.labels) != n or len(self.patients) != n:
            raise ValueError("patches, labels and patients must have the same length")
        codes = tuple(self.label_codes) or tuple(sorted(set(self.labels)))
        unknown = set(self.labels) - set(codes)
        if unknown:
            raise ValueError(f"labels not in label_codes: {sorted(unknown)}")
        object.__setattr__(self, "label_codes", codes)

    def __len__(self) -> int:
        return len(self.patches)

    @property
    def image_size(self) -> int:
        return int(self.patches.shape[-1])

    def targets(self) -> np.ndarray:
        """Class ids (N,) int64 in ``label_codes`` order."""
        index = {code: i for i, code in enumerate(self.label_codes)}
        return np.array([index[label] for label in self.labels], dtype=np.int64)

    def subset(self, indices: Sequence[int] | np.ndarray) -> PatchSet:
        idx = np.asarray(indices, dtype=np.int64)
        return PatchSet(
            self.patches[idx],
            [self.labels[i] for i in idx],
            [self.patients[i] for i in idx],
            self.label_codes,
        )

    def of_patients(self, keys: set[str]) -> PatchSet:
        return self.subset([i for i, p in enumerate(self.patients) if p in keys])
