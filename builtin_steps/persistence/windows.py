"""Persistence kernel: flag the groups that fall in a pixel's persistence window.

Every pixel carries the end time of its open persistence window (0: none).
Group by group, in time order:

1. windows that ended before the group's time are closed;
2. a pixel whose saturated-group count in this integration is exactly 1 (its
   first saturated group, until a second one is seen) opens a window that
   ends ``persistence_time`` seconds after the group's time;
3. with a DN threshold, a pixel without an open window whose signal exceeds
   the threshold opens one too;
4. windows ending later than ``persistence_time`` after the group's time
   (possible only for windows read from a file) are closed as invalid;
5. the group gets the flag in every pixel with an open window.

Windows carry over from one integration to the next (and, through the
persistence array file, from one exposure to the next); the saturated-group
count restarts with each integration.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mjd_to_epoch", "flag_persistence"]

#: MJD of the Unix epoch (1970-01-01T00:00:00 UTC).
_MJD_UNIX_EPOCH = 40587.0
_SECONDS_PER_DAY = 86400.0


def mjd_to_epoch(mjd: float | np.ndarray) -> float | np.ndarray:
    """Convert a Modified Julian Date to seconds since 1970-01-01T00:00:00 UTC.

    Parameters
    ----------
    mjd : float or numpy.ndarray
        Modified Julian Date(s).

    Returns
    -------
    float or numpy.ndarray
        Unix time(s) in seconds.
    """
    return (np.asarray(mjd, dtype=np.float64) - _MJD_UNIX_EPOCH) * _SECONDS_PER_DAY


def flag_persistence(
    groupdq: np.ndarray,
    data: np.ndarray,
    group_times: np.ndarray,
    window_ends: np.ndarray,
    *,
    persistence_time: float,
    dn_threshold: float | None,
    saturated: int,
    flag: int,
) -> int:
    """Flag the groups inside persistence windows, in place.

    Parameters
    ----------
    groupdq : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` uint8 group DQ; ``flag`` is ORed in place.
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` signal, compared with ``dn_threshold``.
    group_times : numpy.ndarray
        ``(nints, ngroups)`` time of each group, in seconds (Unix time).
    window_ends : numpy.ndarray
        ``(ny, nx)`` float64 end time of each pixel's open window, 0 for none;
        updated in place (the state to carry to the next exposure).
    persistence_time : float
        Length of a window in seconds (> 0).
    dn_threshold : float or None
        Signal above which a pixel opens a window; None: saturation only.
    saturated : int
        Bit value of the SATURATED group flag.
    flag : int
        Bits set on the groups inside a window (PERSISTENCE, optionally with
        DO_NOT_USE).

    Returns
    -------
    int
        Number of pixel windows closed as invalid (ending too late, step 4).
    """
    nints, ngroups = groupdq.shape[:2]
    sat_count = np.zeros(window_ends.shape, dtype=np.uint32)
    scratch = np.empty(window_ends.shape, dtype=bool)
    open_now = np.empty(window_ends.shape, dtype=bool)
    invalid = 0
    flag = np.uint8(flag)
    for integration in range(nints):
        sat_count[...] = 0
        for group in range(ngroups):
            now = float(group_times[integration, group])
            end = now + persistence_time
            gdq = groupdq[integration, group]
            np.less(window_ends, now, out=scratch)
            window_ends[scratch] = 0.0
            np.bitwise_and(gdq, saturated, out=scratch, casting="unsafe")
            sat_count += scratch
            np.equal(sat_count, 1, out=scratch)
            window_ends[scratch] = end
            if dn_threshold is not None:
                np.greater(data[integration, group], dn_threshold, out=scratch)
                scratch &= ~(window_ends > 0.0)
                window_ends[scratch] = end
            np.greater(window_ends, end, out=scratch)
            bad = int(np.count_nonzero(scratch))
            if bad:
                invalid += bad
                window_ends[scratch] = 0.0
            np.greater(window_ends, 0.0, out=open_now)
            np.bitwise_or(gdq, flag, out=gdq, where=open_now)
    return invalid
