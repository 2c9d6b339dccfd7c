"""The machine reader: a real-vs-generated discriminator, scored on patches it never saw."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from models.classifier import ClassifierConfig
from models.machine_reader import real_probability, train_discriminator
from tests.models.synthetic import blob_patches

TINY = ClassifierConfig(widths=(8, 16, 32), epochs=25, batch_size=8, max_shift=2)


def _sets(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """'Real' patches carry a blob high up, 'generated' ones lower down (a visible flaw)."""
    data = blob_patches(12, codes=("AAA", "BBB"), seed=seed)
    labels = np.array(data.labels)
    return data.patches[labels == "AAA"], data.patches[labels == "BBB"]


def test_discriminator_tells_held_out_generated_from_real() -> None:
    real, generated = _sets(0)
    trained = train_discriminator(real, generated, TINY)
    held_real, held_generated = _sets(1)  # other patches: never trained on
    p = real_probability(trained, np.concatenate([held_real, held_generated]))
    assert p.shape == (24,) and np.all((p >= 0) & (p <= 1))
    truth = [1] * 12 + [0] * 12
    assert roc_auc_score(truth, p) >= 0.9
    assert np.mean((p > 0.5) == np.array(truth, dtype=bool)) >= 0.8
    assert real_probability(trained, held_real[:0]).shape == (0,)


def test_both_kinds_of_training_patch_are_needed() -> None:
    real, _ = _sets(0)
    with pytest.raises(ValueError, match="real and generated"):
        train_discriminator(real, real[:0], TINY)
