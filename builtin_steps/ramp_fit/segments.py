"""Fitting one integration: segments of good groups, their slopes and variances.

The functions work on one integration of a block of pixels, with the group
axis first (``values`` of shape ``(ngroups, npix)``).  Ramps whose groups are
all good take :func:`fit_clean` (one segment, no bookkeeping); the others go
through :func:`fit_segments`, which finds the segments group by group with
whole-array operations (no loop over pixels) and combines them with
read-noise weights.  :func:`prepare_integration` applies the group flags and
special cases and :func:`median_rate` gives the median first difference used
for the Poisson variance.  :mod:`builtin_steps.ramp_fit.ols` drives them.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.ramp_fit.weights import POWERS, power_index

__all__ = [
    "Times",
    "IntegrationState",
    "prepare_integration",
    "median_rate",
    "median_of_rows",
    "nan_median",
    "find_segments",
    "fit_integration",
    "fit_clean",
    "fit_segments",
    "segment_snr",
    "subset",
]

DO_NOT_USE = 1
SATURATED = 2
JUMP_DET = 4
PERSISTENCE = 32
#: The group flags a fit looks at: PERSISTENCE alone leaves a group usable (as in JWST).
_FIT_FLAGS = np.uint8(0xFF & ~PERSISTENCE)
POWER_CLASSES = POWERS.size


def segment_snr(signal: np.ndarray, den: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Signal-to-noise ratio of segments, ``signal / sqrt(den)``.

    Parameters
    ----------
    signal : ndarray
        Last minus first value of each segment, in electrons.
    den : ndarray
        ``readnoise_e**2 + signal``: the variance of `signal`.
    gain : ndarray
        Gain per pixel; a zero gain gives a zero S/N.

    Returns
    -------
    ndarray
        The S/N, 0 where `den` is not positive or the gain is zero.
    """
    ok = (den > 0.0) & (gain != 0.0)
    return np.where(ok, signal / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)


class Times:
    """The exposure timings used by the fit.

    Parameters
    ----------
    group_time, frame_time : float
        Seconds between groups and between frames.
    nframes : int
        Frames averaged per group.

    Attributes
    ----------
    group, frame : float
        The group and frame times.
    nframes : int
        Frames per group.
    one_group : float
        Effective exposure time of the first group,
        ``(nframes + 1) * frame_time / 2``.
    """

    def __init__(self, group_time: float, frame_time: float, nframes: int) -> None:
        self.group = float(group_time)
        self.frame = float(frame_time)
        self.nframes = int(nframes)
        self.one_group = (self.nframes + 1.0) * self.frame / 2.0


