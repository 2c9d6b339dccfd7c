from dataclasses import replace

import numpy as np
import torch

from models.classifier import ClassifierConfig, PatchClassifier, TrainedClassifier, train_classifier
from tests.models.synthetic import blob_patches

TINY = ClassifierConfig(widths=(8, 16, 32), epochs=8, pretrain_epochs=2, batch_size=8, max_shift=2)


def test_shapes_for_all_sizes() -> None:
    model = PatchClassifier(3, 5, (8, 16), 0.0)
    for size in (32, 64, 128):
        assert model(torch.zeros(2, 3, size, size)).shape == (2, 5)
        assert model.features(torch.zeros(2, 3, size, size)).shape == (2, 16)


def test_loss_goes_down_and_it_learns_a_tiny_set() -> None:
    data = blob_patches(6)
    trained = train_classifier(data, replace(TINY, epochs=25))
    losses = [h["loss"] for h in trained.history]
    assert losses[-1] < losses[0] * 0.7
    accuracy = np.mean(trained.predict_proba(data.patches).argmax(1) == data.targets())
    assert accuracy >= 0.8


def test_seeded_and_checkpoint_round_trip() -> None:
    data = blob_patches(3)
    a, b = train_classifier(data, TINY), train_classifier(data, TINY)
    np.testing.assert_array_equal(a.predict_proba(data.patches), b.predict_proba(data.patches))
    restored = TrainedClassifier.from_checkpoint(a.checkpoint())
    np.testing.assert_allclose(
        restored.predict_proba(data.patches), a.predict_proba(data.patches), atol=1e-6
    )
    assert restored.label_codes == ["AAA", "BBB", "NOR"]


def test_gan_pretrain_has_two_stages() -> None:
    data = blob_patches(3)
    trained = train_classifier(data, TINY, pretrain=blob_patches(3, seed=1))
    assert [h["stage"] for h in trained.history] == ["pretrain"] * 2 + ["train"] * 8
