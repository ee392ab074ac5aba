"""The optional per-segment results of the OLS fit (``save_opt``), pure numpy.

:func:`optional_results` recomputes, segment by segment, what the OLS fit of
:mod:`builtin_steps.ramp_fit.segments` uses (the same segments, one-group
rules, weighting classes and variances) and lays it out as the JWST
``fitopt`` product does:

* ``slope`` (DN/s), ``var_poisson`` and ``var_rnoise`` ((DN/s)^2) of every
  segment kept by the fit, in ramp order, ``(nints, max_segments, ny, nx)``;
* ``sigslope``, ``yint`` and ``sigyint``: the formal uncertainty of the
  per-group slope and the intercept (at group index 0 of the integration)
  of the optimally weighted fit with weights ``w_j / readnoise_e**2``
  (``readnoise_e`` the read noise of one group in electrons); a two-group
  segment has ``sigslope = sigyint = sqrt(2) * readnoise_e`` and the line
  through its two groups' values, a one-group segment zeros;
* ``weights``: ``1 / (var_poisson + var_rnoise)**2`` per segment;
* ``pedestal`` ``(nints, ny, nx)``: the first group extrapolated to zero
  time with the integration's rate,
  ``data[0] - rate * frame_time * ((nframes + 1) / 2 + drop_frames1)``,
  0 where the first group is saturated or the rate is NaN;
* ``crmag`` ``(nints, max_jumps, ny, nx)``: the group-to-group difference (DN)
  at every group flagged JUMP_DET, in ramp order (one plane of zeros when
  there is no jump).

Unused entries are 0.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.ramp_fit.segments import (
    Times,
    find_segments,
    median_rate,
    prepare_integration,
    segment_snr,
)
from builtin_steps.ramp_fit.weights import POWERS, power_index, slope_coefficients

__all__ = ["optional_results", "SEGMENT_ARRAYS"]

SATURATED = 2
JUMP_DET = 4

#: The per-segment arrays of the product.
SEGMENT_ARRAYS = ("slope", "sigslope", "var_poisson", "var_rnoise", "yint", "sigyint", "weights")

_BLOCK_PIXELS = 16384


def optional_results(
    data: np.ndarray,
    groupdq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    ints_rate: np.ndarray,
    *,
    group_time: float,
    frame_time: float,
    nframes: int = 1,
    drop_frames1: int = 0,
    suppress_one_group: bool = True,
    zeroframe: np.ndarray | None = None,
    dark_current: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Compute the arrays of the ``fitopt`` product.

    Parameters
    ----------
    data, groupdq : ndarray, shape (nints, ngroups, ny, nx)
        The ramps and group flags the fit used.
    gain, readnoise : ndarray, shape (ny, nx)
        Gain (e-/DN) and two-frame read noise (DN), as for the fit.
    ints_rate : ndarray, shape (nints, ny, nx)
        The per-integration rates of the fit (for the pedestal).
    group_time, frame_time : float
        Seconds.
    nframes, drop_frames1 : int, optional
        Frames per group and frames dropped at the start of the integration.
    suppress_one_group : bool, optional
        As for the fit.
    zeroframe : ndarray, shape (nints, ny, nx), optional
        ZEROFRAME values, as for the fit.
    dark_current : ndarray, shape (ny, nx), optional
        Average dark current (DN/s), as for the fit.

    Returns
    -------
    dict of str to ndarray
        :data:`SEGMENT_ARRAYS`, ``pedestal`` and ``crmag`` (float32).
    """
    nints, ngroups, ny, nx = data.shape
    npix = ny * nx
    times = Times(group_time, frame_time, nframes)
    table = slope_coefficients(ngroups, group_time)
    suppress = bool(suppress_one_group) and ngroups > 1
    flat_data = data.reshape(nints, ngroups, npix)
    flat_gdq = groupdq.reshape(nints, ngroups, npix)
    flat_gain = np.asarray(gain).reshape(npix)
    flat_rn = np.asarray(readnoise).reshape(npix)
    flat_zf = None if zeroframe is None else zeroframe.reshape(nints, npix)
    flat_dark = None if dark_current is None else np.asarray(dark_current).reshape(npix)
    blocks = []
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for lo in range(0, npix, _BLOCK_PIXELS):
            sl = slice(lo, min(npix, lo + _BLOCK_PIXELS))
            blocks.append(_block_results(
                flat_data[..., sl], flat_gdq[..., sl], flat_gain[sl], flat_rn[sl],
                None if flat_zf is None else flat_zf[:, sl],
                None if flat_dark is None else flat_dark[sl], table, times, suppress,
            ))
    nseg = max(1, max(b["slope"].shape[1] for b in blocks))
    ncr = max(1, max(b["crmag"].shape[1] for b in blocks))
    out = {name: np.zeros((nints, nseg, npix), np.float32) for name in SEGMENT_ARRAYS}
    out["crmag"] = np.zeros((nints, ncr, npix), np.float32)
    lo = 0
    for block in blocks:
        size = block["slope"].shape[-1]
        for name, values in block.items():
            out[name][:, : values.shape[1], lo : lo + size] = values
        lo += size
    result = {name: arr.reshape(nints, -1, ny, nx) for name, arr in out.items()}
    first = data[:, 0].astype(np.float64)
    offset = frame_time * ((nframes + 1) / 2.0 + drop_frames1)
    pedestal = first - ints_rate.astype(np.float64) * offset
    bad = ((groupdq[:, 0] & SATURATED) != 0) | ~np.isfinite(pedestal)
    result["pedestal"] = np.where(bad, 0.0, pedestal).astype(np.float32)
    return result


