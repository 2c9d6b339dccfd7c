"""Generating patches from a GAN checkpoint: int16 HU, one seed per patch.

Each patch's latent code comes from its own seed (``torch.Generator().manual_seed(seed)``), so
``regenerate(checkpoint, label, seed)`` rebuilds any single stored patch. Output goes through
``network_to_hu``: rounded to integer HU and clipped to the window, like real patches.

Usage::

    out = generate(Path("gan.pt"), per_label=200, seed=1)
    out.patches  # (N, S, S) int16 HU; out.labels, out.seeds
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.devices import pick_device
from models.gan_training import load_ema_generator
from models.hu import network_to_hu

MAX_SEED = 2**31 - 1  # fits a 32-bit signed database column


@dataclass(frozen=True)
class GeneratedPatches:
    patches: np.ndarray  # (N, S, S) int16 HU
    labels: list[str]
    seeds: list[int]


def generate(
    checkpoint: dict[str, Any] | Path,
    per_label: int,
    seed: int = 0,
    labels: Sequence[str] | None = None,
    batch_size: int = 256,
    device: str = "auto",
    on_progress: Callable[[int, int], None] | None = None,
) -> GeneratedPatches:
    """``per_label`` patches for each label (default: all the checkpoint's labels)."""
    generator, cfg, codes = load_ema_generator(checkpoint)
    wanted = list(labels) if labels is not None else codes
    unknown = set(wanted) - set(codes)
    if unknown:
        raise ValueError(f"the GAN was not trained on {sorted(unknown)}")
    rng = np.random.default_rng(seed)
    seeds = rng.choice(MAX_SEED, size=per_label * len(wanted), replace=False).tolist()
    names = [code for code in wanted for _ in range(per_label)]
    dev = pick_device(device)
    generator = generator.to(dev)
    chunks = []
    for start in range(0, len(seeds), batch_size):
        stop = min(start + batch_size, len(seeds))
        chunks.append(_render(generator, cfg.z_dim, codes, names[start:stop], seeds[start:stop]))
        if on_progress is not None:
            on_progress(stop, len(seeds))
    patches = np.concatenate(chunks) if chunks else np.empty((0, cfg.image_size, cfg.image_size))
    return GeneratedPatches(network_to_hu(patches, cfg.window), names, seeds)


def regenerate(checkpoint: dict[str, Any] | Path, label: str, seed: int) -> np.ndarray:
    """The (S, S) int16 HU patch that ``generate`` produced for ``label`` with ``seed``."""
    generator, cfg, codes = load_ema_generator(checkpoint)
    return network_to_hu(_render(generator, cfg.z_dim, codes, [label], [seed]), cfg.window)[0]


@torch.no_grad()
def _render(
    generator: torch.nn.Module, z_dim: int, codes: list[str], names: list[str], seeds: list[int]
) -> np.ndarray:
    """(n, S, S) float network values; one latent code per seed."""
    dev = next(generator.parameters()).device
    z = torch.stack([torch.randn(z_dim, generator=torch.Generator().manual_seed(s)) for s in seeds])
    y = torch.tensor([codes.index(name) for name in names])
    return generator(z.to(dev), y.to(dev)).float().cpu().numpy()[:, 0]
