"""Simple Improved Reference Subtraction (SIRS) of near-infrared full frames.

SIRS (Rauscher 2021) replaces the running median of the side reference
columns by an optimal convolution: the per-row means of the 4 left and the 4
right reference columns are convolved with kernels built from Fourier
weights (``gamma`` for the left, ``zeta`` for the right side, one set per
amplifier) and the sum is subtracted from each amplifier's columns, row by
row, in the detector frame.

The kernels come from a SIRSKERNEL reference file (ASDF): one node per
detector (lower-case name) holding ``gamma`` and ``zeta``, complex arrays of
shape ``(4, n + 1)`` (half spectra of length-``2n`` real kernels).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

__all__ = ["SirsKernels", "read_sirs_coefficients", "make_kernels", "sirs_side_signal"]

_NAMP = 4
_BORDER = 4
#: Ratio of the standard deviation to the median absolute deviation of a normal law.
_MAD_TO_SIGMA = 1.48


@dataclass(frozen=True)
class SirsKernels:
    """Real-space SIRS kernels of one detector.

    Attributes
    ----------
    left, right : numpy.ndarray
        ``(4, 2 * halfwidth + 1)`` kernels for the left and right reference
        columns, one row per amplifier.
    sigreject : float
        Outlier rejection limit, in robust standard deviations.
    """

    left: np.ndarray
    right: np.ndarray
    sigreject: float = 4.0


def read_sirs_coefficients(path: str | os.PathLike, detector: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Read the ``gamma`` and ``zeta`` Fourier weights of a detector.

    Parameters
    ----------
    path : str or os.PathLike
        SIRSKERNEL reference file (ASDF).
    detector : str
        Detector name (any case), e.g. ``"NRCB1"``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray) or None
        Complex ``gamma`` and ``zeta``, each ``(4, n + 1)``; None when the file
        has no entry for the detector.
    """
    import asdf

    with asdf.open(os.fspath(path), lazy_load=False, memmap=False) as af:
        for key, node in af.tree.items():
            if not isinstance(key, str) or key.lower() != (detector or "").lower():
                continue
            if not hasattr(node, "get") or node.get("gamma") is None or node.get("zeta") is None:
                return None
            return np.array(node["gamma"], dtype=np.complex128), np.array(node["zeta"], dtype=np.complex128)
    return None


def make_kernels(
    gamma: np.ndarray, zeta: np.ndarray, *, gaussmooth: float, halfwidth: int, sigreject: float = 4.0
) -> SirsKernels:
    """Build the real-space convolution kernels from Fourier weights.

    Each half spectrum is inverse-transformed, centred, cut to
    ``2 * halfwidth + 1`` taps and smoothed by a normalised Gaussian of width
    ``gaussmooth`` (a low-pass filter).

    Parameters
    ----------
    gamma, zeta : numpy.ndarray
        ``(namp, n + 1)`` complex weights of the left and right side.
    gaussmooth : float
        Width (standard deviation, in rows) of the Gaussian smoothing window.
    halfwidth : int
        Half-width of the kernels, in rows.
    sigreject : float
        Outlier rejection limit kept with the kernels.

    Returns
    -------
    SirsKernels
    """
    taps = np.arange(-halfwidth, halfwidth + 1)
    window = np.exp(-(taps**2) / (2.0 * gaussmooth**2))
    window /= window.sum()

    def _real_space(weights: np.ndarray) -> np.ndarray:
        weights = np.atleast_2d(weights)
        n = weights.shape[-1] - 1
        full = np.fft.fftshift(np.fft.irfft(weights, axis=-1), axes=-1)
        lo, hi = n - halfwidth, n + halfwidth + 1
        if lo < 0 or hi > full.shape[-1]:
            raise ValueError(f"halfwidth {halfwidth} exceeds the kernel length {full.shape[-1]}")
        cut = full[:, lo:hi]
        return np.stack([np.convolve(k, window, mode="same") for k in cut])

    return SirsKernels(_real_space(gamma), _real_space(zeta), float(sigreject))


def _row_means(side: np.ndarray, sigreject: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-row sum/4 of the good samples and the count of good samples.

    A sample is good when it lies within ``sigreject`` robust standard
    deviations (1.48 x median absolute deviation) of the median of the
    whole side (per group).
    """
    lead = side.shape[:-2]
    flat = side.reshape(lead + (-1,))
    med = np.median(flat, axis=-1)
    sig = _MAD_TO_SIGMA * np.median(np.abs(flat - med[..., None]), axis=-1)
    good = np.abs(side - med[..., None, None]) <= (sigreject * sig)[..., None, None]
    return np.where(good, side, 0.0).sum(axis=-1) / _BORDER, good.sum(axis=-1)


def _convolve_rows(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``numpy.convolve(values, kernel, mode="same")`` along the last axis, batched."""
    # convolve1d with zero padding matches numpy's "same" mode for odd kernels
    return convolve1d(values, kernel, axis=-1, mode="constant", cval=0.0)


def sirs_side_signal(det: np.ndarray, kernels: SirsKernels) -> np.ndarray:
    """Return the SIRS correction of each detector row, per amplifier.

    Parameters
    ----------
    det : numpy.ndarray
        ``(..., nrows, ncols)`` groups in the detector frame (after the
        top/bottom correction).
    kernels : SirsKernels
        Kernels of the detector.

    Returns
    -------
    numpy.ndarray
        ``(..., namp, nrows)`` float64 signal to subtract from each row of each
        amplifier's columns.
    """
    left, nleft = _row_means(np.asarray(det[..., :, :_BORDER], dtype=np.float64), kernels.sigreject)
    right, nright = _row_means(np.asarray(det[..., :, -_BORDER:], dtype=np.float64), kernels.sigreject)
    ones = np.ones(det.shape[-2])
    out = []
    for kl, kr in zip(kernels.left, kernels.right):
        with np.errstate(invalid="ignore", divide="ignore"):
            norm_l = _convolve_rows(ones, kl) / _convolve_rows(nleft / _BORDER, kl)
            norm_r = _convolve_rows(ones, kr) / _convolve_rows(nright / _BORDER, kr)
        out.append(_convolve_rows(left, kl) * norm_l + _convolve_rows(right, kr) * norm_r)
    return np.stack(out, axis=-2)


def convolve1d(*args, **kwargs):  # noqa: D103 - scipy.ndimage.convolve1d, imported on first use (slow import)
    from scipy.ndimage import convolve1d as scipy_convolve1d

    return scipy_convolve1d(*args, **kwargs)
