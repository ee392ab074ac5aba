"""The synthetic scene and the raw near-infrared ramps of the demo exposures.

:func:`star_field` places stars, :func:`scene` turns them into a count-rate
image with sky, :func:`make_ramp` reads it out through a
:class:`~builtin_steps.refdata.detector.DetectorTruth` (bias, dark, gain,
non-linearity, read noise, cosmic rays, saturation) and :func:`uncorrect`
inverts the linearity correction.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.refdata.detector import DetectorTruth
from builtin_steps.refdata.psf import PSF_SIGMA

__all__ = ["SKY", "CR_PER_INTEGRATION", "star_field", "scene", "uncorrect", "make_ramp"]

#: Sky count rate of the near-infrared scenes, e-/s per pixel.
SKY = 1.5
#: Cosmic-ray hits per integration.
CR_PER_INTEGRATION = 25
_PSF_SIGMA = PSF_SIGMA  # pixels
_NINTS = 2
_NGROUPS = 10

def star_field(rng: np.random.Generator, size: int) -> list[tuple[float, float, float]]:
    """(x, y, flux in e-/s) of the field's stars; the first one saturates."""
    stars = [(size * 0.55, size * 0.4, 3.0e6)]
    for _ in range(30):
        x, y = rng.uniform(8, size - 8, 2)
        stars.append((float(x), float(y), float(10 ** rng.uniform(2.3, 4.5))))
    return stars


def scene(stars, shape, dx: float, dy: float) -> np.ndarray:
    """Count rate in e-/s per pixel: sky plus Gaussian stars, shifted by (dx, dy).

    Each star is drawn within 8 sigma of its centre (beyond, its light is below
    1e-13 of its flux).
    """
    rate = np.full(shape, SKY)
    norm = 1.0 / (2 * np.pi * _PSF_SIGMA**2)
    reach = int(np.ceil(8 * _PSF_SIGMA))
    for sx, sy, flux in stars:
        cx, cy = sx + dx, sy + dy
        y0, y1 = max(int(cy) - reach, 0), min(int(cy) + reach + 2, shape[0])
        x0, x1 = max(int(cx) - reach, 0), min(int(cx) + reach + 2, shape[1])
        if y0 >= y1 or x0 >= x1:
            continue
        y, x = np.mgrid[y0:y1, x0:x1]
        r2 = (x - cx) ** 2 + (y - cy) ** 2
        rate[y0:y1, x0:x1] += flux * norm * np.exp(-r2 / (2 * _PSF_SIGMA**2))
    return rate


def uncorrect(linear: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """Invert the linearity correction: the raw signal whose correction is ``linear``.

    Newton's method on the correction polynomial, evaluated by Horner's rule.
    """
    s = linear.copy()
    top = coeffs.shape[0] - 1
    for _ in range(4):
        value = np.full_like(s, 0.0) + coeffs[top]
        slope = np.zeros_like(s)
        for i in range(top - 1, -1, -1):
            slope *= s
            slope += value
            value *= s
            value += coeffs[i]
        s -= (value - linear) / slope
    return s


def make_ramp(
    truth: DetectorTruth,
    rate: np.ndarray,
    rng: np.random.Generator,
    *,
    frame_time: float,
    nints: int = _NINTS,
    ngroups: int = _NGROUPS,
    gain_scale: float = 1.0,
    readnoise_scale: float = 1.0,
) -> np.ndarray:
    """Simulate raw RAPID ramps (one frame per group) of a scene.

    Parameters
    ----------
    truth : DetectorTruth
        The detector region read out.
    rate : numpy.ndarray
        Count rate of the scene in e-/s, shape ``(ny, nx)``.
    rng : numpy.random.Generator
        Source of the noise and cosmic rays.
    frame_time : float
        Seconds per frame.
    nints, ngroups : int, optional
        Integrations and groups.
    gain_scale, readnoise_scale : float, optional
        Factors on the detector's gain and read noise (a later calibration).

    Returns
    -------
    numpy.ndarray
        Raw counts in DN, integer-valued float32, ``(nints, ngroups, ny, nx)``.
    """
    ny, nx = truth.shape
    gain = truth.gain.astype(np.float64) * gain_scale
    read_sigma = truth.readnoise.astype(np.float64) * readnoise_scale / np.sqrt(2.0)
    blind = truth.reference_pixels | truth.dead
    electrons_rate = np.where(blind, 0.0, rate) + truth.dark_signal_rate * gain
    bias = truth.bias.astype(np.float64)
    coeffs = truth.linearity.astype(np.float64)
    ceiling = np.where(np.isnan(truth.saturation), 65535.0, truth.saturation + 150.0)
    ramps = np.empty((nints, ngroups, ny, nx), np.float32)
    for integration in range(nints):
        increments = rng.poisson(electrons_rate * frame_time, size=(ngroups, ny, nx))
        signal = np.cumsum(increments, axis=0) / gain  # DN, linear
        for _ in range(CR_PER_INTEGRATION):
            group = rng.integers(1, ngroups)
            y, x = rng.integers(0, ny), rng.integers(0, nx)
            if not blind[y, x]:
                signal[group:, y, x] += rng.uniform(200.0, 3000.0)
        raw = bias + uncorrect(signal, coeffs)
        raw = np.minimum(raw, ceiling) + rng.normal(0.0, 1.0, raw.shape) * read_sigma
        ramps[integration] = np.clip(np.round(raw), 0, 65535)
    return ramps
