"""GAN training images/s and generation patches/s on the CPU and on CUDA, side by side.

Usage:
    python bench/gpu_check.py [--steps 50] [--size 64] [--per-label 500]

Trains the default GAN config for ``--steps`` steps on synthetic 10-label patches (after a
few warm-up steps) and generates ``--per-label`` patches per label from the result, on each
device present, and prints the rates and the CUDA/CPU ratio. On a machine without CUDA it
says so and prints the CPU figures only. Run it on a lent GPU machine (docs/models.md).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch

from models.gan_training import GANConfig, train
from models.generation import generate
from models.patches import PatchSet

CODES = ("GGO", "LOB", "CAL", "CAV", "SPI", "PLI", "AIB", "BRE", "OBP", "NOR")
WARM_UP = 5


def patches(size: int, per_label: int = 30) -> PatchSet:
    rng = np.random.default_rng(0)
    data = rng.normal(-700, 200, (len(CODES) * per_label, size, size)).astype(np.int16)
    labels = [code for code in CODES for _ in range(per_label)]
    return PatchSet(data, labels, [f"P{i % 8}" for i in range(len(labels))], CODES)


def rates(device: str, steps: int, size: int, per_label: int) -> tuple[float, float]:
    """(training images/s, generated patches/s) on DEVICE."""
    data = patches(size)
    cfg = replace(GANConfig(), image_size=size, device=device, steps=WARM_UP, log_every=10**9)
    warm = train(cfg, data)
    _sync(device)
    start = time.perf_counter()
    train(replace(cfg, steps=steps), data)
    _sync(device)
    train_rate = steps * cfg.batch_size / (time.perf_counter() - start)
    start = time.perf_counter()
    out = generate(warm.checkpoint, per_label, device=device)
    _sync(device)
    return train_rate, len(out.labels) / (time.perf_counter() - start)


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--per-label", type=int, default=500)
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    found = {d: rates(d, args.steps, args.size, args.per_label) for d in devices}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    if "cuda" in found:
        print(f"cuda: {torch.cuda.get_device_name()}")
    else:
        print("cuda: not available here (CPU figures only)")
    print(f"{'device':<8}{'GAN images/s':>14}{'generated/s':>14}")
    for device, (train_rate, gen_rate) in found.items():
        print(f"{device:<8}{train_rate:>14.0f}{gen_rate:>14.0f}")
    if "cuda" in found:
        (ct, cg), (gt, gg) = found["cpu"], found["cuda"]
        print(f"{'ratio':<8}{gt / ct:>13.1f}x{gg / cg:>13.1f}x  (CUDA / CPU, same run)")


if __name__ == "__main__":
    main()