def _block_results(data, gdq, gain, rn, zframe, dark, table, times, suppress):
    nints, ngroups, npix = data.shape
    gain = gain.astype(np.float64)
    rn_group = rn.astype(np.float64) / np.sqrt(2.0 * times.nframes)
    dark = np.zeros(npix) if dark is None else np.nan_to_num(dark.astype(np.float64))
    prepared = [
        prepare_integration(data[i], gdq[i], None if zframe is None else zframe[i], suppress)
        for i in range(nints)
    ]
    mrate = sum(median_rate(prep, times) for prep in prepared) / nints
    per_int = [_segments(prep, gain, rn_group, dark, mrate, table, times) for prep in prepared]
    crs = [_jumps(data[i], gdq[i]) for i in range(nints)]
    nseg = max(p["slope"].shape[0] for p in per_int)
    ncr = max(c.shape[0] for c in crs)
    result = {name: np.zeros((nints, nseg, npix), np.float32) for name in SEGMENT_ARRAYS}
    result["crmag"] = np.zeros((nints, ncr, npix), np.float32)
    for i, (segs, cr) in enumerate(zip(per_int, crs)):
        for name, values in segs.items():
            result[name][i, : values.shape[0]] = values
        result["crmag"][i, : cr.shape[0]] = cr
    return result


