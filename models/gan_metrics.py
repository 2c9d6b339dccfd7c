"""GAN quality without downloadable weights.

- **FD-lungsign / KID-lungsign**: Fréchet distance and kernel inception distance computed in the
  penultimate feature space of *our* classifier trained on the real patches (not Inception).
  Comparable between runs on the same real dataset and feature model only.
- **Precision / recall** (Kynkäänniemi et al. 2019): the share of generated features inside
  the real k-NN manifold, and of real features inside the generated one.
- **C2ST** (classifier two-sample test): a fresh CNN learns real vs generated on half of a
  label-matched sample and is scored on the other half; 0.5 = indistinguishable. One-sided
  exact binomial p-value against 0.5. The machine's visual Turing test.
- **Memorisation**: each generated patch's nearest training patch (pixel space, RMS in network
  units) against real patches' nearest real patch from another patient; a generated patch
  closer than the 1st percentile of those real distances is flagged as a near-copy.
- **Diversity** per class: mean pairwise feature distance, generated / real (≈1 good, ≪1 mode
  collapse).
- **Label fidelity**: the share of generated patches that the real-trained classifier assigns
  to the label they were generated for, overall and per label: does a "CAV" look like a CAV?
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from scipy import linalg
from scipy.stats import binomtest

from models.classifier import ClassifierConfig, TrainedClassifier, train_classifier
from models.generation import generate
from models.hu import hu_to_network
from models.patches import PatchSet


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to (N, F) and (M, F) features."""
    mu1, mu2 = real.mean(0), fake.mean(0)
    eps = 1e-6 * np.eye(real.shape[1])  # keeps sqrtm defined when few samples span the space
    c1, c2 = np.cov(real, rowvar=False) + eps, np.cov(fake, rowvar=False) + eps
    covmean = np.real(linalg.sqrtm(c1 @ c2))
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * covmean))


