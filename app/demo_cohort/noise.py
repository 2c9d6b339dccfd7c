"""CT-like noise: white noise shaped to a CT noise power spectrum, and smooth texture fields."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage

# Peak of the noise power spectrum of a standard soft-tissue/lung kernel, cycles per mm.
NPS_PEAK_PER_MM = 0.28


@lru_cache(maxsize=8)
def _nps_filter(size: int, spacing_mm: float) -> np.ndarray:
    """Amplitude filter sqrt(NPS) on the rfft2 grid, normalised to unit output variance.

    NPS(f) ∝ f·exp(-f²/fc²): zero at DC (filtered back-projection's ramp), a mid-frequency
    peak at fc/√2 and a roll-off from the reconstruction kernel's apodisation.
    """
    fy = np.fft.fftfreq(size, d=spacing_mm)[:, None]
    fx = np.fft.rfftfreq(size, d=spacing_mm)[None, :]
    f = np.hypot(fx, fy)
    fc = NPS_PEAK_PER_MM * np.sqrt(2.0)
    nps = (f + 0.02) * np.exp(-((f / fc) ** 2))
    amp = np.sqrt(nps)
    # Unit variance: Parseval over the full spectrum (rfft half counted twice except edges).
    weights = np.full(amp.shape, 2.0)
    weights[:, 0] = 1.0
    if size % 2 == 0:
        weights[:, -1] = 1.0
    power = float((weights * amp**2).sum()) / (size * size)
    return (amp / np.sqrt(power)).astype(np.float64)


def ct_noise(rng: np.random.Generator, size: int, spacing_mm: float, sigma: float) -> np.ndarray:
    """Correlated Gaussian noise of standard deviation SIGMA (HU) on a SIZE×SIZE grid."""
    white = rng.standard_normal((size, size))
    shaped = np.fft.irfft2(np.fft.rfft2(white) * _nps_filter(size, spacing_mm), s=(size, size))
    return (shaped * sigma).astype(np.float32)


def smooth_field(
    rng: np.random.Generator, shape: tuple[int, int], scale_px: float, amplitude: float
) -> np.ndarray:
    """Low-frequency texture: white noise blurred at SCALE_PX, rescaled to std AMPLITUDE."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), scale_px)
    std = float(field.std()) or 1.0
    return field * (amplitude / std)
