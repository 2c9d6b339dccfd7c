from pathlib import Path

import numpy as np
import pytest
import torch

from models.gan import NetworkShape, build_networks
from models.gan_training import GANConfig, GANProgress, load_checkpoint, train
from tests.models.synthetic import blob_patches

TINY = dict(image_size=32, z_dim=16, g_channels=8, d_channels=8, batch_size=8, log_every=1)


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("per_class", [False, True])
def test_network_shapes(size: int, per_class: bool) -> None:
    g, d = build_networks(NetworkShape(size, 16, 4, 4, n_classes=3), per_class)
    y = torch.tensor([0, 2, 2])
    images = g(torch.randn(3, 16), y)
    assert images.shape == (3, 1, size, size)
    assert images.abs().max() <= 1
    assert d(images, y).shape == (3,)


def test_seeded_cpu_runs_repeat_exactly() -> None:
    data = blob_patches(4)
    a = train(GANConfig(steps=3, **TINY), data).checkpoint
    b = train(GANConfig(steps=3, **TINY), data).checkpoint
    for key in a["ema"]:
        torch.testing.assert_close(a["ema"][key], b["ema"][key], rtol=0, atol=0)


def test_checkpoint_describes_itself_and_resume_matches_one_run(tmp_path: Path) -> None:
    data = blob_patches(4)
    straight = train(GANConfig(steps=4, **TINY), data).checkpoint
    path = tmp_path / "gan.pt"
    train(GANConfig(steps=2, **TINY), data, checkpoint_path=path)
    resumed = train(GANConfig(steps=4, **TINY), data, checkpoint_path=path)
    saved = load_checkpoint(path)
    assert saved["step"] == resumed.step == 4
    assert saved["label_codes"] == ["AAA", "BBB", "NOR"]
    assert GANConfig.from_dict(saved["config"]).image_size == 32
    for key in straight["ema"]:
        torch.testing.assert_close(straight["ema"][key], saved["ema"][key])


def test_progress_reports_losses_and_grid_and_stop_is_honoured() -> None:
    seen: list[GANProgress] = []
    result = train(
        GANConfig(steps=10, sample_every=2, **TINY),
        blob_patches(3),
        on_progress=seen.append,
        should_stop=lambda: len(seen) >= 3,
    )
    assert result.stopped and result.step == 3
    assert set(seen[0].losses) == {"d", "g", "d_real", "d_fake"}
    grid = seen[1].grid
    assert grid is not None and grid.shape == (3, 8, 32, 32) and grid.dtype == np.int16


def test_per_class_mode_trains() -> None:
    result = train(GANConfig(steps=2, per_class=True, **TINY), blob_patches(3))
    assert result.checkpoint["config"]["per_class"] is True
