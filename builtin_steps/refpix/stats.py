"""Vectorised robust statistics for the reference-pixel correction."""

from __future__ import annotations

import numpy as np

__all__ = ["clipped_mean", "running_median"]


def clipped_mean(values: np.ndarray, valid: np.ndarray, nsigma: float = 3.0) -> np.ndarray:
    """Iteratively sigma-clipped mean along the last axis.

    Each row is clipped at ``mean +/- nsigma * std`` (population std) until no
    value is removed, as :func:`scipy.stats.sigmaclip` does, but for many rows
    at once.

    Parameters
    ----------
    values : numpy.ndarray
        ``(..., n)`` samples.
    valid : numpy.ndarray
        Boolean, broadcastable to ``values``: samples that may be used.
    nsigma : float
        Clipping limit in standard deviations (both sides).

    Returns
    -------
    numpy.ndarray
        ``(...)`` float64 clipped means; NaN where a row has no valid sample.
    """
    v = np.asarray(values, dtype=np.float64)
    keep = np.broadcast_to(valid, v.shape) & np.isfinite(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        while True:
            n = keep.sum(axis=-1)
            vz = np.where(keep, v, 0.0)
            mean = vz.sum(axis=-1) / n
            dev = np.where(keep, v - mean[..., None], 0.0)
            std = np.sqrt((dev * dev).sum(axis=-1) / n)
            lim = (nsigma * std)[..., None]
            new = keep & (np.abs(dev) <= lim)
            if np.array_equal(new, keep):
                return mean
            keep = new


def running_median(values: np.ndarray, valid: np.ndarray, length: int) -> np.ndarray:
    """Running median over a window of rows, across all columns of the window.

    The window is ``length`` rows tall (made odd by adding 1 if needed) and as
    wide as ``values``; the ends are extended by reflection (without repeating
    the edge row). Invalid samples are ignored.

    Parameters
    ----------
    values : numpy.ndarray
        ``(..., nrows, ncols)`` samples.
    valid : numpy.ndarray
        Boolean, broadcastable to ``values``.
    length : int
        Window height in rows.

    Returns
    -------
    numpy.ndarray
        ``(..., nrows)`` float64 medians; NaN where a window has no valid sample.
    """
    if length % 2 == 0:
        length += 1
    half = length // 2
    v = np.where(np.broadcast_to(valid, values.shape), values, np.nan).astype(np.float64)
    nrows = v.shape[-2]
    half = min(half, nrows - 1)
    pad = [(0, 0)] * (v.ndim - 2) + [(half, half), (0, 0)]
    padded = np.pad(v, pad, mode="reflect")
    win = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=-2)
    # win: (..., nrows, ncols, length) -> one flat sample axis per row
    flat = win.reshape(win.shape[:-3] + (nrows, -1))
    flat = np.sort(flat, axis=-1)  # NaN sorts last
    count = np.sum(~np.isnan(flat), axis=-1)
    lo = np.clip((count - 1) // 2, 0, None)
    hi = np.clip(count // 2, 0, None)
    a = np.take_along_axis(flat, lo[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(flat, hi[..., None], axis=-1)[..., 0]
    med = 0.5 * (a + b)
    med[count == 0] = np.nan
    return med
