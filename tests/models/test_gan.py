from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from models.gan import NetworkShape, build_networks
from models.gan_training import GANConfig, GANProgress, load_checkpoint, train
from tests.models.synthetic import blob_patches

TINY: dict[str, Any] = dict(
    image_size=32, z_dim=16, g_channels=8, d_channels=8, batch_size=8, log_every=1
)


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


def assert_identical(a: Any, b: Any, where: str = "checkpoint") -> None:
    """Bit-for-bit equality of nested checkpoint state (tensors with torch.equal)."""
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            assert_identical(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b), f"{where} differs"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_checkpoint_describes_itself(tmp_path: Path) -> None:
    path = tmp_path / "gan.pt"
    train(GANConfig(steps=2, **TINY), blob_patches(4), checkpoint_path=path)
    saved = load_checkpoint(path)
    assert saved["step"] == 2 and saved["label_codes"] == ["AAA", "BBB", "NOR"]
    assert GANConfig.from_dict(saved["config"]).image_size == 32


def test_a_run_stopped_part_way_resumes_bit_identically(tmp_path: Path) -> None:
    """Stop after 2 of 4 steps, resume from the checkpoint: G, D, EMA, both optimisers, the
    RNG states and the step equal an uninterrupted run's exactly (atol = rtol = 0)."""
    data, cfg, path = blob_patches(4), GANConfig(steps=4, **TINY), tmp_path / "gan.pt"
    straight = train(cfg, data).checkpoint
    seen: list[GANProgress] = []
    stopped = train(
        cfg, data, on_progress=seen.append, should_stop=lambda: len(seen) >= 2, checkpoint_path=path
    )
    assert stopped.stopped and stopped.step == 2 and load_checkpoint(path)["step"] == 2
    later: list[GANProgress] = []
    resumed = train(cfg, data, on_progress=later.append, checkpoint_path=path)
    assert not resumed.stopped and [p.step for p in later] == [3, 4], "it did not resume"
    for result in (resumed.checkpoint, load_checkpoint(path)):
        assert_identical(
            {k: v for k, v in straight.items() if k != "seconds"},
            {k: v for k, v in result.items() if k != "seconds"},
        )


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


def of_net(state: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    """The weights of per-class network K, by name within that network."""
    prefix = f"nets.{k}."
    return {n.removeprefix(prefix): v for n, v in state.items() if n.startswith(prefix)}


def test_per_class_mode_trains_one_network_per_label() -> None:
    """Per-class: each label has its own G and D, different from the others, and each trains."""
    data = blob_patches(3)
    initial = train(GANConfig(steps=0, per_class=True, **TINY), data).checkpoint
    trained = train(GANConfig(steps=4, per_class=True, **TINY), data).checkpoint
    assert trained["config"]["per_class"] is True
    for part in ("generator", "discriminator"):
        nets = {k: of_net(trained[part], k) for k in range(3)}
        assert all(nets[k] for k in range(3)) and len(trained[part]) == 3 * len(nets[0])
        for k in range(3):
            before = initial[part]
            assert any(not torch.equal(v, before[f"nets.{k}.{n}"]) for n, v in nets[k].items()), (
                f"{part} of label {k} did not train"
            )
        for a, b in ((0, 1), (0, 2), (1, 2)):
            assert any(not torch.equal(v, nets[b][n]) for n, v in nets[a].items()), (
                f"{part}s of labels {a} and {b} are the same network"
            )
