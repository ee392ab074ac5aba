"""1/f noise as a low-frequency Fourier series along each readout line (NSClean idea).

In NIRSpec detector coordinates (DMS image transposed; NRS2 also flipped) the
detector is read along rows. The correlated noise of each row is modelled as a
sum of the Fourier modes below a cut-off frequency, fitted by weighted least
squares to the background pixels only (Rauscher 2024, NSClean). The weights are
the reciprocal of the local density of background pixels along the row (a
Gaussian window), so large unmasked stretches do not dominate the fit; outliers
of each row are replaced by the row median before the fit. The fitted
amplitudes are apodized with a low-pass filter (unity gain, cosine roll-off to
zero); on a full frame the model is lightly smoothed across rows ("buffing")
before it is subtracted.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lowpass_filter", "fft_clean", "CUTOFF", "KILL_WIDTH"]

#: Half-power frequency of the low-pass filter, cycles per pixel.
CUTOFF = 1.0 / (2 * 2048 / 16)
#: Width of the cosine roll-off, cycles per pixel.
KILL_WIDTH = CUTOFF / 4
_DENSITY_SIGMA = 32.0
_BUFFER_SIGMA = 1.5
_SIGREJ = 3.0
_FULL_FRAME = (2048, 2048)
_REF_LINES = 4


def lowpass_filter(n: int, cutoff: float = CUTOFF, kill_width: float = KILL_WIDTH) -> np.ndarray:
    """Gain of the low-pass filter at the ``rfft`` frequencies of ``n`` samples.

    Parameters
    ----------
    n : int
        Samples per line.
    cutoff : float
        Half-power frequency (cycles per sample).
    kill_width : float
        Width of the cosine transition from gain 1 to 0.

    Returns
    -------
    numpy.ndarray
        Gain per frequency (``n // 2 + 1`` values).
    """
    freq = np.fft.rfftfreq(n)
    roll = 0.5 * (1.0 + np.cos(np.pi * (freq - cutoff) / kill_width + np.pi / 2))
    gain = np.where(freq <= cutoff - kill_width / 2, 1.0, roll)
    return np.where(freq <= cutoff + kill_width / 2, gain, 0.0)


def _to_detector(array: np.ndarray, detector: str) -> np.ndarray:
    return array.T if detector.upper() == "NRS1" else array.T[::-1]


def _from_detector(array: np.ndarray, detector: str) -> np.ndarray:
    return array.T if detector.upper() == "NRS1" else array[::-1].T


def _fill_outliers(data: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Replace each row's background outliers (> 3 robust sigma) by the row median."""
    values = np.where(mask, data, np.nan)
    rows = mask.any(axis=1)
    med = np.zeros(data.shape[0])
    mad = np.zeros(data.shape[0])
    med[rows] = np.nanmedian(values[rows], axis=1)
    mad[rows] = 1.4826 * np.nanmedian(np.abs(values[rows] - med[rows, None]), axis=1)
    far = np.abs(data - med[:, None]) > _SIGREJ * mad[:, None]
    return np.where(far, med[:, None], data)


def _basis(n: int, nvec: int) -> tuple[np.ndarray, np.ndarray]:
    """Real Fourier basis ``(n, p)`` (constant, cos k, sin k for k < nvec) and each column's k."""
    x = np.arange(n)[:, None]
    k = np.arange(1, nvec)[None, :]
    phase = 2 * np.pi * x * k / n
    columns = [np.ones((n, 1)), np.cos(phase), np.sin(phase)]
    ks = np.concatenate(([0], np.arange(1, nvec), np.arange(1, nvec)))
    return np.hstack(columns), ks


def fft_clean(image: np.ndarray, mask: np.ndarray, detector: str) -> np.ndarray:
    """Fit and subtract the low-frequency line noise of a NIRSpec image.

    Parameters
    ----------
    image : numpy.ndarray
        2-D image in DMS orientation, background already subtracted.
    mask : numpy.ndarray of bool
        True for background pixels used in the fit.
    detector : str
        'NRS1' or 'NRS2' (sets the transform to detector coordinates).

    Returns
    -------
    numpy.ndarray
        The cleaned image, DMS orientation (a new float32 array). On a full
        frame the 4 reference lines at each end are not corrected and the
        model is buffed (Gaussian, sigma 1.5 lines) across lines.
    """
    data = np.asarray(_to_detector(image, detector), dtype=np.float64)
    good = np.asarray(_to_detector(mask, detector), dtype=bool)
    ny, nx = data.shape
    gain = lowpass_filter(nx)
    nvec = max(int(np.count_nonzero(gain > 0)), 1)
    basis, ks = _basis(nx, nvec)
    density = gaussian_filter1d(good.astype(np.float64), _DENSITY_SIGMA, axis=1, mode="wrap")
    with np.errstate(divide="ignore"):
        weights = np.where(good & (density > 0), 1.0 / density, 0.0)
    filled = _fill_outliers(data, good)
    normal = np.einsum("yx,xi,xj->yij", weights, basis, basis, optimize=True)
    rhs = np.einsum("yx,yx,xi->yi", weights, filled, basis, optimize=True)
    coeffs = np.einsum("yij,yj->yi", np.linalg.pinv(normal, hermitian=True), rhs)
    model = (coeffs * gain[ks][None, :]) @ basis.T
    model[np.count_nonzero(good, axis=1) < basis.shape[1]] = 0.0
    if data.shape == _FULL_FRAME:
        model[:_REF_LINES] = 0.0
        model[-_REF_LINES:] = 0.0
        model = gaussian_filter1d(model, _BUFFER_SIGMA, axis=0, mode="wrap")
    return np.ascontiguousarray(_from_detector(data - model, detector)).astype(np.float32)


def gaussian_filter1d(*args, **kwargs):  # noqa: D103 - scipy.ndimage.gaussian_filter1d, imported on first use (slow import)
    from scipy.ndimage import gaussian_filter1d as scipy_gaussian_filter1d

    return scipy_gaussian_filter1d(*args, **kwargs)