def _compress(flags: np.ndarray, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pack the values at the True entries of `flags` (per pixel, in order) to the front."""
    index = np.cumsum(flags, axis=0) - 1
    count = int(flags.sum(axis=0).max()) if flags.size else 0
    g, pix = np.nonzero(flags)
    packed = {}
    for name, arr in values.items():
        out = np.zeros((count, flags.shape[1]), np.float32)
        out[index[g, pix], pix] = arr[g, pix]
        packed[name] = out
    return packed


def _jumps(values: np.ndarray, gdq: np.ndarray) -> np.ndarray:
    """Jump magnitudes (DN) at the JUMP_DET groups, packed in ramp order."""
    hit = (gdq & JUMP_DET) != 0
    hit[0] = False
    step = np.zeros(values.shape)
    step[1:] = values[1:].astype(np.float64) - values[:-1]
    return _compress(hit, {"crmag": step})["crmag"]


def _segments(prep, gain, rn_group, dark, mrate, table, times):
    """Per-segment values of one integration, packed in ramp order."""
    values = prep.values
    ngroups, npix = values.shape
    member, start, end, first = find_segments(prep)
    length = np.zeros((ngroups, npix), dtype=np.int64)
    pclass = np.zeros((ngroups, npix), dtype=np.int64)
    cols = np.arange(npix)
    rn_e = rn_group * gain
    carry_len = np.zeros(npix, dtype=np.int64)
    carry_cls = np.zeros(npix, dtype=np.int64)
    for g in range(ngroups - 1, -1, -1):
        carry = member[g] & ~end[g] if g < ngroups - 1 else np.zeros(npix, dtype=bool)
        signal = (values[g].astype(np.float64) - values[first[g], cols]) * gain
        cls = power_index(segment_snr(signal, rn_e**2 + signal, gain))
        carry_len = np.where(end[g], g - first[g] + 1, np.where(carry, carry_len, 0))
        carry_cls = np.where(end[g], cls, np.where(carry, carry_cls, 0))
        length[g], pclass[g] = carry_len, carry_cls
    keep = member & (length >= 2)
    singles = length.max(axis=0) == 1
    if singles.any():
        only = np.zeros_like(member)
        only[np.argmax(member, axis=0), cols] = True
        keep |= only & member & singles[None, :]
    keep &= ~prep.sat0[None, :]

    timing = np.where(prep.is_0th, times.one_group, np.where(prep.is_zf, times.frame, times.group))
    sums = np.zeros((6, npix))  # slope numerator, sw, swx, swxx, swy, swxy
    stored = {name: np.zeros((ngroups, npix)) for name in SEGMENT_ARRAYS}
    for g in range(ngroups):
        sums[:, start[g]] = 0.0
        n = length[g]
        j = g - first[g].astype(np.int64)
        coef = table[np.clip(n, 0, ngroups), pclass[g], np.clip(j, 0, ngroups - 1)]
        y = np.nan_to_num(values[g].astype(np.float64))
        mid = (n - 1) / 2.0
        w = np.abs((j - mid) / np.where(mid > 0, mid, 1.0)) ** POWERS[pclass[g]] / rn_e**2
        kept = keep[g]
        for k, term in enumerate((coef * y, w, w * g, w * g * g, w * y, w * y * g)):
            sums[k] += np.where(kept, term, 0.0)
        last = kept & end[g]
        if last.any():
            _store_segment(stored, g, last, n, sums, y, values, first[g], cols, gain, rn_group,
                           rn_e, dark, mrate, timing, times)
    return _compress(keep & end, stored)


def _store_segment(stored, g, last, n, sums, y, values, start, cols, gain, rn_group, rn_e,
                   dark, mrate, timing, times):
    """Write the values of the segments ending at group `g` into `stored`."""
    n_f = n.astype(np.float64)
    single = n == 1
    pair = n == 2
    numerator, sw, swx, swxx, swy, swxy = sums
    den = sw * swxx - swx * swx
    t_seg = np.where(single, timing, times.group)
    slope = np.where(single, y / timing, numerator)
    var_r = np.where(single, 2.0 * (rn_group / timing) ** 2,
                     12.0 * (rn_group / times.group) ** 2 / (n_f**3 - n_f))
    var_r = np.where(~single & ~(gain > 0.0), 0.0, var_r)
    var_p = np.where(mrate > 0.0, mrate + dark, dark) / (t_seg * gain * np.maximum(n_f - 1.0, 1.0))
    first_value = np.nan_to_num(values[start, cols].astype(np.float64))
    second_read = start + 1.0
    pair_yint = y * (1.0 - second_read) + first_value * second_read
    sigslope = np.where(pair, np.sqrt(2.0) * rn_e, np.sqrt(sw / den))
    yint = np.where(pair, pair_yint, (swxx * swy - swx * swxy) / den)
    sigyint = np.where(pair, np.sqrt(2.0) * rn_e, np.sqrt(swxx / den))
    fields = {
        "slope": slope,
        "var_poisson": var_p,
        "var_rnoise": var_r,
        "sigslope": np.where(single, 0.0, sigslope),
        "yint": np.where(single, 0.0, yint),
        "sigyint": np.where(single, 0.0, sigyint),
        "weights": 1.0 / (var_p + var_r) ** 2,
    }
    for name, value in fields.items():
        stored[name][g] = np.where(last, value, 0.0)
