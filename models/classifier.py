"""A compact CNN for multi-window CT patches, and its training loop.

Input (B, C, S, S): one channel per window (``hu.CLASSIFIER_WINDOWS``); S = 32, 64 or 128 (global
average pooling makes the head size-independent). ``fit`` trains with CT-valid augmentation;
``train_classifier`` runs a mode's stages: optional pre-training on generated patches, then
training on real ones (``mixed``: both pooled in one stage).

Usage::

    trained = train_classifier(real_set, ClassifierConfig(), pretrain=generated_set)
    proba = trained.predict_proba(test_set.patches)  # (N, K)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from models.augment import ct_augment
from models.devices import pick_device, seed_everything
from models.hu import AIR_HU, window_channels
from models.patches import PatchSet

CHECKPOINT_FORMAT = "lungsign-classifier/1"


@dataclass
class ClassifierConfig:
    windows: tuple[str, ...] = ("lung", "mediastinal", "bone")
    widths: tuple[int, ...] = (16, 32, 64, 128)
    dropout: float = 0.3
    epochs: int = 30
    pretrain_epochs: int = 15
    batch_size: int = 32
    lr: float = 2e-3
    finetune_lr: float = 1e-3
    weight_decay: float = 1e-4
    max_shift: int = 4  # translation augmentation, pixels
    seed: int = 0
    device: str = "auto"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ClassifierConfig:
        raw = dict(raw)
        raw["windows"], raw["widths"] = tuple(raw["windows"]), tuple(raw["widths"])
        return cls(**raw)


class PatchClassifier(nn.Module):
    """(B, C, S, S) → logits (B, K); ``features`` gives the (B, F) penultimate embedding."""

    def __init__(self, in_channels: int, n_classes: int, widths: tuple[int, ...], dropout: float):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = in_channels
        for c in widths:
            layers += [
                nn.Conv2d(c_in, c, 3, padding=1, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]  # (B, c, H/2, W/2)
            c_in = c
        self.body = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(c_in, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).mean(dim=(2, 3))  # (B, F)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


@dataclass
class TrainedClassifier:
    model: PatchClassifier
    config: ClassifierConfig
    label_codes: list[str]
    history: list[dict[str, Any]] = field(default_factory=list)

    def inputs(self, hu: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(window_channels(hu, self.config.windows))

    @torch.no_grad()
    def predict_proba(self, hu: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """(N, S, S) int16 HU → (N, K) class probabilities."""
        return self._map(hu, lambda x: torch.softmax(self.model(x), dim=1), batch_size)

    @torch.no_grad()
    def embed(self, hu: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """(N, S, S) int16 HU → (N, F) penultimate features (the FD/KID feature space)."""
        return self._map(hu, self.model.features, batch_size)

    def _map(
        self, hu: np.ndarray, fn: Callable[[torch.Tensor], torch.Tensor], bs: int
    ) -> np.ndarray:
        self.model.eval()
        dev = next(self.model.parameters()).device
        x = self.inputs(hu)
        outs = [fn(x[i : i + bs].to(dev)).float().cpu() for i in range(0, len(x), bs)]
        return torch.cat(outs).numpy() if outs else np.empty((0, 0), dtype=np.float32)

    def checkpoint(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "label_codes": self.label_codes,
            "model": self.model.state_dict(),
            "history": self.history,
        }

    @classmethod
    def from_checkpoint(cls, ckpt: dict[str, Any]) -> TrainedClassifier:
        if ckpt.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"not a lungsign classifier checkpoint: {ckpt.get('format')!r}")
        cfg = ClassifierConfig.from_dict(ckpt["config"])
        model = _build(cfg, len(ckpt["label_codes"]))
        model.load_state_dict(ckpt["model"])
        return cls(model.eval(), cfg, list(ckpt["label_codes"]), list(ckpt["history"]))


def _build(cfg: ClassifierConfig, n_classes: int) -> PatchClassifier:
    return PatchClassifier(len(cfg.windows), n_classes, cfg.widths, cfg.dropout)


EpochCallback = Callable[[str, int, int, float], None]  # stage, epoch, epochs, loss


def train_classifier(
    real: PatchSet,
    cfg: ClassifierConfig,
    pretrain: PatchSet | None = None,
    mixed: PatchSet | None = None,
    on_epoch: EpochCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainedClassifier:
    """``pretrain`` given: gan-pretrain (generated, then real at ``finetune_lr``);
    ``mixed`` given: one stage on real ∪ generated; neither: real-only."""
    seed_everything(cfg.seed)
    codes = list(real.label_codes)
    model = _build(cfg, len(codes)).to(pick_device(cfg.device))
    trained = TrainedClassifier(model, cfg, codes)
    lr = cfg.lr
    if pretrain is not None:
        _check_codes(pretrain, codes)
        fit(trained, pretrain, cfg.pretrain_epochs, cfg.lr, "pretrain", on_epoch, should_stop)
        lr = cfg.finetune_lr
    stage_data = real
    if mixed is not None:
        _check_codes(mixed, codes)
        stage_data = _concat(real, mixed)
    fit(trained, stage_data, cfg.epochs, lr, "train", on_epoch, should_stop)
    return trained


def fit(
    trained: TrainedClassifier,
    data: PatchSet,
    epochs: int,
    lr: float,
    stage: str,
    on_epoch: EpochCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """AdamW + cosine schedule, cross-entropy, CT augmentation; appends to ``history``."""
    cfg, model = trained.config, trained.model
    dev = next(model.parameters()).device
    x = trained.inputs(data.patches)  # (N, C, S, S)
    y = torch.from_numpy(np.array([trained.label_codes.index(c) for c in data.labels]))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    steps = max(1, epochs * ((len(x) + cfg.batch_size - 1) // cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    rng = torch.Generator().manual_seed(cfg.seed + len(trained.history))
    air = torch.from_numpy(window_channels(np.full((1, 1, 1), AIR_HU, np.int16), cfg.windows))
    for epoch in range(epochs):
        if should_stop is not None and should_stop():
            return
        model.train()
        order = torch.randperm(len(x), generator=rng)
        total = 0.0
        for i in range(0, len(x), cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            if len(idx) < 2:
                continue  # BatchNorm needs two samples
            xb = ct_augment(x[idx], rng, cfg.max_shift, air).to(dev)  # (B, C, S, S)
            loss = nn.functional.cross_entropy(model(xb), y[idx].to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        trained.history.append({"stage": stage, "epoch": epoch + 1, "loss": total / len(x)})
        if on_epoch is not None:
            on_epoch(stage, epoch + 1, epochs, total / len(x))


def _check_codes(data: PatchSet, codes: list[str]) -> None:
    unknown = set(data.labels) - set(codes)
    if unknown:
        raise ValueError(f"generated labels not in the real label set: {sorted(unknown)}")


def _concat(a: PatchSet, b: PatchSet) -> PatchSet:
    return PatchSet(
        np.concatenate([a.patches, b.patches]),
        a.labels + b.labels,
        a.patients + b.patients,
        a.label_codes,
    )
