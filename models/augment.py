"""Augmentations valid for axial CT patches, on network-space tensors (B, C, H, W).

``ct_augment`` (classifier training): flips, 90° rotations, small translations padded with
air. Anatomy has no preferred in-plane orientation at patch scale, and HU keep their meaning,
so no intensity jitter is applied here.

``diff_augment`` (GAN, DiffAugment of Zhao et al. 2020, re-implemented): differentiable
translation, cutout, brightness and contrast applied to real *and* generated batches in both
the D and the G step, so D never sees un-augmented images and cannot memorise the few reals.
Brightness and contrast act in HU: a shift of ±``brightness_hu`` and a scale of the HU spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from models.hu import AIR_HU, GAN_WINDOW


def air_value(half_width: float = GAN_WINDOW.half_width, centre: float = 0.0) -> float:
    """Air (−1000 HU) in network units of a window."""
    return (AIR_HU - centre) / half_width


def translate(x: torch.Tensor, shift: torch.Tensor, fill: float | torch.Tensor) -> torch.Tensor:
    """Shift each image by ``shift`` (B, 2) whole pixels (dx, dy); uncovered pixels = ``fill``."""
    b, _, h, w = x.shape
    theta = torch.zeros(b, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    theta[:, 0, 2] = -2 * shift[:, 0].to(x.dtype) / w
    theta[:, 1, 2] = -2 * shift[:, 1].to(x.dtype) / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    moved = F.grid_sample(x - fill, grid, mode="nearest", align_corners=False)
    return moved + fill  # (B, C, H, W)


def ct_augment(
    x: torch.Tensor,
    generator: torch.Generator,
    max_shift: int = 4,
    fill: float | torch.Tensor = -1.0,
) -> torch.Tensor:
    """Random flip, 90° rotation and ±``max_shift`` px translation per image; ``fill`` (a
    number or a (1, C, 1, 1) tensor) is air in each channel's units."""
    b = x.shape[0]
    flips = torch.rand(b, generator=generator) < 0.5
    x = torch.where(flips.view(b, 1, 1, 1).to(x.device), x.flip(-1), x)
    turns = torch.randint(0, 4, (b,), generator=generator)
    x = torch.stack(
        [torch.rot90(img, int(k), dims=(-2, -1)) for img, k in zip(x, turns, strict=True)]
    )
    if max_shift:
        shift = torch.randint(-max_shift, max_shift + 1, (b, 2), generator=generator)
        x = translate(x, shift.to(x.device), fill)
    return x


@dataclass(frozen=True)
class DiffAugmentPolicy:
    translation: float = 0.125  # max shift, fraction of the side
    cutout: float = 0.0  # side of the cut square, fraction of the side (0 = off)
    brightness_hu: float = 100.0  # ± HU shift
    contrast: float = 0.1  # HU spread scaled by 1 ± contrast
    half_width: float = GAN_WINDOW.half_width  # HU per network unit


def diff_augment(x: torch.Tensor, policy: DiffAugmentPolicy) -> torch.Tensor:
    """(B, 1, H, W) → (B, 1, H, W); differentiable in ``x``, randomness from the global RNG."""
    b, _, h, _ = x.shape
    dev = x.device
    if policy.brightness_hu:
        shift = (torch.rand(b, 1, 1, 1, device=dev) * 2 - 1) * policy.brightness_hu
        x = x + shift / policy.half_width
    if policy.contrast:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        scale = 1 + (torch.rand(b, 1, 1, 1, device=dev) * 2 - 1) * policy.contrast
        x = (x - mean) * scale + mean
    if policy.translation:
        m = int(policy.translation * h + 0.5)
        x = translate(x, torch.randint(-m, m + 1, (b, 2), device=dev), air_value(policy.half_width))
    if policy.cutout:
        x = _cutout(x, int(policy.cutout * h + 0.5), air_value(policy.half_width))
    return x


def _cutout(x: torch.Tensor, size: int, fill: float) -> torch.Tensor:
    b, _, h, w = x.shape
    cy = torch.randint(0, h, (b, 1, 1), device=x.device)
    cx = torch.randint(0, w, (b, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((rows - cy).abs() <= size // 2) & ((cols - cx).abs() <= size // 2)  # (B, H, W)
    mask = inside.unsqueeze(1).to(x.dtype)
    return x * (1 - mask) + fill * mask