def median_of_rows(rows: np.ndarray) -> np.ndarray:
    """Median over the first axis of a small, NaN-free ``(m, npix)`` array.

    An odd-even transposition sorting network on whole rows: a few dozen
    ``minimum``/``maximum`` calls on contiguous rows, much faster than
    ``np.partition`` along a non-contiguous axis.

    Parameters
    ----------
    rows : ndarray, shape (m, npix)
        Values without NaN.

    Returns
    -------
    ndarray of float64, shape (npix,)
        The median of each column.
    """
    m = rows.shape[0]
    work = [rows[k].copy() for k in range(m)]
    for rnd in range(m):
        for k in range(rnd % 2, m - 1, 2):
            low = np.minimum(work[k], work[k + 1])
            np.maximum(work[k], work[k + 1], out=work[k + 1])
            work[k] = low
    return 0.5 * (work[(m - 1) // 2].astype(np.float64) + work[m // 2])


class IntegrationState:
    """One integration of a block of pixels, ready for fitting.

    Attributes (set by :func:`prepare_integration`, arrays over pixels or
    ``(ngroups, npix)``): ``values`` (group values, ZEROFRAME substituted),
    ``work`` (group flags without PERSISTENCE, suppressed ramps marked DO_NOT_USE), ``good``
    (usable groups), ``bad`` (DO_NOT_USE or SATURATED groups), ``jump`` (any
    JUMP_DET), ``any_sat``, ``all_sat``, ``sat0`` (first group saturated),
    ``no_data`` (no usable group), ``is_0th`` (only the first group is good,
    one-group ramps allowed) and ``is_zf`` (the ZEROFRAME value is used).
    """


def prepare_integration(
    data: np.ndarray, gdq: np.ndarray, zframe: np.ndarray | None, suppress: bool
) -> IntegrationState:
    """Apply the group flags and the one-group special cases to an integration.

    Parameters
    ----------
    data : ndarray, shape (ngroups, npix)
        Group values in DN.
    gdq : ndarray of uint8, shape (ngroups, npix)
        Group flags.
    zframe : ndarray, shape (npix,), or None
        ZEROFRAME values (used only when `suppress` is False).
    suppress : bool
        Treat ramps with a single good group as having none.

    Returns
    -------
    IntegrationState
    """
    prep = IntegrationState()
    ngroups = data.shape[0]
    work = gdq & _FIT_FLAGS
    good = work == 0
    ngood = good.sum(axis=0)
    if suppress:
        one = ngood == 1
        if one.any():
            work[:, one] |= DO_NOT_USE
            good[:, one] = False
            ngood = np.where(one, 0, ngood)
    values = data
    prep.is_0th = np.zeros(ngood.shape, dtype=bool)
    prep.is_zf = np.zeros(ngood.shape, dtype=bool)
    if not suppress:
        prep.is_0th = (ngood == 1) & good[0]
        if zframe is not None:
            prep.is_zf = (ngood == 0) & (zframe != 0) & np.isfinite(zframe)
            if prep.is_zf.any():
                values = data.copy()
                values[0] = np.where(prep.is_zf, zframe, data[0])
                work[0] = np.where(prep.is_zf, 0, work[0])
                good[0] |= prep.is_zf
    bad = (work & (DO_NOT_USE | SATURATED)) != 0
    prep.values = values
    prep.work = work
    prep.good = good
    prep.jump = ((work & JUMP_DET) != 0).any(axis=0)
    sat = (gdq & SATURATED) != 0
    prep.any_sat = sat.any(axis=0)
    prep.sat0 = (work[0] & SATURATED) != 0
    prep.no_data = (bad.sum(axis=0) == ngroups) | prep.sat0
    prep.all_sat = (((work & SATURATED) != 0).sum(axis=0) == ngroups) | prep.sat0
    prep.bad = bad
    return prep


def median_rate(prep: IntegrationState, times: Times) -> np.ndarray:
    """Median first difference of one integration, in DN/s.

    Differences touching a DO_NOT_USE or SATURATED group, or ending on a
    JUMP_DET group, are left out.  A ramp with no usable difference gives its
    first group over the group time, the one-group and ZEROFRAME cases their
    value over the matching time, and 0 when nothing is usable.

    Parameters
    ----------
    prep : IntegrationState
        From :func:`prepare_integration`.
    times : Times
        Exposure timings.

    Returns
    -------
    ndarray of float64, shape (npix,)
    """
    ngroups = prep.values.shape[0]
    values = prep.values
    if ngroups == 1:
        med = np.where(prep.bad[0], np.nan, values[0] / times.one_group)
    else:
        diffs = values[1:].astype(np.float64) - values[:-1]
        unusable = prep.bad[1:] | prep.bad[:-1] | ((prep.work[1:] & JUMP_DET) != 0)
        diffs[unusable] = np.nan
        med = nan_median(diffs) / times.group
        first = np.where(prep.bad[0], np.nan, values[0] / times.group)
        med = np.where(np.isnan(med), first, med)
        med = np.where(prep.is_0th, values[0] / times.one_group, med)
    med = np.where(prep.is_zf, prep.values[0] / times.frame, med)
    return np.where(np.isnan(med), 0.0, med)


def nan_median(values: np.ndarray) -> np.ndarray:
    """Median along the first axis, ignoring NaN.

    Parameters
    ----------
    values : ndarray, shape (m, npix)

    Returns
    -------
    ndarray of float64, shape (npix,)
        NaN where a column has no finite value.
    """
    srt = np.sort(values, axis=0)
    count = np.isfinite(srt).sum(axis=0)
    lo = np.maximum(count - 1, 0) // 2
    hi = count // 2
    a = np.take_along_axis(srt, lo[None], axis=0)[0]
    b = np.take_along_axis(srt, np.minimum(hi, srt.shape[0] - 1)[None], axis=0)[0]
    return np.where(count > 0, 0.5 * (a.astype(np.float64) + b), np.nan)


def find_segments(prep: IntegrationState) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Locate the segments of good groups in every ramp of the block.

    A segment is a run of good groups; a group flagged JUMP_DET only, followed
    by a good group, starts the next segment.

    Parameters
    ----------
    prep : IntegrationState
        From :func:`prepare_integration`.

    Returns
    -------
    member, start, end : ndarray of bool, shape (ngroups, npix)
        Groups inside a segment, first groups and last groups of segments.
    first : ndarray of int16, shape (ngroups, npix)
        For every group, the index of the first group of its segment.
    """
    work, good = prep.work, prep.good
    ngroups, npix = good.shape
    jump_only = work == JUMP_DET
    member = good.copy()
    member[:-1] |= jump_only[:-1] & good[1:]
    start = member.copy()
    start[1:] &= ~member[:-1] | jump_only[1:]
    end = member.copy()
    end[:-1] &= ~member[1:] | start[1:]
    first = np.empty((ngroups, npix), dtype=np.int16)
    current = np.zeros(npix, dtype=np.int16)
    for g in range(ngroups):
        current = np.where(start[g], g, current).astype(np.int16)
        first[g] = current
    return member, start, end, first


def fit_integration(prep, gain, rn_group, dark, mrate, table, times):
    """Fit one integration: :func:`fit_clean` or :func:`fit_segments` per pixel.

    Pixels whose groups are all good form a single full-length segment and
    take the short path; the others go through the general segment logic.

    Parameters
    ----------
    prep : IntegrationState
        From :func:`prepare_integration`.
    gain, rn_group, dark, mrate : ndarray, shape (npix,)
        Gain (e-/DN, float64), read noise of one group (DN), dark current
        and median rate (DN/s).
    table : ndarray
        Flattened slope coefficients from
        :func:`builtin_steps.ramp_fit.weights.slope_coefficients`.
    times : Times
        Exposure timings.

    Returns
    -------
    tuple of ndarray, each shape (npix,)
        ``inv_p``, ``inv_r``, ``inv_e``: the sums over segments of
        ``1 / var_p`` (where positive), ``1 / var_r`` and
        ``1 / (var_p + var_r)``; ``inv_w``: the sum of the weights of the
        mean; ``num``: the weighted sum of the segment slopes (the slope is
        ``num / inv_w``).
    """
    ngroups, npix = prep.values.shape
    clean = prep.good.all(axis=0) if ngroups >= 2 else np.zeros(npix, dtype=bool)
    if clean.all():
        return fit_clean(prep.values, gain, rn_group, dark, mrate, table, times)
    sums = [np.zeros(npix) for _ in range(5)]
    if clean.any():
        part = fit_clean(prep.values[:, clean], gain[clean], rn_group[clean], dark[clean],
                          mrate[clean], table, times)
        for total, value in zip(sums, part):
            total[clean] = value
    rest = ~clean
    part = fit_segments(subset(prep, rest), gain[rest], rn_group[rest], dark[rest],
                         mrate[rest], table, times)
    for total, value in zip(sums, part):
        total[rest] = value
    return tuple(sums)


def subset(prep: IntegrationState, mask: np.ndarray) -> IntegrationState:
    """Return the integration state restricted to the pixels in `mask`.

    Parameters
    ----------
    prep : IntegrationState
        The state of a block of pixels.
    mask : ndarray of bool, shape (npix,)
        Pixels to keep.

    Returns
    -------
    IntegrationState
    """
    sub = IntegrationState()
    for name, value in vars(prep).items():
        setattr(sub, name, value[..., mask])
    return sub


def fit_clean(values, gain, rn_group, dark, mrate, table, times):
    """Fit ramps whose groups are all good: one segment of every group.

    Parameters
    ----------
    values : ndarray, shape (ngroups, npix)
        Group values in DN.
    gain, rn_group, dark, mrate : ndarray, shape (npix,)
        Gain (e-/DN, float64), read noise of one group (DN), dark current
        and median rate (DN/s).
    table : ndarray
        Flattened slope coefficients from
        :func:`builtin_steps.ramp_fit.weights.slope_coefficients`.
    times : Times
        Exposure timings.

    Returns
    -------
    tuple of ndarray, each shape (npix,)
        ``inv_p``, ``inv_r``, ``inv_e``: the sums over segments of
        ``1 / var_p`` (where positive), ``1 / var_r`` and
        ``1 / (var_p + var_r)``; ``inv_w``: the sum of the weights of the
        mean; ``num``: the weighted sum of the segment slopes (the slope is
        ``num / inv_w``).
    """
    ngroups, npix = values.shape
    n = float(ngroups)
    y_first = values[0].astype(np.float64)
    signal = (values[-1] - y_first) * gain
    den = (rn_group * gain) ** 2 + signal
    cls = power_index(segment_snr(signal, den, gain))
    coef = table.reshape(-1, POWER_CLASSES, max(ngroups, 1))[ngroups]
    slope = np.zeros(npix)
    for g in range(ngroups):
        slope += np.take(coef[:, g], cls) * values[g]
    var_r = 12.0 * (rn_group / times.group) ** 2 / (n**3 - n)
    var_r = np.where(gain > 0.0, var_r, 0.0)
    var_p = np.where(mrate > 0.0, mrate + dark, dark) / (times.group * gain * (n - 1.0))
    inv_e = 1.0 / (var_p + var_r)
    inv_p = np.where(var_p > 0.0, 1.0 / var_p, 0.0)
    inv_w = np.where(var_r > 0.0, 1.0 / var_r, inv_e)
    return inv_p, 1.0 / var_r, inv_e, inv_w, slope * inv_w


def fit_segments(prep, gain, rn_group, dark, mrate, table, times):
    """Fit ramps with flagged groups, segment by segment.

    One-group segments are dropped when a longer segment exists, and only
    the first is kept otherwise; a ramp whose first group is saturated has
    no segment.

    Parameters
    ----------
    prep : IntegrationState
        From :func:`prepare_integration`.
    gain, rn_group, dark, mrate : ndarray, shape (npix,)
        Gain (e-/DN, float64), read noise of one group (DN), dark current
        and median rate (DN/s).
    table : ndarray
        Flattened slope coefficients from
        :func:`builtin_steps.ramp_fit.weights.slope_coefficients`.
    times : Times
        Exposure timings.

    Returns
    -------
    tuple of ndarray, each shape (npix,)
        ``inv_p``, ``inv_r``, ``inv_e``: the sums over segments of
        ``1 / var_p`` (where positive), ``1 / var_r`` and
        ``1 / (var_p + var_r)``; ``inv_w``: the sum of the weights of the
        mean; ``num``: the weighted sum of the segment slopes (the slope is
        ``num / inv_w``).
    """
    values = prep.values
    ngroups, npix = values.shape
    member, _start, end, first = find_segments(prep)

    # Length and weighting class of each segment, known at its last group,
    # then carried back to every group of the segment.
    length = np.zeros((ngroups, npix), dtype=np.int16)
    pclass = np.zeros((ngroups, npix), dtype=np.int8)
    rn_e2 = (rn_group * gain) ** 2
    next_len = np.zeros(npix, dtype=np.int16)
    next_cls = np.zeros(npix, dtype=np.int8)
    cols = np.arange(npix)
    for g in range(ngroups - 1, -1, -1):
        if g < ngroups - 1:
            carry = member[g] & ~end[g]
        else:
            carry = np.zeros(npix, dtype=bool)
        seg_len = (g - first[g] + 1).astype(np.int16)
        y_first = values[first[g], cols].astype(np.float64)
        signal = (values[g].astype(np.float64) - y_first) * gain
        den = rn_e2 + signal
        cls = power_index(segment_snr(signal, den, gain))
        next_len = np.where(end[g], seg_len, np.where(carry, next_len, 0)).astype(np.int16)
        next_cls = np.where(end[g], cls, np.where(carry, next_cls, 0)).astype(np.int8)
        length[g] = next_len
        pclass[g] = next_cls

    longest = length.max(axis=0)
    keep = member & (length >= 2)
    singles = longest == 1
    if singles.any():
        first_member = np.argmax(member, axis=0)
        only = np.zeros_like(member)
        only[first_member, cols] = True
        keep |= only & member & singles[None, :]
    keep &= ~prep.sat0[None, :]

    timing = np.where(prep.is_0th, times.one_group, np.where(prep.is_zf, times.frame, times.group))
    width = max(ngroups, 1)
    inv_p = np.zeros(npix)
    inv_r = np.zeros(npix)
    inv_e = np.zeros(npix)
    inv_w = np.zeros(npix)
    num = np.zeros(npix)
    for g in range(ngroups):
        kept = keep[g]
        n = length[g].astype(np.int64)
        n_f = n.astype(np.float64)
        single = n == 1
        t_seg = np.where(single, timing, times.group)
        var_r = np.where(
            single,
            2.0 * (rn_group / timing) ** 2,
            12.0 * (rn_group / times.group) ** 2 / (n_f**3 - n_f),
        )
        var_r = np.where(~single & ~(gain > 0.0), 0.0, var_r)
        pden = t_seg * gain * np.maximum(n_f - 1.0, 1.0)
        var_p = np.where(mrate > 0.0, mrate + dark, dark) / pden
        var_e = var_p + var_r
        j = g - first[g].astype(np.int64)
        flat_index = (n * POWER_CLASSES + pclass[g]) * width + j
        coef = np.where(
            single, 1.0 / timing, np.take(table, flat_index.clip(0, table.size - 1))
        )
        weight = np.where(rn_group > 0.0, 1.0 / var_r, 1.0 / var_e)
        num += np.where(kept, coef * values[g] * weight, 0.0)
        last = kept & end[g]
        inv_w += np.where(last, weight, 0.0)
        inv_e += np.where(last, 1.0 / var_e, 0.0)
        inv_r += np.where(last, 1.0 / var_r, 0.0)
        inv_p += np.where(last & (var_p > 0.0), 1.0 / var_p, 0.0)
    return inv_p, inv_r, inv_e, inv_w, num
