"""Charge-migration kernel: flag the groups from the first one above a signal threshold on.

A group whose signal exceeds the threshold (and whose group DQ is not exactly
DO_NOT_USE) starts the flagging: that group and every later group of the same
integration get CHARGELOSS and DO_NOT_USE, in the pixel and in its four
nearest neighbours (up, down, left, right).
"""

from __future__ import annotations

import numpy as np

__all__ = ["flag_charge_migration"]


def flag_charge_migration(
    data: np.ndarray,
    groupdq: np.ndarray,
    signal_threshold: float,
    *,
    do_not_use: int,
    chargeloss: int,
) -> int:
    """Flag charge migration in place; return the number of groups newly flagged.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` ramp.
    groupdq : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` uint8 group DQ; ``chargeloss | do_not_use``
        is ORed in place.
    signal_threshold : float
        A group whose signal is above this value starts the flagging. NaN
        signals never do.
    do_not_use, chargeloss : int
        Bit values of the DO_NOT_USE and CHARGELOSS group flags. A group whose
        DQ equals ``do_not_use`` exactly cannot start the flagging (it can
        still be flagged, from its neighbours or earlier groups).

    Returns
    -------
    int
        Number of groups (pixels x groups) whose DQ changed.
    """
    flag = np.uint8(chargeloss | do_not_use)
    changed = 0
    for integration in range(data.shape[0]):
        gdq = groupdq[integration]
        above = np.greater(data[integration], signal_threshold)
        above &= gdq != do_not_use
        if not above.any():
            continue
        # From the first exceedance on, every later group of the pixel.
        onset = np.logical_or.accumulate(above, axis=0)
        spread = onset.copy()
        spread[:, 1:, :] |= onset[:, :-1, :]
        spread[:, :-1, :] |= onset[:, 1:, :]
        spread[:, :, 1:] |= onset[:, :, :-1]
        spread[:, :, :-1] |= onset[:, :, 1:]
        changed += int(np.count_nonzero(spread & ((gdq & flag) != flag)))
        np.bitwise_or(gdq, flag, out=gdq, where=spread)
    return changed
