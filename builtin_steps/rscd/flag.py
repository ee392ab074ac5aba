"""RSCD kernel: how many initial groups to flag, per pixel, and the flagging itself.

The RSCD reference gives a number of initial groups to flag in the first
integration and another for the later ones. Both are lowered so that at least
3 groups remain (the last group is flagged by the last-frame step, leaving 2
for a slope), and lowered again, pixel by pixel, for pixels that saturate
early: such a pixel keeps the 2 groups before the one where it saturates,
unless it is saturated from the first group on.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_GROUPS", "limit_group_skip", "skip_counts", "flag_initial_groups"]

#: Ramps with fewer groups are not flagged at all.
MIN_GROUPS = 3


def limit_group_skip(skip: int, ngroups: int) -> int:
    """Return the number of initial groups to flag for a ramp of ``ngroups`` groups.

    Parameters
    ----------
    skip : int
        Groups to flag, from the reference file.
    ngroups : int
        Groups per integration (at least :data:`MIN_GROUPS`).

    Returns
    -------
    int
        1 for ramps of 5 groups or fewer; otherwise ``skip``; in both cases at
        most ``ngroups - 3`` (and at least 0).
    """
    if ngroups <= 5:
        skip = 1
    if ngroups < skip + 3:
        skip = max(0, ngroups - 3)
    return int(skip)


def skip_counts(
    groupdq: np.ndarray, skip: int, *, saturated: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Number of initial groups to flag per integration and pixel, lowered for saturation.

    Starting at group ``skip + 2`` (1-based) and going down to group 2, the
    count of every pixel saturated at that group (but not in group 1) is
    lowered by one; the descent stops at the first group where no such pixel
    is left.

    Parameters
    ----------
    groupdq : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` group DQ of the integrations to flag, with
        ``ngroups >= skip + 2``.
    skip : int
        Groups to flag where saturation does not interfere.
    saturated : int
        DQ bit value of saturation.

    Returns
    -------
    counts : numpy.ndarray of int
        ``(nints, ny, nx)`` groups to flag.
    lowered : numpy.ndarray of bool
        ``(ny, nx)``: pixels whose count was lowered in some integration.
    only_one : int
        Pixels left with no group flagged (a count of 0) in some integration,
        counted only when some count was lowered.
    """
    nints, _, ny, nx = groupdq.shape
    counts = np.full((nints, ny, nx), skip, dtype=np.int64)
    lowered = np.zeros((ny, nx), dtype=bool)
    if nints == 0:
        return counts, lowered, 0
    sat_first = (groupdq[:, 0] & saturated) != 0
    level = skip + 2  # 1-based group examined
    problem = ((groupdq[:, level - 1] & saturated) != 0) & ~sat_first
    if not problem.any():
        return counts, lowered, 0
    while problem.any() and level > 1:
        counts[problem] = np.maximum(counts[problem] - 1, 0)
        level -= 1
        problem = ((groupdq[:, level - 1] & saturated) != 0) & ~sat_first
    lowered = (counts < skip).any(axis=0)
    only_one = int(np.count_nonzero((counts == 0).any(axis=0)))
    return counts, lowered, only_one


def flag_initial_groups(groupdq: np.ndarray, counts: np.ndarray, *, do_not_use: int) -> None:
    """Set ``do_not_use`` on the first ``counts`` groups of each integration and pixel, in place.

    Parameters
    ----------
    groupdq : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` group DQ (a view of the integrations to flag).
    counts : numpy.ndarray of int
        ``(nints, ny, nx)`` groups to flag.
    do_not_use : int
        DQ bit value.
    """
    groups = np.arange(groupdq.shape[1])[None, :, None, None]
    mask = groups < counts[:, None, :, :]
    np.bitwise_or(groupdq, groupdq.dtype.type(do_not_use), out=groupdq, where=mask)
