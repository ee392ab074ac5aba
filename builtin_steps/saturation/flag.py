"""Saturation kernel: threshold test, forward propagation, neighbour growth.

Follows the JWST algorithm: a group at or above the pixel's threshold is
SATURATED together with every later group; the flag grows to the
``n_pix_grow_sat`` neighbours of each flagged pixel; groups at or below zero
are flagged AD_FLOOR and DO_NOT_USE; pixels without a usable threshold (NaN or
NO_SAT_CHECK in the reference) are never flagged. For frame-averaged groups, a
backward pass flags groups that saturated part-way through (DO_NOT_USE).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from builtin_steps._common import AD_FLOOR, DO_NOT_USE, NO_SAT_CHECK, SATURATED

__all__ = ["prepare_threshold", "grow", "flag_saturation", "read_pattern"]


def read_pattern(ngroups: int, nframes: int, groupgap: int) -> list[list[int]]:
    """Return the 1-based frame numbers read into each group.

    Parameters
    ----------
    ngroups, nframes, groupgap : int
        Readout parameters (``NGROUPS``, ``NFRAMES``, ``GROUPGAP``).

    Returns
    -------
    list of list of int
        ``ngroups`` lists of ``nframes`` frame numbers.
    """
    step = nframes + groupgap
    return [[g * step + k + 1 for k in range(nframes)] for g in range(ngroups)]


def prepare_threshold(
    threshold: np.ndarray,
    threshold_dq: np.ndarray | None,
    *,
    atod_limit: float = 65535.0,
    no_sat_check: int = NO_SAT_CHECK,
    copy: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the usable thresholds and the reference DQ to OR into PIXELDQ.

    Parameters
    ----------
    threshold : numpy.ndarray
        ``(ny, nx)`` saturation thresholds (DN).
    threshold_dq : numpy.ndarray or None
        ``(ny, nx)`` DQ of the saturation reference.
    atod_limit : float
        Largest value of the A/D converter; pixels without a check get a
        threshold above it.
    no_sat_check : int
        Value of the NO_SAT_CHECK bit.
    copy : bool
        If False, the inputs are updated in place when they already are
        float32 / uint32 (no full-frame copies; for arrays the caller owns).

    Returns
    -------
    thresholds : numpy.ndarray
        float32 thresholds with NaN and NO_SAT_CHECK pixels set to ``atod_limit + 1``.
    dq : numpy.ndarray
        uint32 reference DQ with NO_SAT_CHECK added where the threshold is NaN.
    """
    thr = np.array(threshold, dtype=np.float32, copy=copy)
    dq = (
        np.zeros(thr.shape, dtype=np.uint32)
        if threshold_dq is None
        else np.array(threshold_dq, dtype=np.uint32, copy=copy)
    )
    nan = np.isnan(thr)
    dq[nan] |= np.uint32(no_sat_check)
    unchecked = (dq & np.uint32(no_sat_check)) != 0
    thr[unchecked] = atod_limit + 1
    return thr, dq


def grow(mask: np.ndarray, n: int) -> np.ndarray:
    """Dilate a boolean mask with a ``(2n+1) x (2n+1)`` box on its last two axes.

    Parameters
    ----------
    mask : numpy.ndarray
        Boolean array ``(..., ny, nx)``.
    n : int
        Half-width of the box; 0 returns a copy.

    Returns
    -------
    numpy.ndarray
        The dilated mask (a new array).
    """
    out = mask.copy()
    if n <= 0:
        return out
    for axis in (-2, -1):
        src = out.copy()
        size = src.shape[axis]
        for shift in range(1, min(n, size - 1) + 1):
            lo = [slice(None)] * src.ndim
            hi = [slice(None)] * src.ndim
            lo[axis] = slice(0, size - shift)
            hi[axis] = slice(shift, size)
            out[tuple(lo)] |= src[tuple(hi)]
            out[tuple(hi)] |= src[tuple(lo)]
    return out


