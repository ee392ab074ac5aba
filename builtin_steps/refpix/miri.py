"""Reference-pixel correction of MIRI full-frame ramps.

A MIRI detector (1024 rows x 1032 columns, always in the detector frame) is
read by four amplifiers whose columns interleave: column ``c`` belongs to
amplifier ``c % 4``. Columns 0-3 (left) and 1028-1031 (right) are reference
columns, one per amplifier on each side.

Per integration the first group is subtracted from every group; then, for
each later group and each amplifier, the sigma-clipped means of the
amplifier's left and right reference column are averaged and subtracted from
all the amplifier's columns (separately for odd and even rows with
``odd_even_rows``); finally the first group is added back.
"""

from __future__ import annotations

import numpy as np

from builtin_steps._common import DO_NOT_USE
from builtin_steps.refpix.stats import clipped_mean

__all__ = ["MIRI_SHAPE", "correct_miri"]

#: Full-frame MIRI detector (rows, columns), reference columns included.
MIRI_SHAPE = (1024, 1032)
_NAMP = 4


def _side_means(diff: np.ndarray, usable: np.ndarray, cols: slice, odd_even_rows: bool, siglimit: float):
    """Clipped means of one side's reference columns: ``(nints, parity, amp)``."""
    side = diff[..., :, cols]  # (nints, rows, 4): column k is amplifier k
    ok = usable[:, cols]
    npar = 2 if odd_even_rows else 1
    nints, nrows = side.shape[0], side.shape[1]
    # (nints, rows/npar, npar, amp) -> (nints, npar, amp, samples)
    values = side.reshape(nints, nrows // npar, npar, _NAMP).transpose(0, 2, 3, 1)
    valid = ok.reshape(nrows // npar, npar, _NAMP).transpose(1, 2, 0)
    return clipped_mean(values, valid, siglimit)


def correct_miri(
    data: np.ndarray,
    pixeldq: np.ndarray,
    *,
    odd_even_rows: bool = True,
    siglimit: float = 3.0,
    do_not_use: int = DO_NOT_USE,
) -> bool:
    """Correct a MIRI full-frame ramp in place.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, 1024, 1032)`` float32 ramp.
    pixeldq : numpy.ndarray
        ``(1024, 1032)`` pixel DQ; DO_NOT_USE reference pixels are ignored.
    odd_even_rows : bool
        Separate reference values for odd and even rows.
    siglimit : float
        Sigma-clipping limit (both sides) of the reference means.
    do_not_use : int
        Value of the DO_NOT_USE bit.

    Returns
    -------
    bool
        True when at least one reference value was usable. An amplifier (row
        parity) whose reference pixels are all unusable in a group is left
        uncorrected in that group; one usable side is used alone.
    """
    nints, ngroups, nrows, ncols = data.shape
    if (nrows, ncols) != MIRI_SHAPE:
        raise ValueError(f"MIRI full frame must be {MIRI_SHAPE}, got {(nrows, ncols)}")
    usable = (np.asarray(pixeldq) & np.uint32(do_not_use)) == 0
    npar = 2 if odd_even_rows else 1
    first = data[:, 0].astype(np.float64)
    found = False
    for g in range(1, ngroups):
        diff = data[:, g] - first  # the ramp relative to its first group
        left = _side_means(diff, usable, slice(0, _NAMP), odd_even_rows, siglimit)
        right = _side_means(diff, usable, slice(ncols - _NAMP, ncols), odd_even_rows, siglimit)
        signal = np.where(np.isnan(left), right, np.where(np.isnan(right), left, 0.5 * (left + right)))
        found |= bool(np.isfinite(signal).any())
        signal = np.nan_to_num(signal, nan=0.0)  # (nints, parity, amp)
        # (nints, rows/npar, npar, cols/4, amp): subtract the (parity, amp) value
        corrected = diff.reshape(nints, nrows // npar, npar, ncols // _NAMP, _NAMP)
        corrected -= signal[:, None, :, None, :]
        data[:, g] = (corrected.reshape(nints, nrows, ncols) + first).astype(data.dtype)
    return found
