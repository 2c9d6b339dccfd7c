"""Training the GAN: hinge loss, DiffAugment on both steps, EMA generator, resumable.

Usage::

    from models.gan_training import GANConfig, train
    result = train(GANConfig(steps=4000), patch_set, checkpoint_path=Path("gan.pt"))
    result.checkpoint  # self-describing dict: config, label codes, weights, step

``on_progress(GANProgress)`` is called every ``log_every`` steps (with a sample grid every
``sample_every``); ``should_stop()`` is checked between steps and ends the run early with a
checkpoint saved, from which a later call with the same path resumes.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from models.augment import DiffAugmentPolicy, diff_augment
from models.devices import pick_device, seed_everything
from models.gan import NetworkShape, build_networks
from models.hu import HUWindow, hu_to_network, network_to_hu
from models.patches import PatchSet

log = logging.getLogger(__name__)
CHECKPOINT_FORMAT = "lungsign-gan/1"


@dataclass
class GANConfig:
    image_size: int = 64
    per_class: bool = False  # True: one GAN per label (reference paper); False: class-conditional
    z_dim: int = 128
    g_channels: int = 16
    d_channels: int = 16
    steps: int = 4000
    batch_size: int = 16
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    ema_decay: float = 0.999
    mode_seeking: float = 0.25  # weight of the MSGAN diversity term in the G loss; 0 = off
    window_low: float = -1024.0
    window_high: float = 1024.0
    augment: DiffAugmentPolicy = field(default_factory=DiffAugmentPolicy)
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # bfloat16 autocast on cuda; ignored on cpu
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 500

    @property
    def window(self) -> HUWindow:
        return HUWindow(self.window_low, self.window_high)

    def shape(self, n_classes: int) -> NetworkShape:
        return NetworkShape(
            self.image_size, self.z_dim, self.g_channels, self.d_channels, n_classes
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> GANConfig:
        raw = dict(raw)
        raw["augment"] = DiffAugmentPolicy(**raw.get("augment", {}))
        raw["betas"] = tuple(raw.get("betas", (0.5, 0.999)))
        return cls(**raw)


@dataclass
class GANProgress:
    step: int
    total: int
    losses: dict[str, float]
    grid: np.ndarray | None = None  # (rows=labels, cols, S, S) int16 HU from the EMA generator


@dataclass
class GANResult:
    checkpoint: dict[str, Any]
    step: int
    stopped: bool
    seconds: float


@dataclass
class TrainingState:
    generator: nn.Module
    discriminator: nn.Module
    ema: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    sampler: torch.Generator  # draws the real batches
    step: int = 0
    seconds: float = 0.0


def train(
    cfg: GANConfig,
    data: PatchSet,
    on_progress: Callable[[GANProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    checkpoint_path: Path | None = None,
) -> GANResult:
    """Train (or resume, when ``checkpoint_path`` holds a checkpoint) until ``cfg.steps``."""
    if data.image_size != cfg.image_size:
        raise ValueError(f"patches are {data.image_size} px, config says {cfg.image_size}")
    device = pick_device(cfg.device)
    seed_everything(cfg.seed)
    codes = list(data.label_codes)
    state = new_state(cfg, len(codes), device)
    if checkpoint_path is not None and checkpoint_path.exists():
        _restore(state, torch.load(checkpoint_path, map_location=device, weights_only=False))
        log.info("resuming GAN from step %d", state.step)
    images = torch.from_numpy(hu_to_network(data.patches, cfg.window)).unsqueeze(1).to(device)
    targets = torch.from_numpy(data.targets()).to(device)
    stopped = False
    timer = _Timer(state.seconds)
    while state.step < cfg.steps:
        if should_stop is not None and should_stop():
            stopped = True
            break
        idx = torch.randint(0, len(images), (cfg.batch_size,), generator=state.sampler).to(device)
        losses = train_step(cfg, state, images[idx], targets[idx], device)
        state.step += 1
        state.seconds = timer.elapsed()
        _report(cfg, state, codes, losses, on_progress)
        if checkpoint_path is not None and state.step % cfg.checkpoint_every == 0:
            save_checkpoint(make_checkpoint(cfg, codes, state), checkpoint_path)
    checkpoint = make_checkpoint(cfg, codes, state)
    if checkpoint_path is not None:
        save_checkpoint(checkpoint, checkpoint_path)
    return GANResult(checkpoint, state.step, stopped, state.seconds)


def new_state(cfg: GANConfig, n_classes: int, device: torch.device) -> TrainingState:
    g, d = build_networks(cfg.shape(n_classes), cfg.per_class)
    g, d = g.to(device), d.to(device)
    ema = copy.deepcopy(g).eval().requires_grad_(False)
    return TrainingState(
        g,
        d,
        ema,
        torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=cfg.betas),
        torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=cfg.betas),
        torch.Generator().manual_seed(cfg.seed),
    )


def train_step(
    cfg: GANConfig, s: TrainingState, real: torch.Tensor, y: torch.Tensor, device: torch.device
) -> dict[str, float]:
    """One D step then one G step, hinge loss, DiffAugment on every image D sees."""
    amp = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cfg.amp and device.type == "cuda")
    policy = cfg.augment
    z = torch.randn(len(real), cfg.z_dim, device=device)
    with amp:
        fake = s.generator(z, y).detach()  # (B, 1, S, S)
        d_real = s.discriminator(diff_augment(real, policy), y)
        d_fake = s.discriminator(diff_augment(fake, policy), y)
        loss_d = torch.relu(1 - d_real).mean() + torch.relu(1 + d_fake).mean()
    s.opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    s.opt_d.step()
    half = len(real) // 2
    y_g = torch.cat([y[:half], y[:half], y[2 * half :]])  # pairs (i, i + half) share a label
    z = torch.randn(len(real), cfg.z_dim, device=device)
    with amp:
        fake = s.generator(z, y_g)  # (B, 1, S, S)
        loss_g = -s.discriminator(diff_augment(fake, policy), y_g).mean()
        if cfg.mode_seeking and half:
            loss_g = loss_g + cfg.mode_seeking * _mode_seeking(fake, z, half)
    s.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    s.opt_g.step()
    # Warm-up: early on the EMA follows G closely instead of averaging in the random init.
    _update_ema(s.ema, s.generator, min(cfg.ema_decay, (1 + s.step) / (10 + s.step)))
    return {
        "d": loss_d.item(),
        "g": loss_g.item(),
        "d_real": d_real.mean().item(),
        "d_fake": d_fake.mean().item(),
    }


def _mode_seeking(fake: torch.Tensor, z: torch.Tensor, half: int) -> torch.Tensor:
    """MSGAN (Mao et al. 2019): penalise same-label pairs whose images differ less than their
    latent codes do, so the generator cannot ignore z (mode collapse within a class)."""
    image_gap = (fake[:half] - fake[half : 2 * half]).abs().mean()
    z_gap = (z[:half] - z[half : 2 * half]).abs().mean()
    return 1 / (image_gap / z_gap + 1e-5)


@torch.no_grad()
def _update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters(), strict=True):
        e.lerp_(p, 1 - decay)
    for eb, b in zip(ema.buffers(), model.buffers(), strict=True):
        eb.copy_(b)


def _report(
    cfg: GANConfig,
    s: TrainingState,
    codes: list[str],
    losses: dict[str, float],
    on_progress: Callable[[GANProgress], None] | None,
) -> None:
    if on_progress is None:
        return
    grid_due = s.step % cfg.sample_every == 0 or s.step == cfg.steps
    if s.step % cfg.log_every == 0 or grid_due:
        grid = sample_grid(s.ema, cfg, len(codes)) if grid_due else None
        on_progress(GANProgress(s.step, cfg.steps, losses, grid))


@torch.no_grad()
def sample_grid(ema: nn.Module, cfg: GANConfig, n_classes: int, per_class: int = 8) -> np.ndarray:
    """(n_classes, per_class, S, S) int16 HU from fixed latent codes (seed ``cfg.seed``)."""
    device = next(ema.parameters()).device
    z = torch.randn(per_class, cfg.z_dim, generator=torch.Generator().manual_seed(cfg.seed))
    z = z.repeat(n_classes, 1).to(device)
    y = torch.arange(n_classes).repeat_interleave(per_class).to(device)
    images = ema(z, y).float().cpu().numpy()[:, 0]  # (n_classes·per_class, S, S)
    return network_to_hu(images, cfg.window).reshape(n_classes, per_class, *images.shape[-2:])


def make_checkpoint(cfg: GANConfig, codes: list[str], s: TrainingState) -> dict[str, Any]:
    """Everything needed to resume training or generate: config and label codes included."""
    return {
        "format": CHECKPOINT_FORMAT,
        "config": cfg.to_dict(),
        "label_codes": list(codes),
        "step": s.step,
        "seconds": s.seconds,
        "generator": s.generator.state_dict(),
        "discriminator": s.discriminator.state_dict(),
        "ema": s.ema.state_dict(),
        "opt_g": s.opt_g.state_dict(),
        "opt_d": s.opt_d.state_dict(),
        "rng": torch.get_rng_state(),
        "sampler": s.sampler.get_state(),
    }


def _restore(s: TrainingState, ckpt: dict[str, Any]) -> None:
    s.generator.load_state_dict(ckpt["generator"])
    s.discriminator.load_state_dict(ckpt["discriminator"])
    s.ema.load_state_dict(ckpt["ema"])
    s.opt_g.load_state_dict(ckpt["opt_g"])
    s.opt_d.load_state_dict(ckpt["opt_d"])
    s.step, s.seconds = int(ckpt["step"]), float(ckpt["seconds"])
    torch.set_rng_state(ckpt["rng"].cpu())
    s.sampler.set_state(ckpt["sampler"].cpu())


def save_checkpoint(checkpoint: dict[str, Any], path: Path) -> None:
    """Write atomically (temp file + rename) so a killed worker never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(checkpoint, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=False)


def load_ema_generator(checkpoint: dict[str, Any] | Path) -> tuple[nn.Module, GANConfig, list[str]]:
    """(EMA generator in eval mode on cpu, its config, its label codes) from a checkpoint."""
    ckpt = load_checkpoint(checkpoint) if isinstance(checkpoint, Path) else checkpoint
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"not a lungsign GAN checkpoint: {ckpt.get('format')!r}")
    cfg = GANConfig.from_dict(ckpt["config"])
    codes = list(ckpt["label_codes"])
    generator, _ = build_networks(cfg.shape(len(codes)), cfg.per_class)
    generator.load_state_dict(ckpt["ema"])
    return generator.eval(), cfg, codes


class _Timer:
    def __init__(self, offset: float) -> None:
        self._start = time.perf_counter() - offset

    def elapsed(self) -> float:
        return time.perf_counter() - self._start
