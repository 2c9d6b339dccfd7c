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
