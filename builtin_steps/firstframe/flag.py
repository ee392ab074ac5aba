"""First-frame kernel: flag the first group of every integration DO_NOT_USE."""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_GROUPS", "flag_first_group"]

#: The first group is flagged only when a ramp has more groups than this.
MIN_GROUPS = 3


def flag_first_group(
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    *,
    bright_use_group1: bool,
    do_not_use: int,
    saturated: int,
    flux_estimated: int,
) -> int:
    """Set ``do_not_use`` on group 0 of every integration, in place.

    With ``bright_use_group1``, pixels whose third group (index 2) is
    saturated keep their first group in that integration (its first-frame
    error is small next to their signal); ``flux_estimated`` is then set in
    ``pixeldq`` for every pixel that kept its first group in any integration.

    Parameters
    ----------
    groupdq : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` group DQ with ``ngroups > MIN_GROUPS``.
    pixeldq : numpy.ndarray
        ``(ny, nx)`` pixel DQ.
    bright_use_group1 : bool
        Keep the first group of pixels saturated in group 3.
    do_not_use, saturated, flux_estimated : int
        DQ bit values.

    Returns
    -------
    int
        Number of pixels that kept their first group in some integration and
        are not flagged ``do_not_use`` in ``pixeldq`` (0 without
        ``bright_use_group1``).
    """
    first = groupdq[:, 0]
    if not bright_use_group1:
        first |= groupdq.dtype.type(do_not_use)
        return 0
    kept = (groupdq[:, 2] & saturated) != 0
    np.bitwise_or(first, groupdq.dtype.type(do_not_use), out=first, where=~kept)
    any_kept = kept.any(axis=0)
    pixeldq[any_kept] |= pixeldq.dtype.type(flux_estimated)
    return int(np.count_nonzero((pixeldq[any_kept] & do_not_use) == 0))
