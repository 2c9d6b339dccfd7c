import numpy as np
import pytest

from models.gan_metrics import (
    diversity,
    frechet_distance,
    kernel_distance,
    label_fidelity,
    memorisation,
    precision_recall,
    two_sample_test,
)
from models.patches import PatchSet
from tests.models.synthetic import blob_patches
from tests.models.test_classifier import TINY


def test_distances_are_small_for_the_same_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    shifted = b + 3
    assert frechet_distance(a, b) < 1 < frechet_distance(a, shifted)
    assert kernel_distance(a, b)["mean"] < kernel_distance(a, shifted)["mean"]
    same, far = precision_recall(a, b), precision_recall(a, shifted)
    assert same["precision"] > 0.8 and far["precision"] < 0.2


def test_memorisation_flags_copies() -> None:
    real = blob_patches(6)
    copies = real.patches[:3].copy()
    novel = blob_patches(2, seed=5).patches
    report = memorisation(real, np.concatenate([copies, novel]))
    assert report["near_copy_indices"][:3] == [0, 1, 2]
    assert report["near_copies"] == 3


def test_diversity_ratio() -> None:
    feats = np.random.default_rng(0).normal(size=(10, 4))
    out = diversity(feats * 0.1, ["A"] * 10, feats, ["A"] * 10)
    assert out["A"]["ratio"] == pytest.approx(0.1)


def test_two_sample_test_spots_an_obvious_difference() -> None:
    real = blob_patches(8)
    fake = PatchSet(np.full_like(real.patches, 500), real.labels, real.patients, real.label_codes)
    out = two_sample_test(real, fake, TINY)
    assert out["accuracy"] >= 0.9 and out["p_value"] < 0.01 and out["n_test"] == 24


def test_label_fidelity_counts_patches_read_as_their_own_label() -> None:
    codes = ("A", "B")
    fake = PatchSet(np.zeros((4, 8, 8), np.int16), ["A", "A", "B", "B"], ["g"] * 4, codes)
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6]])  # one "A" read as "B"
    out = label_fidelity(proba, fake)
    assert out == {"overall": 0.75, "per_label": {"A": 0.5, "B": 1.0}}


def gaussian_sample(mean: np.ndarray, cov: np.ndarray, n: int = 400, seed: int = 0) -> np.ndarray:
    """N points whose sample mean and (ddof=1) covariance are exactly MEAN and COV."""
    z = np.random.default_rng(seed).normal(size=(n, len(mean)))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # cov(z) = I
    return z @ np.linalg.cholesky(cov).T + mean


def test_frechet_distance_matches_the_closed_form_for_gaussians() -> None:
    # ‖μ1−μ2‖² + tr(C1 + C2 − 2(C1C2)^½), and for 2×2: tr (C1C2)^½ = √(tr C1C2 + 2√det C1C2).
    m1, m2 = np.array([0.0, 0.0]), np.array([1.0, 2.0])
    c1, c2 = np.diag([1.0, 9.0]), np.array([[4.0, 1.5], [1.5, 1.0]])
    product = c1 @ c2
    tr_sqrt = np.sqrt(np.trace(product) + 2 * np.sqrt(np.linalg.det(product)))
    expected = 5.0 + np.trace(c1 + c2) - 2 * tr_sqrt
    a, b = gaussian_sample(m1, c1), gaussian_sample(m2, c2, seed=1)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-4)
    # Same means, covariances diag(1, 9) and diag(9, 1): only the covariance term is left.
    swapped = gaussian_sample(m1, np.diag([9.0, 1.0]), seed=2)
    assert frechet_distance(a, swapped) == pytest.approx(20 - 2 * (3 + 3), rel=1e-4)
    assert frechet_distance(a, gaussian_sample(m1, c1, seed=3)) == pytest.approx(0, abs=1e-4)


def cluster(centre: float, n: int = 10, seed: int = 0) -> np.ndarray:
    return centre + np.random.default_rng(seed).normal(size=(n, 4))


def test_precision_and_recall_on_constructed_manifolds() -> None:
    near, far = cluster(0.0), cluster(100.0, seed=1)
    # Generated: copies of the real points plus as many far off → precision ½, recall 1.
    half_off = precision_recall(near, np.concatenate([near, far]))
    assert (half_off["precision"], half_off["recall"]) == (0.5, 1.0)
    # Generated covers one of two real clusters (mode dropping) → precision 1, recall ½.
    dropped = precision_recall(np.concatenate([near, far]), near.copy())
    assert (dropped["precision"], dropped["recall"]) == (1.0, 0.5)
    # Nothing in common → both 0.
    apart = precision_recall(near, far)
    assert (apart["precision"], apart["recall"]) == (0.0, 0.0)
