"""Leak-free generated patches for classifier cross-validation: one GAN per fold, trained on
that fold's training patients only, so no test patient has shaped what pre-training sees.

Each fold keeps three files in its folder: the GAN's checkpoint while it trains (a resumed
job carries on from it), the generated patches (``generated-fold<i>.npz``), and
``gan-fold<i>.json`` naming the patients the GAN was trained on, which the job's tests and an
auditor can hold against the fold's test patients.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from models.gan_training import GANConfig, GANProgress, train
from models.generation import generate
from models.patches import PatchSet

OnStep = Callable[[int, int, int], None]  # fold, step, steps


@dataclass
class FoldGans:
    """``(fold training set, fold) → generated PatchSet``, as ``cross_validate`` takes it."""

    folder: Path
    gan: GANConfig
    per_label: int
    should_stop: Callable[[], bool]
    check_stop: Callable[[], None]  # raises when a stop was asked
    on_step: OnStep

    def __call__(self, train_set: PatchSet, fold: int) -> PatchSet:
        saved = self.folder / f"generated-fold{fold}.npz"
        if not saved.exists():
            self._train_and_generate(train_set, fold, saved)
        with np.load(saved) as stored:
            patches, labels = stored["patches"], stored["labels"].tolist()
        return PatchSet(patches, labels, ["generated"] * len(labels), train_set.label_codes)

    def pooled(self, folds: int, label_codes: tuple[str, ...], seed: int) -> PatchSet:
        """``per_label`` patches per label drawn from every fold's set: what the final model
        (trained on all patients) pre-trains on, at the same size as each fold's set."""
        sets = [np.load(self.folder / f"generated-fold{fold}.npz") for fold in range(folds)]
        patches = np.concatenate([s["patches"] for s in sets])
        labels = np.concatenate([s["labels"] for s in sets])
        rng = np.random.default_rng(seed)
        keep = np.concatenate(
            [
                rng.choice(idx, size=min(self.per_label, len(idx)), replace=False)
                for code in label_codes
                if len(idx := np.flatnonzero(labels == code))
            ]
        )
        keep.sort()
        chosen = labels[keep].tolist()
        return PatchSet(patches[keep], chosen, ["generated"] * len(chosen), label_codes)

    def _train_and_generate(self, train_set: PatchSet, fold: int, saved: Path) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        cfg = replace(self.gan, seed=self.gan.seed + fold)
        manifest = {"fold": fold, "patients": sorted(set(train_set.patients)), "steps": cfg.steps}
        (self.folder / f"gan-fold{fold}.json").write_text(json.dumps(manifest))
        checkpoint = self.folder / f"gan-fold{fold}.pt"

        def progress(p: GANProgress) -> None:
            self.on_step(fold, p.step, p.total)

        result = train(cfg, train_set, progress, self.should_stop, checkpoint_path=checkpoint)
        if result.stopped:
            self.check_stop()
        out = generate(result.checkpoint, self.per_label, seed=cfg.seed)
        tmp = saved.with_name(saved.stem + ".tmp.npz")
        np.savez(tmp, patches=out.patches, labels=np.asarray(out.labels))
        tmp.replace(saved)
        checkpoint.unlink(missing_ok=True)
