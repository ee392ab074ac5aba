"""Flagging around detected jumps: the four neighbours and the groups after.

Both operate on full-frame arrays after detection, so that a jump on the
edge of one block of rows still flags its neighbour in the next block.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.jump.twopoint import DO_NOT_USE, JUMP_DET, SATURATED, signed_median_diffs

__all__ = ["flag_four_neighbors", "flag_after_jumps"]


def flag_four_neighbors(groupdq: np.ndarray, seed: np.ndarray) -> None:
    """Flag JUMP_DET on the four neighbours of every seed jump, in place.

    Parameters
    ----------
    groupdq : ndarray of uint8, shape (nints, ngroups, ny, nx)
        Group flags, modified in place.  Neighbours flagged SATURATED or
        DO_NOT_USE in the same group are left alone.
    seed : ndarray of uint8, shape (nints, ceil(ngroups / 8), ny, nx)
        The jumps whose neighbours are to be flagged, one bit per group
        (group ``g`` in bit ``g % 8`` of byte ``g // 8``), as returned by
        :func:`builtin_steps.jump.twopoint.detect_jumps`.
    """
    ints, octet, rows, cols = np.nonzero(seed)
    if ints.size == 0:
        return
    bits = np.unpackbits(seed[ints, octet, rows, cols][:, None], axis=1, bitorder="little")
    which, bit = np.nonzero(bits)
    ints, rows, cols = ints[which], rows[which], cols[which]
    groups = octet[which].astype(np.intp) * 8 + bit
    ny, nx = groupdq.shape[-2:]
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        y = rows + dy
        x = cols + dx
        inside = (y >= 0) & (y < ny) & (x >= 0) & (x < nx)
        at = (ints[inside], groups[inside], y[inside], x[inside])
        free = (groupdq[at] & (SATURATED | DO_NOT_USE)) == 0
        at = tuple(axis[free] for axis in at)
        groupdq[at] |= JUMP_DET


def flag_after_jumps(
    groupdq: np.ndarray,
    data: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    nframes: int,
    rules: list[tuple[float, int]],
) -> None:
    """Flag the groups that follow large jumps, in place.

    Parameters
    ----------
    groupdq : ndarray of uint8, shape (nints, ngroups, ny, nx)
        Group flags after detection and neighbour flagging.
    data : ndarray, same shape
        Ramps in DN.
    gain, readnoise : ndarray, shape (ny, nx)
        Gain (e-/DN) and two-read read noise (DN).
    nframes : int
        Frames per group.
    rules : list of (float, int)
        ``(threshold_dn, ngroups_after)`` pairs: a jump whose size above the
        pixel's median difference is at least ``threshold_dn`` DN has the next
        ``ngroups_after`` groups flagged too (unless SATURATED or
        DO_NOT_USE).  Rules with ``ngroups_after <= 0`` are ignored.
    """
    rules = [(dn, n) for dn, n in rules if n > 0]
    nints, ngroups, ny, nx = groupdq.shape
    if not rules or ngroups < 3:
        return
    gain64 = np.asarray(gain, dtype=np.float64)
    electrons = data * np.asarray(gain, dtype=np.float32)
    bad = (groupdq & (SATURATED | DO_NOT_USE)) != 0
    diffs = np.diff(np.where(bad, np.float32(np.nan), electrons), axis=1)
    rn2 = (np.asarray(readnoise, dtype=np.float64) * gain64) ** 2 / nframes
    with np.errstate(invalid="ignore", divide="ignore"):
        median, _sigma = signed_median_diffs(
            diffs.reshape(nints, ngroups - 1, ny * nx), rn2.reshape(-1)
        )
        excess = diffs - median.reshape(ny, nx)
    jump = (groupdq & JUMP_DET) != 0
    add = np.zeros(groupdq.shape, dtype=bool)
    for threshold_dn, count in rules:
        big = np.zeros(groupdq.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            big[:, 1:] = jump[:, 1:] & (excess >= threshold_dn * gain64)
        for _ in range(min(count, ngroups - 2)):
            big[:, 1:] |= big[:, :-1]
        add |= big
    groupdq[add & ~bad] |= JUMP_DET
