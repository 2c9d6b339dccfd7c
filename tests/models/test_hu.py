import numpy as np

from models.hu import (
    CLASSIFIER_WINDOWS,
    GAN_WINDOW,
    HUWindow,
    hu_to_network,
    network_to_hu,
    window_channels,
)


def test_every_integer_hu_in_the_window_round_trips_exactly() -> None:
    hu = np.arange(-1024, 1025, dtype=np.int16)
    x = hu_to_network(hu)
    assert x.dtype == np.float32 and x.min() == -1 and x.max() == 1
    np.testing.assert_array_equal(network_to_hu(x), hu)


def test_generated_values_quantise_to_integer_hu_and_clip() -> None:
    out = network_to_hu(np.array([0.00049, 0.00051, 1.5, -3.0]))
    assert out.dtype == np.int16
    assert out.tolist() == [1, 1, 1024, -1024]


def test_hu_outside_the_window_is_clipped() -> None:
    hu = np.array([-2000, 3000], dtype=np.int16)
    assert network_to_hu(hu_to_network(hu)).tolist() == [-1024, 1024]


def test_window_from_level_and_width() -> None:
    assert HUWindow.from_level(-600, 1500) == HUWindow(-1350, 150)
    assert CLASSIFIER_WINDOWS["mediastinal"] == HUWindow(-135, 215)
    assert GAN_WINDOW.half_width == 1024


def test_window_channels_shape_and_range() -> None:
    hu = np.random.default_rng(0).integers(-1500, 2000, (4, 16, 16)).astype(np.int16)
    x = window_channels(hu, ("lung", "mediastinal", "bone"))
    assert x.shape == (4, 3, 16, 16) and x.min() >= -1 and x.max() <= 1


def test_a_window_off_centre_round_trips_and_maps_its_ends() -> None:
    window = HUWindow(-1000, 200)  # centre −400, not 0 as in the GAN's default window
    hu = np.array([-1000, -400, 200, 500], dtype=np.int16)
    x = hu_to_network(hu, window)
    assert x.tolist() == [-1.0, 0.0, 1.0, 1.0]
    assert network_to_hu(x, window).tolist() == [-1000, -400, 200, 200]


def test_each_channel_uses_its_own_window() -> None:
    centres = np.array([[[-600, 40, 300]]], dtype=np.int16)  # lung, mediastinal, bone levels
    x = window_channels(centres, ("lung", "mediastinal", "bone"))
    assert [x[0, c, 0, c] for c in range(3)] == [0.0, 0.0, 0.0]
    assert x[0, 1, 0, 0] == -1.0 and x[0, 0, 0, 2] > 0.5  # −600 HU is black in mediastinal
