import torch

from models.augment import DiffAugmentPolicy, air_value, ct_augment, diff_augment, translate


def test_translate_shifts_whole_pixels_and_fills() -> None:
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 2, 3] = 1
    out = translate(x, torch.tensor([[1, 2]]), fill=-1.0)
    assert out[0, 0, 4, 4] == 1
    assert out[0, 0, 0, 0] == -1  # uncovered row is filled


def test_ct_augment_preserves_values_and_shape() -> None:
    x = torch.randn(6, 3, 16, 16)
    out = ct_augment(x, torch.Generator().manual_seed(0), max_shift=0)
    assert out.shape == x.shape
    torch.testing.assert_close(out.sum(dim=(2, 3)), x.sum(dim=(2, 3)))  # flips/rotations only


def test_diff_augment_is_differentiable() -> None:
    x = torch.randn(4, 1, 32, 32, requires_grad=True)
    diff_augment(x, DiffAugmentPolicy()).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_cutout_fills_one_square_per_image_with_air_and_blocks_its_gradient() -> None:
    x = torch.zeros(8, 1, 32, 32, requires_grad=True)
    policy = DiffAugmentPolicy(translation=0, cutout=0.25, brightness_hu=0, contrast=0)
    out = diff_augment(x, policy)
    out.sum().backward()
    cut = out == air_value()  # (8, 1, 32, 32)
    counts = cut.sum(dim=(1, 2, 3))
    assert (counts > 0).all() and (counts <= 9 * 9).all()  # a 9×9 square, clipped at borders
    assert x.grad is not None and (x.grad[cut] == 0).all() and (x.grad[~cut] == 1).all()
