"""Ordinary least-squares ramp fitting with optimal weighting (pure numpy).

:func:`fit_ramps` turns ramps (``nints, ngroups, ny, nx``) into count rates in
DN/s, per integration and combined, following the JWST ``OLS_C`` algorithm:

* each integration's ramp is split into segments of good groups
  (GROUPDQ == 0); a segment ends before any flagged group, and a group that
  carries only JUMP_DET starts the segment that follows it;
* one-group segments are dropped when a longer segment exists, and only the
  first one is kept otherwise;
* each segment is fitted with the optimal weights of
  :mod:`builtin_steps.ramp_fit.weights`; its read-noise variance is
  ``12 R^2 / ((n^3 - n) t^2)`` and its Poisson variance
  ``(rate + dark) / (t gain (n - 1))``, where ``rate`` is the pixel's median
  first difference (averaged over integrations) and ``R`` the per-group read
  noise;
* segments combine into an integration, and integrations into the exposure,
  as a weighted mean with weights ``1 / var_rnoise`` (the read-noise variance,
  as the JWST 3.x pipeline does: weights that do not depend on the signal
  keep the mean unbiased); the variances combine by inverse variance,
  ``VAR_POISSON = 1 / sum(1 / var_p)``, ``VAR_RNOISE = 1 / sum(1 / var_r)``;
  ERR is ``sqrt(VAR_POISSON + VAR_RNOISE)`` for the exposure and
  ``sqrt(1 / sum(1 / (var_p + var_r)))`` for an integration.

The work is vectorised over pixels; the Python loops run over integrations,
groups and blocks of rows only.  Every pixel is computed independently, so
any split of the rows gives bit-identical results.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.ramp_fit.weights import POWERS, power_index, slope_coefficients

__all__ = ["fit_ramps"]

DO_NOT_USE = 1
SATURATED = 2
JUMP_DET = 4
NO_GAIN_VALUE = 524288
POWER_CLASSES = POWERS.size

#: Variances at or above this are reported as 0 (as the JWST pipeline does).
LARGE_VARIANCE_THRESHOLD = 1.0e6

#: Pixels per internal block: keeps temporaries small and in cache.
_BLOCK_PIXELS = 65536


def fit_ramps(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    group_time: float,
    frame_time: float,
    nframes: int = 1,
    suppress_one_group: bool = True,
    zeroframe: np.ndarray | None = None,
    dark_current: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Fit slopes to ramps with optimally weighted least squares.

    Parameters
    ----------
    data : ndarray, shape (nints, ngroups, ny, nx)
        Ramp values in DN (float32).
    groupdq : ndarray of uint8, same shape as `data`
        Group flags (DO_NOT_USE, SATURATED, JUMP_DET, ...).
    pixeldq : ndarray of uint32, shape (ny, nx)
        Pixel flags, copied into the output DQ.
    gain : ndarray, shape (ny, nx)
        Gain in electrons/DN; pixels with a non-positive or NaN gain get
        NO_GAIN_VALUE and DO_NOT_USE.
    readnoise : ndarray, shape (ny, nx)
        Read noise of a difference of two frames, in DN (the CRDS
        ``readnoise`` reference); one group's read noise is
        ``readnoise / sqrt(2 * nframes)``.
    group_time, frame_time : float
        Group and frame times in seconds.
    nframes : int, optional
        Frames averaged per group.
    suppress_one_group : bool, optional
        When True, an integration with a single good group gets no slope
        (all its groups are treated as DO_NOT_USE).  When False, a single
        good first group gives ``data / ((nframes + 1) * frame_time / 2)``,
        and a ZEROFRAME value (if given and non-zero) is used for
        integrations without any good group.
    zeroframe : ndarray, shape (nints, ny, nx), optional
        ZEROFRAME values in DN.
    dark_current : ndarray, shape (ny, nx), optional
        Average dark current in DN/s added to the Poisson variance.

    Returns
    -------
    dict of str to ndarray
        ``rate``, ``rate_dq``, ``rate_var_poisson``, ``rate_var_rnoise``,
        ``rate_err`` with shape (ny, nx) and ``ints``, ``ints_dq``,
        ``ints_var_poisson``, ``ints_var_rnoise``, ``ints_err`` with shape
        (nints, ny, nx).  Data are float32 (DN/s and (DN/s)^2), DQ uint32.
        Pixels without a valid slope are NaN with zero variances.
    """
    nints, ngroups, ny, nx = data.shape
    npix = ny * nx
    table = slope_coefficients(ngroups, group_time).reshape(-1)
    out = _allocate(nints, npix)

    flat_data = data.reshape(nints, ngroups, npix)
    flat_gdq = groupdq.reshape(nints, ngroups, npix)
    flat_pdq = pixeldq.reshape(npix)
    flat_gain = np.asarray(gain, dtype=np.float32).reshape(npix)
    flat_rn = np.asarray(readnoise, dtype=np.float32).reshape(npix)
    flat_zf = None if zeroframe is None else zeroframe.reshape(nints, npix)
    flat_dark = None if dark_current is None else np.asarray(dark_current).reshape(npix)

    times = _Times(group_time, frame_time, nframes)
    suppress = bool(suppress_one_group) and ngroups > 1
    step = max(1, _BLOCK_PIXELS // max(1, ngroups))

    def inputs(index):
        return (
            flat_data[:, :, index],
            flat_gdq[:, :, index],
            flat_pdq[index],
            flat_gain[index],
            flat_rn[index],
            None if flat_zf is None else flat_zf[:, index],
            None if flat_dark is None else flat_dark[index],
        )

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Pass 1, block by block: every pixel as if all its groups were good
        # (the usual case); remember the pixels that have any group flag.
        flagged = []
        for lo in range(0, npix, step):
            sl = slice(lo, min(npix, lo + step))
            block = inputs(sl)
            dirty = block[1].any(axis=(0, 1)) | ~np.isfinite(block[0]).all(axis=(0, 1))
            if ngroups < 2:
                dirty[:] = True
            if not dirty.all():
                views = {name: arr[..., sl] for name, arr in out.items()}
                _finish(views, block[2], block[3], _clean_integrations(block, table, times))
            flagged.append(np.flatnonzero(dirty) + lo)
        # Pass 2: the flagged pixels, gathered, through the general segment logic.
        flagged = np.concatenate(flagged) if flagged else np.zeros(0, dtype=np.intp)
        for lo in range(0, flagged.size, step):
            index = flagged[lo : lo + step]
            block = inputs(index)
            part = _allocate(nints, index.size)
            _finish(part, block[2], block[3], _flagged_integrations(block, table, times, suppress))
            for name, arr in out.items():
                arr[..., index] = part[name]
    return {
        name: arr.reshape(arr.shape[:-1] + (ny, nx)) for name, arr in out.items()
    }


class _Times:
    """The exposure timings used by the fit (plain attributes)."""

    def __init__(self, group_time: float, frame_time: float, nframes: int) -> None:
        self.group = float(group_time)
        self.frame = float(frame_time)
        self.nframes = int(nframes)
        self.one_group = (self.nframes + 1.0) * self.frame / 2.0


def _allocate(nints: int, npix: int) -> dict[str, np.ndarray]:
    out = {}
    for prefix, shape in (("rate", (npix,)), ("ints", (nints, npix))):
        out[prefix] = np.empty(shape, dtype=np.float32)
        out[f"{prefix}_dq"] = np.empty(shape, dtype=np.uint32)
        for var in ("var_poisson", "var_rnoise", "err"):
            out[f"{prefix}_{var}"] = np.empty(shape, dtype=np.float32)
    return out


def _pixel_terms(pdq, gain, rn, dark, times):
    """Pixel DQ with bad gains flagged, float64 gain, per-group read noise, dark."""
    gain = gain.astype(np.float64)
    bad_gain = ~(gain > 0.0)
    pixeldq = pdq.astype(np.uint32) | np.where(bad_gain, NO_GAIN_VALUE | DO_NOT_USE, 0).astype(np.uint32)
    rn_group = rn.astype(np.float64) / np.sqrt(2.0 * times.nframes)
    dark = np.zeros(gain.shape) if dark is None else np.nan_to_num(dark.astype(np.float64))
    return pixeldq, gain, rn_group, dark


def _clean_integrations(block, table, times):
    """Per-integration fits of pixels without any group flag (fast path).

    Yields ``(dq, any_sat, inv_p, inv_r, inv_e, num)`` per integration.
    """
    data, _gdq, pdq, gain, rn, _zframe, dark = block
    nints, ngroups, npix = data.shape
    pixeldq, gain, rn_group, dark = _pixel_terms(pdq, gain, rn, dark, times)
    mrate = np.zeros(npix)
    for i in range(nints):
        mrate += _median_of_rows(np.diff(data[i], axis=0)) / times.group
    mrate /= nints
    no_sat = np.zeros(npix, dtype=bool)
    for i in range(nints):
        terms = _fit_clean(data[i], gain, rn_group, dark, mrate, table, times)
        yield (pixeldq, no_sat) + terms


def _median_of_rows(rows):
    """Median over the first axis of a small, NaN-free (m, npix) array.

    An odd-even transposition sorting network on whole rows: a few dozen
    ``minimum``/``maximum`` calls on contiguous rows, much faster than
    ``np.partition`` along a non-contiguous axis.
    """
    m = rows.shape[0]
    work = [rows[k].copy() for k in range(m)]
    for rnd in range(m):
        for k in range(rnd % 2, m - 1, 2):
            low = np.minimum(work[k], work[k + 1])
            np.maximum(work[k], work[k + 1], out=work[k + 1])
            work[k] = low
    return 0.5 * (work[(m - 1) // 2].astype(np.float64) + work[m // 2])


def _flagged_integrations(block, table, times, suppress):
    """Per-integration fits of pixels with flagged groups (general path).

    Yields ``(dq, any_sat, inv_p, inv_r, inv_e, num)`` per integration.
    """
    data, gdq, pdq, gain, rn, zframe, dark = block
    nints, ngroups, npix = data.shape
    pixeldq, gain, rn_group, dark = _pixel_terms(pdq, gain, rn, dark, times)
    prepared = [
        _prepare_integration(data[i], gdq[i], None if zframe is None else zframe[i], suppress)
        for i in range(nints)
    ]
    mrate = np.zeros(npix)
    for prep in prepared:
        mrate += _median_rate(prep, times)
    mrate /= nints
    for prep in prepared:
        terms = _fit_integration(prep, gain, rn_group, dark, mrate, table, times)
        dq = pixeldq | np.where(prep.jump, JUMP_DET, 0).astype(np.uint32)
        dq |= np.where(prep.no_data, DO_NOT_USE, 0).astype(np.uint32)
        dq |= np.where(prep.all_sat, SATURATED, 0).astype(np.uint32)
        yield (dq, prep.any_sat) + terms


def _finish(out, pdq, gain, integrations):
    """Store the integrations and combine them into the exposure's rate.

    `integrations` yields ``(dq, any_sat, inv_p, inv_r, inv_e, num)``: the
    integration's DQ, whether any group was saturated, the inverse-variance
    sums of its segments and the slope numerator.
    """
    npix = pdq.shape[-1]
    sums = {k: np.zeros(npix) for k in ("p", "r", "num")}
    rate_dq = pdq.astype(np.uint32) | np.where(~(gain > 0), NO_GAIN_VALUE | DO_NOT_USE, 0).astype(np.uint32)
    n_dnu = np.zeros(npix, dtype=np.int32)
    n_sat = np.zeros(npix, dtype=np.int32)
    any_sat = np.zeros(npix, dtype=bool)
    nints = 0
    for i, (dq, sat, inv_p, inv_r, inv_e, num) in enumerate(integrations):
        nints += 1
        invalid = (dq & (DO_NOT_USE | SATURATED)) != 0
        n_dnu += (dq & DO_NOT_USE) != 0
        n_sat += (dq & SATURATED) != 0
        any_sat |= sat
        rate_dq |= dq & JUMP_DET
        _store_integration(out, i, dq | np.where(sat, SATURATED, 0).astype(np.uint32),
                           invalid, inv_p, inv_r, inv_e, num)
        sums["p"] += np.where(inv_p > 0.0, inv_p, 0.0)
        sums["r"] += inv_r
        sums["num"] += num

    rate_dq |= np.where(n_dnu == nints, DO_NOT_USE, 0).astype(np.uint32)
    rate_dq |= np.where(n_sat == nints, SATURATED, 0).astype(np.uint32)
    invalid = (rate_dq & (DO_NOT_USE | SATURATED)) != 0
    var_p = np.where(sums["p"] > 0.0, 1.0 / sums["p"], 0.0)
    var_p = np.where((var_p >= LARGE_VARIANCE_THRESHOLD) | (var_p < 0.0), 0.0, var_p)
    var_r = np.where(sums["r"] > 0.0, 1.0 / sums["r"], 0.0)
    var_r = np.where(var_r >= LARGE_VARIANCE_THRESHOLD, 0.0, var_r)
    err = np.sqrt(var_p + var_r)
    slope = sums["num"] / sums["r"]
    out["rate"][...] = np.where(invalid, np.nan, slope)
    out["rate_var_poisson"][...] = np.where(invalid, 0.0, var_p)
    out["rate_var_rnoise"][...] = np.where(invalid, 0.0, var_r)
    out["rate_err"][...] = np.where(invalid, 0.0, err)
    out["rate_dq"][...] = rate_dq | np.where(any_sat, SATURATED, 0).astype(np.uint32)


class _Integration:
    """Per-integration state of a pixel block (plain attributes)."""


def _prepare_integration(data, gdq, zframe, suppress):
    """Flags, good-group masks and special cases of one integration."""
    prep = _Integration()
    ngroups = data.shape[0]
    work = gdq.copy()
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


def _median_rate(prep, times):
    """The median first difference (DN/s) of one integration, NaN -> 0."""
    ngroups = prep.values.shape[0]
    values = prep.values
    if ngroups == 1:
        med = np.where(prep.bad[0], np.nan, values[0] / times.one_group)
    else:
        diffs = values[1:] - values[:-1]
        unusable = prep.bad[1:] | prep.bad[:-1] | ((prep.work[1:] & JUMP_DET) != 0)
        diffs[unusable] = np.nan
        med = _nan_median(diffs) / times.group
        first = np.where(prep.bad[0], np.nan, values[0] / times.group)
        med = np.where(np.isnan(med), first, med)
        med = np.where(prep.is_0th, values[0] / times.one_group, med)
    med = np.where(prep.is_zf, prep.values[0] / times.frame, med)
    return np.where(np.isnan(med), 0.0, med)


def _nan_median(values):
    """Median along axis 0 ignoring NaN; NaN where every value is NaN."""
    srt = np.sort(values, axis=0)
    count = np.isfinite(srt).sum(axis=0)
    lo = np.maximum(count - 1, 0) // 2
    hi = count // 2
    a = np.take_along_axis(srt, lo[None], axis=0)[0]
    b = np.take_along_axis(srt, np.minimum(hi, srt.shape[0] - 1)[None], axis=0)[0]
    return np.where(count > 0, 0.5 * (a.astype(np.float64) + b), np.nan)


def _segments(prep):
    """Segment start, length and membership of every group of the block."""
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


def _fit_integration(prep, gain, rn_group, dark, mrate, table, times):
    """Inverse-variance sums and the slope numerator (read-noise weights) of one integration.

    Pixels whose groups are all good form a single full-length segment and
    take a short path; the others go through the general segment logic.
    """
    ngroups, npix = prep.values.shape
    clean = prep.good.all(axis=0) if ngroups >= 2 else np.zeros(npix, dtype=bool)
    if clean.all():
        return _fit_clean(prep.values, gain, rn_group, dark, mrate, table, times)
    sums = [np.zeros(npix) for _ in range(4)]
    if clean.any():
        part = _fit_clean(prep.values[:, clean], gain[clean], rn_group[clean], dark[clean],
                          mrate[clean], table, times)
        for total, value in zip(sums, part):
            total[clean] = value
    rest = ~clean
    part = _fit_segments(_subset(prep, rest), gain[rest], rn_group[rest], dark[rest],
                         mrate[rest], table, times)
    for total, value in zip(sums, part):
        total[rest] = value
    return tuple(sums)


def _subset(prep, mask):
    """The integration state restricted to the pixels in `mask`."""
    sub = _Integration()
    for name, value in vars(prep).items():
        setattr(sub, name, value[..., mask])
    return sub


def _fit_clean(values, gain, rn_group, dark, mrate, table, times):
    """Fit ramps whose groups are all good: one segment of every group."""
    ngroups, npix = values.shape
    n = float(ngroups)
    y_first = values[0].astype(np.float64)
    signal = (values[-1] - y_first) * gain
    den = (rn_group * gain) ** 2 + signal
    snr = np.where((den > 0.0) & (gain != 0.0), signal / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)
    cls = power_index(snr)
    coef = table.reshape(-1, POWER_CLASSES, max(ngroups, 1))[ngroups]
    slope = np.zeros(npix)
    for g in range(ngroups):
        slope += np.take(coef[:, g], cls) * values[g]
    var_r = 12.0 * (rn_group / times.group) ** 2 / (n**3 - n)
    var_r = np.where(gain > 0.0, var_r, 0.0)
    var_p = np.where(mrate > 0.0, mrate + dark, dark) / (times.group * gain * (n - 1.0))
    inv_e = 1.0 / (var_p + var_r)
    inv_p = np.where(var_p > 0.0, 1.0 / var_p, 0.0)
    return inv_p, 1.0 / var_r, inv_e, slope / var_r


def _fit_segments(prep, gain, rn_group, dark, mrate, table, times):
    """Inverse-variance sums and the slope numerator (read-noise weights) of one integration."""
    values = prep.values
    ngroups, npix = values.shape
    member, _start, end, first = _segments(prep)

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
        snr = np.where((den > 0.0) & (gain != 0.0), signal / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)
        cls = power_index(snr)
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
        num += np.where(kept, coef * values[g] / var_r, 0.0)
        last = kept & end[g]
        inv_e += np.where(last, 1.0 / var_e, 0.0)
        inv_r += np.where(last, 1.0 / var_r, 0.0)
        inv_p += np.where(last & (var_p > 0.0), 1.0 / var_p, 0.0)
    return inv_p, inv_r, inv_e, num


def _store_integration(out, i, dq, invalid, inv_p, inv_r, inv_e, num):
    """Write one integration's slope, variances and DQ into the outputs."""
    var_p = np.where(inv_p > 0.0, 1.0 / inv_p, 0.0)
    var_p = np.where(var_p >= LARGE_VARIANCE_THRESHOLD, 0.0, var_p)
    var_r = np.where(inv_r > 0.0, 1.0 / inv_r, np.inf)
    var_r = np.where(var_r >= LARGE_VARIANCE_THRESHOLD, 0.0, var_r)
    var_e = 1.0 / inv_e
    err = np.where(var_e > LARGE_VARIANCE_THRESHOLD, 0.0, np.sqrt(var_e))
    no_fit = ~(inv_e > 0.0)
    invalid = invalid | no_fit
    out["ints"][i] = np.where(invalid, np.nan, num / inv_r)
    out["ints_var_poisson"][i] = np.where(invalid, 0.0, var_p)
    out["ints_var_rnoise"][i] = np.where(invalid, 0.0, var_r)
    out["ints_err"][i] = np.where(invalid, 0.0, err)
    out["ints_dq"][i] = dq | np.where(no_fit, DO_NOT_USE, 0).astype(np.uint32)
