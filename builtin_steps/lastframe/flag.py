"""Last-frame kernel: flag the final group of every integration DO_NOT_USE."""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_GROUPS", "flag_last_group"]

#: The last group is flagged only when a ramp has more groups than this.
MIN_GROUPS = 2


def flag_last_group(groupdq: np.ndarray, *, do_not_use: int) -> None:
    """Set ``do_not_use`` on the last group of every integration, in place.

    Parameters
    ----------
    groupdq : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` group DQ.
    do_not_use : int
        DQ bit value.
    """
    last = groupdq[:, -1]
    last |= groupdq.dtype.type(do_not_use)
