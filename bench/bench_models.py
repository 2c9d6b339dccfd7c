"""GAN, classifier and generation throughput, each against a plain reference, side by side.

Usage:
    python bench/bench_models.py [--size 64] [--batch 32] [--steps 10] [--threads 2]

Prints images/s and ratios measured in the same run, on cuda when present, else CPU:
(a) lungsign GAN D+G step (DiffAugment, spectral norm, projection D, EMA) vs a plain DCGAN
    (Radford et al. 2015 layout: transposed-conv G 8w-4w-2w-w, strided-conv D, BCE loss) at the
    same resolution and batch: images/s = batch / step time;
(b) classifier training images/s (multi-window input + CT augmentation) vs the same CNN on
    pre-built tensors without augmentation (the cost of the data path);
(c) generation images/s (per-patch seeded latents + HU quantisation) vs a bare EMA-generator
    forward pass on one random batch.
Times are best of ``--repeat`` after one warm-up; synthetic noise patches (speed only).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from models.classifier import ClassifierConfig, PatchClassifier, train_classifier
from models.devices import pick_device
from models.gan_training import GANConfig, make_checkpoint, new_state, train_step
from models.generation import generate
from models.hu import window_channels
from models.patches import PatchSet


def dcgan(size: int, width: int, z_dim: int) -> tuple[nn.Module, nn.Module]:
    """The DCGAN paper's layout for SIZE×SIZE single-channel images."""
    n = int(np.log2(size)) - 3  # upsampling stages after 4×4
    g: list[nn.Module] = [nn.Unflatten(1, (z_dim, 1, 1))]
    c = width * 2**n
    g += [nn.ConvTranspose2d(z_dim, c, 4, 1, 0, bias=False), nn.BatchNorm2d(c), nn.ReLU(True)]
    for _ in range(n):
        g += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2)]
        g += [nn.ReLU(True)]
        c //= 2
    g += [nn.ConvTranspose2d(c, 1, 4, 2, 1, bias=False), nn.Tanh()]
    d: list[nn.Module] = [nn.Conv2d(1, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
    c = width
    for _ in range(n):
        d += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c * 2)]
        d += [nn.LeakyReLU(0.2, True)]
        c *= 2
    d += [nn.Conv2d(c, 1, 4, 1, 0, bias=False), nn.Flatten()]
    return nn.Sequential(*g), nn.Sequential(*d)


def dcgan_step_fn(size: int, batch: int, width: int, dev: torch.device) -> Callable[[], None]:
    z_dim = 100
    g, d = (m.to(dev) for m in dcgan(size, width, z_dim))
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, 1, size, size, device=dev) * 2 - 1
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(batch, 1, device=dev), torch.zeros(batch, 1, device=dev)

    def step() -> None:
        fake = g(torch.randn(batch, z_dim, device=dev))
        loss_d = bce(d(real), ones) + bce(d(fake.detach()), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(d(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    return step


def lungsign_step_fn(size: int, batch: int, dev: torch.device) -> Callable[[], None]:
    cfg = GANConfig(image_size=size, batch_size=batch, device=dev.type)
    state = new_state(cfg, 10, dev)
    real = torch.rand(batch, 1, size, size, device=dev) * 2 - 1
    y = torch.randint(0, 10, (batch,), device=dev)

    def step() -> None:
        train_step(cfg, state, real, y, dev)

    return step


def best_seconds(fn: Callable[[], object], repeat: int, dev: torch.device) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def report(what: str, ours: float, ref_name: str, ref: float) -> None:
    ratio = ours / ref
    rates = f"lungsign {ours:7.1f} img/s  {ref_name:<5} {ref:7.1f} img/s"
    print(f"{what:<13} {rates}  ratio {ratio:.2f}")


def noise_patches(n: int, size: int) -> PatchSet:
    rng = np.random.default_rng(0)
    hu = rng.normal(-700, 300, (n, size, size)).clip(-1024, 1024).astype(np.int16)
    labels = [f"L{i % 10}" for i in range(n)]
    return PatchSet(hu, labels, [f"P{i % 8}" for i in range(n)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5, help="GAN steps per timing")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dcgan-width", type=int, default=64, help="DCGAN ngf = ndf")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dev = pick_device()
    print(f"device {dev}, {args.size}×{args.size}, batch {args.batch}, threads {args.threads}")

    ours_step = lungsign_step_fn(args.size, args.batch, dev)
    ref_step = dcgan_step_fn(args.size, args.batch, args.dcgan_width, dev)
    ours = (
        args.steps
        * args.batch
        / best_seconds(lambda: [ours_step() for _ in range(args.steps)], args.repeat, dev)
    )
    ref = (
        args.steps
        * args.batch
        / best_seconds(lambda: [ref_step() for _ in range(args.steps)], args.repeat, dev)
    )
    report("GAN D+G step", ours, "DCGAN", ref)

    data = noise_patches(256, args.size)
    cfg = ClassifierConfig(epochs=1, device=dev.type)
    ours_c = len(data) / best_seconds(lambda: train_classifier(data, cfg), args.repeat, dev)
    bare = _bare_classifier_epoch(data, cfg, dev)
    ref_c = len(data) / best_seconds(bare, args.repeat, dev)
    report("classifier", ours_c, "bare", ref_c)

    # A checkpoint with fresh weights: generation speed does not depend on training.
    gcfg = GANConfig(image_size=args.size, device=dev.type)
    ckpt = make_checkpoint(
        gcfg, [f"L{i}" for i in range(10)], new_state(gcfg, 10, torch.device("cpu"))
    )
    n = 512
    gen = n / best_seconds(
        lambda: generate(ckpt, per_label=n // 10 + 1, device=dev.type), args.repeat, dev
    )
    ema = new_state(gcfg, 10, dev).ema
    z, y = torch.randn(n, gcfg.z_dim, device=dev), torch.randint(0, 10, (n,), device=dev)
    raw = n / best_seconds(lambda: torch.no_grad()(ema)(z, y), args.repeat, dev)
    report("generation", gen, "bare", raw)


def _bare_classifier_epoch(
    data: PatchSet, cfg: ClassifierConfig, dev: torch.device
) -> Callable[[], None]:
    x = torch.from_numpy(window_channels(data.patches, cfg.windows)).to(dev)
    y = torch.from_numpy(data.targets()).to(dev)
    model = PatchClassifier(len(cfg.windows), len(data.label_codes), cfg.widths, cfg.dropout).to(
        dev
    )
    opt = torch.optim.AdamW(model.parameters(), cfg.lr)

    def epoch() -> None:
        for i in range(0, len(x), cfg.batch_size):
            loss = nn.functional.cross_entropy(
                model(x[i : i + cfg.batch_size]), y[i : i + cfg.batch_size]
            )
            opt.zero_grad()
            loss.backward()
            opt.step()

    return epoch


if __name__ == "__main__":
    main()
