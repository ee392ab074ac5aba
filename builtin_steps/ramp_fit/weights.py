"""Optimal-weighting coefficients for ordinary least-squares ramp fits.

The slope of a ramp segment of ``n`` groups fitted by weighted least squares
is a linear combination of the group values, ``slope = sum_j c_j * y_j``.
With the optimal weighting of Fixsen et al. (2000), as used by the JWST
calibration pipeline, the weight of sample ``j`` is
``w_j = |(j - m) / m| ** P`` with ``m = (n - 1) / 2``, and the exponent ``P``
grows with the segment's signal-to-noise ratio (0, 0.4, 1, 3, 6, 10 for
S/N below 5, 10, 20, 50, 100 and above).  The per-pixel read-noise factor of
the weights cancels in the slope, so the coefficients depend only on ``n``
and ``P`` and are tabulated once per exposure.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["SNR_EDGES", "POWERS", "power_index", "slope_coefficients"]

#: Lower S/N edges of the weighting classes (above the first one).
SNR_EDGES = np.array([5.0, 10.0, 20.0, 50.0, 100.0])

#: Exponent ``P`` of the optimal weights, one per S/N class.
POWERS = np.array([0.0, 0.4, 1.0, 3.0, 6.0, 10.0])


def power_index(snr: np.ndarray) -> np.ndarray:
    """Return the weighting class (index into `POWERS`) of each S/N value.

    Parameters
    ----------
    snr : ndarray
        Signal-to-noise ratio of each segment; negative or NaN values count
        as zero.

    Returns
    -------
    ndarray of int8
        Class index, 0 (``P = 0``) to 5 (``P = 10``).
    """
    clean = np.where(snr > 0.0, snr, 0.0)  # NaN compares False -> 0
    return np.searchsorted(SNR_EDGES, clean, side="right").astype(np.int8)


def slope_coefficients(ngroups: int, group_time: float) -> np.ndarray:
    """Tabulate the slope coefficients of every segment length and class.

    Parameters
    ----------
    ngroups : int
        Maximum segment length (the number of groups per integration).
    group_time : float
        Time between groups in seconds; the coefficients give DN/s.

    Returns
    -------
    ndarray of float64, shape (ngroups + 1, len(POWERS), ngroups)
        ``table[n, p, j]`` multiplies the ``j``-th group of a segment of
        ``n`` groups in class ``p``.  Entries for ``n < 2`` and ``j >= n``
        are zero (one-group segments are handled by the caller). Read-only:
        the table of an exposure is computed once and shared by the fits of
        all its bands of rows.
    """
    return _table(int(ngroups), float(group_time))


@lru_cache(maxsize=32)
def _table(ngroups: int, group_time: float) -> np.ndarray:
    table = np.zeros((ngroups + 1, POWERS.size, max(ngroups, 1)))
    for n in range(2, ngroups + 1):
        x = np.arange(n, dtype=np.float64)
        mid = (n - 1) / 2.0
        for p, power in enumerate(POWERS):
            w = np.abs((x - mid) / mid) ** power
            sw, swx, swxx = w.sum(), (w * x).sum(), (w * x * x).sum()
            den = sw * swxx - swx * swx
            table[n, p, :n] = w * (sw * x - swx) / den / group_time
    table.flags.writeable = False
    return table
