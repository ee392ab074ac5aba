"""A draft count rate from a ramp, for scene masking.

The rate of a pixel is the mean of its usable group-to-group differences over
the group time: a difference is usable when neither group is DO_NOT_USE or
SATURATED and the later group has no jump. This is the unweighted least-squares
slope of each clean ramp segment, averaged over segments. It only has to tell
sources from background; the science rate is made by ramp fitting.
"""

from __future__ import annotations

import numpy as np

__all__ = ["draft_rate"]


def draft_rate(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    group_time: float,
    *,
    per_integration: bool = False,
    do_not_use: int = 1,
    saturated: int = 2,
    jump_det: int = 4,
) -> np.ndarray:
    """Return the draft rate of a ramp.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` ramp.
    groupdq : numpy.ndarray of int
        Group DQ, shape of ``data``.
    pixeldq : numpy.ndarray of int
        ``(ny, nx)`` pixel DQ; DO_NOT_USE pixels get NaN.
    group_time : float
        Seconds between groups (a value <= 0 is taken as 1).
    per_integration : bool
        Return one rate per integration, ``(nints, ny, nx)``; otherwise one
        ``(ny, nx)`` rate from all integrations.
    do_not_use, saturated, jump_det : int
        DQ bit values.

    Returns
    -------
    numpy.ndarray
        float32 rate; NaN where no usable difference exists. A one-group
        ramp's rate is its group value over the group time.
    """
    dt = float(group_time) if group_time and group_time > 0 else 1.0
    nints, ngroups = data.shape[:2]
    if ngroups == 1:
        usable = (groupdq[:, 0] & (do_not_use | saturated)) == 0
        total = np.where(usable, data[:, 0], 0.0).astype(np.float64)
        count = usable.astype(np.int64)
    else:
        bad_before = (groupdq[:, :-1] & (do_not_use | saturated)) != 0
        bad_after = (groupdq[:, 1:] & (do_not_use | saturated | jump_det)) != 0
        usable = ~(bad_before | bad_after)
        diffs = np.diff(data.astype(np.float64), axis=1)
        total = np.where(usable, diffs, 0.0).sum(axis=1)
        count = usable.sum(axis=1)
    if not per_integration:
        total, count = total.sum(axis=0), count.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(count > 0, total / np.maximum(count, 1) / dt, np.nan)
    rate[..., (pixeldq & do_not_use) != 0] = np.nan
    return rate.astype(np.float32)