def kernel_distance(
    real: np.ndarray, fake: np.ndarray, subset: int = 100, n_subsets: int = 50, seed: int = 0
) -> dict[str, float]:
    """Unbiased MMD² with the cubic polynomial kernel, averaged over random subsets."""
    rng = np.random.default_rng(seed)
    m = min(subset, len(real), len(fake))
    d = real.shape[1]
    values = []
    for _ in range(n_subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        kxx, kyy, kxy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        off = m * (m - 1)
        values.append(
            (kxx.sum() - np.trace(kxx)) / off + (kyy.sum() - np.trace(kyy)) / off - 2 * kxy.mean()
        )
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> dict[str, float]:
    """k-NN manifold precision and recall of (M, F) generated vs (N, F) real features."""

    def radii(x: torch.Tensor) -> torch.Tensor:
        return torch.cdist(x, x).kthvalue(k + 1, dim=1).values  # k-th neighbour, self excluded

    def coverage(ref: torch.Tensor, query: torch.Tensor) -> float:
        inside = torch.cdist(query, ref) <= radii(ref)[None, :]
        return float(inside.any(dim=1).float().mean())

    r, f = torch.from_numpy(real).double(), torch.from_numpy(fake).double()
    return {"precision": coverage(r, f), "recall": coverage(f, r), "k": k}


def memorisation(train: PatchSet, fake: np.ndarray, quantile: float = 0.01) -> dict[str, Any]:
    """Nearest-training-patch distances of generated patches vs real-to-real (other patient)."""
    x = torch.from_numpy(hu_to_network(train.patches).reshape(len(train), -1)).double()
    g = torch.from_numpy(hu_to_network(fake).reshape(len(fake), -1)).double()
    scale = x.shape[1] ** 0.5  # RMS per pixel
    fake_nn = torch.cdist(g, x).min(dim=1).values / scale
    real_d = torch.cdist(x, x)
    keys = np.asarray(train.patients)
    same = torch.from_numpy(keys[:, None] == keys[None, :])
    real_nn = real_d.masked_fill(same, float("inf")).min(dim=1).values / scale
    real_nn = real_nn[torch.isfinite(real_nn)]
    threshold = float(torch.quantile(real_nn, quantile)) if len(real_nn) else 0.0
    flagged = torch.nonzero(fake_nn < threshold).squeeze(1).tolist()
    return {
        "threshold_rms": threshold,
        "real_to_real_median_rms": float(real_nn.median()) if len(real_nn) else None,
        "generated_to_train_median_rms": float(fake_nn.median()),
        "near_copies": len(flagged),
        "near_copy_fraction": len(flagged) / max(1, len(fake)),
        "near_copy_indices": flagged,
    }


def diversity(
    features: np.ndarray, labels: list[str], real: np.ndarray, real_labels: list[str]
) -> dict[str, Any]:
    """Per class: mean pairwise feature distance of generated, of real, and their ratio."""

    def spread(f: np.ndarray) -> float | None:
        return float(torch.pdist(torch.from_numpy(f).double()).mean()) if len(f) > 1 else None

    out: dict[str, Any] = {}
    for code in sorted(set(labels)):
        g = spread(features[np.array(labels) == code])
        r = spread(real[np.array(real_labels) == code])
        ratio = g / r if g is not None and r else None  # None: too few patches to tell
        out[code] = {"generated": g, "real": r, "ratio": ratio}
    return out


def label_fidelity(proba: np.ndarray, fake: PatchSet) -> dict[str, Any]:
    """Share of generated patches whose most probable class (``proba`` (N, K), columns in
    ``fake.label_codes`` order) is the label they were generated for; overall and per label."""
    hit = proba.argmax(1) == fake.targets()
    labels = np.asarray(fake.labels)
    per_label = {code: float(hit[labels == code].mean()) for code in sorted(set(fake.labels))}
    return {"overall": float(hit.mean()), "per_label": per_label}


def two_sample_test(
    real: PatchSet, fake: PatchSet, cfg: ClassifierConfig, seed: int = 0
) -> dict[str, Any]:
    """Held-out real-vs-generated accuracy of a CNN and its one-sided binomial p-value."""
    rng = np.random.default_rng(seed)
    pairs = _label_matched_pairs(real, fake, rng)
    if len(pairs) < 4:
        return {"accuracy": None, "n_test": 0, "p_value": None}
    half = len(pairs) // 2
    train_pairs, test_pairs = pairs[:half], pairs[half:]

    def sample(ps: list[tuple[int, int]]) -> PatchSet:
        patches = np.concatenate(
            [real.patches[[a for a, _ in ps]], fake.patches[[b for _, b in ps]]]
        )
        n = len(ps)
        return PatchSet(
            patches, ["real"] * n + ["generated"] * n, ["r"] * n + ["g"] * n, ("generated", "real")
        )

    test = sample(test_pairs)
    trained = train_classifier(sample(train_pairs), replace(cfg, seed=seed))
    correct = int(np.sum(trained.predict_proba(test.patches).argmax(1) == test.targets()))
    n = len(test)
    return {
        "accuracy": correct / n,
        "n_test": n,
        "p_value": float(binomtest(correct, n, 0.5, alternative="greater").pvalue),
    }


def _label_matched_pairs(
    real: PatchSet, fake: PatchSet, rng: np.random.Generator
) -> list[tuple[int, int]]:
    """(real index, generated index) pairs with equal labels, shuffled."""
    pairs = []
    for code in sorted(set(real.labels) & set(fake.labels)):
        r = rng.permutation([i for i, x in enumerate(real.labels) if x == code])
        f = rng.permutation([i for i, x in enumerate(fake.labels) if x == code])
        pairs += list(zip(r.tolist(), f.tolist(), strict=False))
    return [pairs[i] for i in rng.permutation(len(pairs))]


def evaluate_gan(
    real: PatchSet,
    fake: PatchSet,
    reader: TrainedClassifier,
    c2st_cfg: ClassifierConfig,
    seed: int = 0,
) -> dict[str, Any]:
    """All the measures above; ``reader`` is a classifier trained on the real patches (its
    features are the FD/KID/precision/recall space, its predictions give label fidelity)."""
    fr, ff = reader.embed(real.patches), reader.embed(fake.patches)
    c2st = two_sample_test(real, fake, c2st_cfg, seed)
    return {
        "fd_lungsign": frechet_distance(fr, ff),
        "kid_lungsign": kernel_distance(fr, ff, seed=seed),
        **precision_recall(fr, ff),
        "c2st_accuracy": c2st["accuracy"],
        "c2st": c2st,
        "memorisation": memorisation(real, fake.patches),
        "diversity": diversity(ff, fake.labels, fr, real.labels),
        "label_fidelity": label_fidelity(reader.predict_proba(fake.patches), fake),
    }


def evaluate_checkpoint(
    checkpoint: dict[str, Any],
    real: PatchSet,
    feature_cfg: ClassifierConfig,
    c2st_cfg: ClassifierConfig,
    samples_per_label: int = 64,
) -> tuple[dict[str, Any], PatchSet]:
    """The quality report of a GAN checkpoint against REAL, and the generated patches measured.

    Generates ``samples_per_label`` patches per label (seed: the GAN's seed + 1), trains the
    feature/label classifier on REAL (seed: the GAN's), then ``evaluate_gan``. JSON-ready:
    the near-copy indices are left out, FD and KID get short names.
    """
    seed = int(checkpoint["config"]["seed"])
    out = generate(checkpoint, samples_per_label, seed=seed + 1)
    fake = PatchSet(out.patches, out.labels, ["generated"] * len(out.labels), real.label_codes)
    reader = train_classifier(real, replace(feature_cfg, seed=seed))
    m = evaluate_gan(real, fake, reader, c2st_cfg, seed=seed)
    m["memorisation"].pop("near_copy_indices")
    return {"fd": m.pop("fd_lungsign"), "kid": m.pop("kid_lungsign")["mean"], **m}, fake
