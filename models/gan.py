"""GAN networks for single-channel HU patches (no I/O here).

Generator: z ‖ class embedding → 4×4 → (upsample, 3×3 conv, class-conditional BatchNorm,
ReLU) ×n → 3×3 conv → tanh. Discriminator: spectrally normalised conv blocks (3×3, then 4×4
stride 2) → global sum pooling → linear score + projection term ⟨embed(y), h⟩ (Miyato &
Koyama 2018). ``PerClass`` wraps one unconditional pair per label: the reference paper's
"one GAN per sign", trained by the same loop.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

IMAGE_SIZES = (32, 64, 128)


@dataclass(frozen=True)
class NetworkShape:
    image_size: int = 64  # one of IMAGE_SIZES
    z_dim: int = 128
    g_channels: int = 32  # width of the last generator block; doubles toward 4×4
    d_channels: int = 32  # width of the first discriminator block; doubles toward 4×4
    n_classes: int = 1

    @property
    def n_blocks(self) -> int:
        blocks = int(math.log2(self.image_size // 4))
        if self.image_size not in IMAGE_SIZES:
            raise ValueError(f"image_size must be one of {IMAGE_SIZES}, got {self.image_size}")
        return blocks


class ConditionalBatchNorm(nn.Module):
    """BatchNorm whose gain and bias come from the class: (B, C, H, W), (B,) → (B, C, H, W)."""

    def __init__(self, channels: int, n_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Embedding(n_classes, channels)
        self.bias = nn.Embedding(n_classes, channels)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        gain = self.gain(y)[:, :, None, None]
        return self.norm(x) * gain + self.bias(y)[:, :, None, None]


class GeneratorBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, n_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = ConditionalBatchNorm(c_out, n_classes)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(x, scale_factor=2, mode="nearest")  # (B, C, 2H, 2W)
        return torch.relu(self.norm(self.conv(x), y))


class Generator(nn.Module):
    """(B, z_dim), (B,) class ids → (B, 1, S, S) in [−1, 1]."""

    def __init__(self, shape: NetworkShape) -> None:
        super().__init__()
        widths = [shape.g_channels * 2 ** (shape.n_blocks - i) for i in range(shape.n_blocks + 1)]
        self.embed = nn.Embedding(shape.n_classes, shape.z_dim)
        self.stem = nn.Linear(2 * shape.z_dim, widths[0] * 16)
        self.stem_norm = ConditionalBatchNorm(widths[0], shape.n_classes)
        self.blocks = nn.ModuleList(
            GeneratorBlock(a, b, shape.n_classes) for a, b in itertools.pairwise(widths)
        )
        self.head = nn.Conv2d(widths[-1], 1, 3, padding=1)
        self.width0 = widths[0]

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.stem(torch.cat([z, self.embed(y)], dim=1)).view(-1, self.width0, 4, 4)
        h = torch.relu(self.stem_norm(h, y))
        for block in self.blocks:
            h = block(h, y)  # (B, C, 2H, 2W)
        return torch.tanh(self.head(h))


class Discriminator(nn.Module):
    """(B, 1, S, S), (B,) class ids → (B,) hinge score, projection-conditioned."""

    def __init__(self, shape: NetworkShape) -> None:
        super().__init__()
        widths = [shape.d_channels * 2**i for i in range(shape.n_blocks)]
        layers: list[nn.Module] = []
        c_in = 1
        for c in widths:
            layers += [
                spectral_norm(nn.Conv2d(c_in, c, 3, padding=1)),
                nn.LeakyReLU(0.2),
                spectral_norm(nn.Conv2d(c, c, 4, stride=2, padding=1)),
                nn.LeakyReLU(0.2),
            ]
            c_in = c
        self.body = nn.Sequential(*layers)  # (B, C, 4, 4)
        self.linear = spectral_norm(nn.Linear(c_in, 1))
        self.embed = spectral_norm(nn.Embedding(shape.n_classes, c_in))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.body(x).sum(dim=(2, 3))  # (B, C)
        return self.linear(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)


class PerClass(nn.Module):
    """One unconditional network per class; routes each sample to its class's network."""

    def __init__(self, make: type[Generator] | type[Discriminator], shape: NetworkShape) -> None:
        super().__init__()
        single = NetworkShape(shape.image_size, shape.z_dim, shape.g_channels, shape.d_channels, 1)
        self.nets = nn.ModuleList(make(single) for _ in range(shape.n_classes))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor | None = None
        for k in torch.unique(y).tolist():
            rows = (y == k).nonzero().squeeze(1)
            part = self.nets[k](x[rows], torch.zeros_like(rows))
            if out is None:
                out = part.new_empty((len(y), *part.shape[1:]))
            out[rows] = part
        assert out is not None
        return out


def build_networks(shape: NetworkShape, per_class: bool) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for a class-conditional or a per-class GAN."""
    if per_class:
        return PerClass(Generator, shape), PerClass(Discriminator, shape)
    return Generator(shape), Discriminator(shape)
