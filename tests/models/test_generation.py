import numpy as np
import pytest

from models.gan_training import GANConfig, train
from models.generation import generate, regenerate
from tests.models.synthetic import blob_patches
from tests.models.test_gan import TINY


@pytest.fixture(scope="module")
def checkpoint() -> dict:
    return train(GANConfig(steps=2, **TINY), blob_patches(3)).checkpoint


def test_generates_int16_hu_per_label_with_unique_seeds(checkpoint: dict) -> None:
    out = generate(checkpoint, per_label=5, seed=1, batch_size=4)
    assert out.patches.shape == (15, 32, 32) and out.patches.dtype == np.int16
    assert out.labels == ["AAA"] * 5 + ["BBB"] * 5 + ["NOR"] * 5
    assert len(set(out.seeds)) == 15
    assert out.patches.min() >= -1024 and out.patches.max() <= 1024


def test_each_patch_regenerates_from_its_label_and_seed(checkpoint: dict) -> None:
    out = generate(checkpoint, per_label=3, seed=2, labels=["BBB"])
    again = regenerate(checkpoint, "BBB", out.seeds[1])
    # Batch size may change float summation order; after rounding at most 1 HU differs.
    assert np.abs(again.astype(int) - out.patches[1]).max() <= 1


def test_same_seed_same_patches_and_unknown_label_rejected(checkpoint: dict) -> None:
    a, b = generate(checkpoint, 2, seed=3), generate(checkpoint, 2, seed=3)
    np.testing.assert_array_equal(a.patches, b.patches)
    with pytest.raises(ValueError):
        generate(checkpoint, 1, labels=["ZZZ"])
