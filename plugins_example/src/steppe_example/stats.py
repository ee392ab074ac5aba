"""Per-integration statistics of a ramp's group data-quality flags (pure numpy).

The jump step flags the group where a cosmic ray (or another jump) hit a pixel
with ``JUMP_DET``; the saturation step flags saturated groups with ``SATURATED``;
groups that must not be fitted carry ``DO_NOT_USE``. :func:`summarize_groupdq`
counts them per integration, which tells at a glance how hard cosmic rays hit an
exposure and how much of each ramp is usable.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COLUMNS", "summarize_groupdq"]

#: Names of the per-integration statistics, in table order.
COLUMNS = (
    "integration",
    "jump_pixels",
    "jump_fraction",
    "jumps",
    "jump_rate",
    "saturated_pixels",
    "saturated_fraction",
    "median_usable_groups",
    "do_not_use_groups",
)


def summarize_groupdq(
    groupdq: np.ndarray,
    *,
    jump_flag: int,
    saturated_flag: int,
    do_not_use_flag: int,
    group_time: float | None = None,
) -> dict[str, np.ndarray]:
    """Count jumps and saturation in each integration of a ramp.

    Parameters
    ----------
    groupdq : numpy.ndarray
        Group DQ flags, shape ``(nints, ngroups, ny, nx)``, integer.
    jump_flag, saturated_flag, do_not_use_flag : int
        The bit values of ``JUMP_DET``, ``SATURATED`` and ``DO_NOT_USE``.
    group_time : float, optional
        Seconds between groups; needed for ``jump_rate``, which is NaN without it.

    Returns
    -------
    dict of str to numpy.ndarray
        One array of length ``nints`` per name in :data:`COLUMNS`:

        ``integration``
            1-based integration number.
        ``jump_pixels``, ``jump_fraction``
            Pixels with at least one jump, as a count and a fraction of all pixels.
        ``jumps``
            Flagged jump groups (a pixel hit twice counts twice).
        ``jump_rate``
            ``jumps`` per pixel per second of ramp (``ngroups * group_time``).
        ``saturated_pixels``, ``saturated_fraction``
            Pixels that saturate in any group.
        ``median_usable_groups``
            Median over pixels of the groups before saturation.
        ``do_not_use_groups``
            Groups flagged ``DO_NOT_USE``.

    Raises
    ------
    ValueError
        If ``groupdq`` is not 4-D or not of an integer type.

    Examples
    --------
    >>> dq = np.zeros((1, 3, 2, 2), dtype=np.uint8)
    >>> dq[0, 1, 0, 0] = 4          # one jump
    >>> dq[0, 2:, 1, 1] = 2         # one pixel saturates in its last group
    >>> stats = summarize_groupdq(dq, jump_flag=4, saturated_flag=2, do_not_use_flag=1)
    >>> int(stats["jumps"][0]), float(stats["saturated_fraction"][0])
    (1, 0.25)
    """
    groupdq = np.asarray(groupdq)
    if groupdq.ndim != 4:
        raise ValueError(
            f"groupdq has shape {groupdq.shape}; a ramp's GROUPDQ is 4-D "
            "(nints, ngroups, ny, nx)"
        )
    if not np.issubdtype(groupdq.dtype, np.integer):
        raise ValueError(f"groupdq has dtype {groupdq.dtype}; DQ flags are integers")
    nints, ngroups, ny, nx = groupdq.shape
    npix = ny * nx
    jump = (groupdq & jump_flag) != 0
    saturated = (groupdq & saturated_flag) != 0
    do_not_use = (groupdq & do_not_use_flag) != 0

    jumps = jump.sum(axis=(1, 2, 3))
    jump_pixels = jump.any(axis=1).sum(axis=(1, 2))
    ever_saturated = saturated.any(axis=1)
    # Groups before the first saturated one; all groups for pixels that never saturate.
    usable = np.where(ever_saturated, np.argmax(saturated, axis=1), ngroups)
    if group_time is not None and group_time > 0 and ngroups > 0:
        jump_rate = jumps / (npix * ngroups * float(group_time))
    else:
        jump_rate = np.full(nints, np.nan)
    return {
        "integration": np.arange(1, nints + 1),
        "jump_pixels": jump_pixels,
        "jump_fraction": jump_pixels / npix,
        "jumps": jumps,
        "jump_rate": jump_rate,
        "saturated_pixels": ever_saturated.sum(axis=(1, 2)),
        "saturated_fraction": ever_saturated.sum(axis=(1, 2)) / npix,
        "median_usable_groups": np.median(usable.reshape(nints, -1), axis=1),
        "do_not_use_groups": do_not_use.sum(axis=(1, 2, 3)),
    }