def flag_saturation(
    data: np.ndarray,
    groupdq: np.ndarray,
    threshold: np.ndarray,
    *,
    n_pix_grow_sat: int = 1,
    frames: Sequence[Sequence[float]] | None = None,
    zeroframe: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    saturated: int = SATURATED,
    ad_floor: int = AD_FLOOR,
    do_not_use: int = DO_NOT_USE,
) -> tuple[int, int]:
    """Flag saturation and the A/D floor in ``groupdq``, in place.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` raw ramp (DN).
    groupdq : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` uint8 group DQ; modified in place.
    threshold : numpy.ndarray
        ``(ny, nx)`` thresholds from :func:`prepare_threshold`.
    n_pix_grow_sat : int
        Neighbour layers flagged around each saturated pixel.
    frames : sequence of sequences, optional
        Frame numbers of each group (:func:`read_pattern`); enables the
        backward pass for frame-averaged groups.
    zeroframe : numpy.ndarray, optional
        ``(nints, ny, nx)`` zero frame; saturated or floor values are set to 0.
    bias : numpy.ndarray, optional
        ``(ny, nx)`` superbias (DN; NaN counts as 0), used by the group-2 test
        of frame-averaged groups to extrapolate the bias-free signal of the
        first group; None for no bias.
    saturated, ad_floor, do_not_use : int
        DQ bit values.

    Returns
    -------
    tuple of int
        Number of pixels saturated in some group, and number of pixels below
        the A/D floor in some group.
    """
    nints, ngroups = data.shape[:2]
    sat_bit = groupdq.dtype.type(saturated)
    floor_bits = groupdq.dtype.type(ad_floor | do_not_use)
    dnu_bit = groupdq.dtype.type(do_not_use)
    unchecked = threshold > np.float32(65535.0)
    dilution = _dilution(frames, ngroups)
    any_sat = np.zeros(threshold.shape, dtype=bool)
    any_floor = np.zeros(threshold.shape, dtype=bool)
    for i in range(nints):
        reached = np.zeros(threshold.shape, dtype=bool)
        for g in range(ngroups):
            plane = data[i, g]
            reached |= plane >= threshold
            flagged = reached | ((groupdq[i, g] & sat_bit) != 0)
            if flagged.any():
                _or_where(groupdq[i, g], grow(flagged, n_pix_grow_sat), sat_bit)
            floor = plane <= 0
            if floor.any():
                _or_where(groupdq[i, g], floor, floor_bits)
                any_floor |= floor
        any_sat |= (groupdq[i, -1] & sat_bit) != 0
        if dilution is not None:
            _backward_pass(data[i], groupdq[i], threshold, unchecked, dilution, n_pix_grow_sat, sat_bit, dnu_bit)
            _second_group_pass(data[i], groupdq[i], threshold, frames, sat_bit, dnu_bit, bias)
        if zeroframe is not None:
            plane = zeroframe[i]
            bad = grow(plane >= threshold, n_pix_grow_sat) | (plane <= 0)
            plane[bad] = 0
    return int(any_sat.sum()), int(any_floor.sum())


def _or_where(dq: np.ndarray, mask: np.ndarray, bits) -> None:
    """``dq[mask] |= bits`` without a boolean-index scatter."""
    np.bitwise_or(dq, mask.view(np.uint8) * dq.dtype.type(bits), out=dq)


def _dilution(frames: Sequence[Sequence[float]] | None, ngroups: int) -> list[float] | None:
    """Per-group factor mean(frames) / last frame, or None if all are 1."""
    if frames is None or len(frames) < ngroups:
        return None
    factors = [float(np.mean(f)) / float(f[-1]) for f in frames[:ngroups]]
    if all(f == 1.0 for f in factors):
        # one frame per group: both extra passes can flag nothing new
        return None
    return factors


def _backward_pass(data, groupdq, threshold, unchecked, dilution, n_grow, sat_bit, dnu_bit):
    """Flag groups that saturated part-way through their frames (DO_NOT_USE)."""
    ngroups = data.shape[0]
    for g in range(ngroups - 2, -1, -1):
        if dilution[g] == 1.0:
            continue
        thr = np.where(unchecked, threshold, threshold * np.float32(dilution[g]))
        this = groupdq[g]
        cand = (
            (data[g] >= thr)
            & ((this & sat_bit) == 0)
            & ((this & dnu_bit) == 0)
            & ((groupdq[g + 1] & sat_bit) != 0)
        )
        if cand.any():
            _or_where(this, grow(cand, n_grow), dnu_bit)


def _second_group_pass(data, groupdq, threshold, frames, sat_bit, dnu_bit, bias=None):
    """Flag group 2 (DO_NOT_USE) when it saturated part-way.

    Three conditions: the first group's bias-free signal, extrapolated to the
    last frame of group 3, stays below the threshold (no steady source would
    saturate by then); the rise from group 1 to group 2 exceeds the room left
    below the threshold divided by the frames averaged in group 2 (a jump to
    saturation in its last frame); and group 3 is saturated while group 2 is
    not flagged yet.
    """
    if data.shape[0] <= 2:
        return
    b = np.float32(0.0) if bias is None else np.nan_to_num(bias.astype(np.float32, copy=False), nan=0.0)
    first = (data[0] - b) / np.float32(np.mean(frames[0])) * np.float32(frames[2][-1]) + b
    rise = data[1] - data[0]
    mask = (first < threshold) & (rise > (threshold - data[0]) / np.float32(len(frames[1])))
    mask &= ((groupdq[2] & sat_bit) != 0) & ((groupdq[1] & sat_bit) == 0)
    _or_where(groupdq[1], mask, dnu_bit)
