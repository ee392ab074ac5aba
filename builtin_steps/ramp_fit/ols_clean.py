"""Compiled OLS fit of the ramps whose groups are all good (the usual pixel).

One pass over each pixel's ramp does what :func:`builtin_steps.ramp_fit.ols`
does with whole-array numpy operations for such pixels (the median first
difference, the optimally weighted slope of one segment per integration, the
variances, and the combination of the integrations), operation by operation
in the same order and precision, so the results are bit-identical. Pixels
with any group flag or a non-finite value are left to the numpy code (the
``dirty`` mask this kernel returns).

The ``(nints, ngroups, npix)`` ramps and the ``(nints, npix)`` results come
as planes: a one-dimensional array holding them all and the index where each
plane starts (see :func:`builtin_steps.ramp_fit.ols._planes`). The pixels are
taken in blocks that stay in the processor's cache; every loop runs over the
block's pixels, innermost, on contiguous rows and without branches, so that
the compiler turns it into vector instructions. A pixel's variances do not
depend on the integration: they are computed once per pixel.
"""

from __future__ import annotations

import numpy as np

from builtin_steps._jit import lazy_njit

__all__ = ["fit_clean_pixels"]

DO_NOT_USE = 1
SATURATED = 2
NO_GAIN_VALUE = 524288
LARGE_VARIANCE_THRESHOLD = 1.0e6
FLOAT64_MAX = float(np.finfo(np.float64).max)  # what numpy.nan_to_num puts for inf

#: Weighting classes (rows of the slope coefficients, one per entry of ``weights.POWERS``).
CLASSES = 6

#: Pixels per block: the block's ramps and scratch rows stay in the processor's cache.
_BLOCK = 512

#: Rows of the float64 scratch array.
(_GAIN, _RN_GROUP, _DARK, _MRATE, _INV_P, _INV_R, _INV_W, _SUM_P, _SUM_R, _SUM_W, _SUM_NUM,
 _SLOPE, _SNR) = range(13)
_ROWS = 13

#: Rows of an integration's variances and ERR (the same in every integration).
_VP, _VR, _ERR = range(3)

#: Rows of the boolean scratch array: no slope in an integration, no rate.
_BAD, _RATE_BAD = range(2)


@lazy_njit()
def fit_clean_pixels(
    data, data_at, gdq, gdq_at, pdq, gain32, rn32, dark, has_dark, coef, snr_edges, group_time,
    rn_scale, n3n, exact, rate, rate_dq, rate_vp, rate_vr, rate_err, ints, ints_dq, ints_vp,
    ints_vr, ints_err, ints_at, dirty,
):  # pragma: no cover - compiled; its Python body is checked against numpy in the tests
    """Fit every clean pixel of ``(nints, ngroups, npix)`` ramps into the outputs.

    ``data`` and ``gdq`` hold the planes of the ramp's values and group flags,
    plane ``(i, g)`` starting at ``data_at[i, g]`` (``gdq_at[i, g]``);
    the per-integration results are planes of ``ints`` ... ``ints_err``, the
    ``i``-th starting at ``ints_at[k, i]`` for the ``k``-th of those five.
    ``coef`` is ``table[ngroups]`` (``(CLASSES, ngroups)``), ``rn_scale`` is
    ``sqrt(2 * nframes)``, ``n3n`` is ``ngroups**3 - ngroups``, ``exact`` whether
    the median of the differences takes two of them (then formed in float64).
    ``dirty[p]`` is set for pixels left to the general code, whose outputs are
    not written.
    """
    nints, ngroups = data_at.shape
    npix = dirty.shape[0]
    ndiff = max(ngroups - 1, 1)
    diffs = np.empty((ndiff, _BLOCK), np.float64)
    diffs32 = np.empty((ndiff, _BLOCK), np.float32)
    work = np.empty((_ROWS, _BLOCK), np.float64)
    shared = np.empty((3, _BLOCK), np.float32)
    bad = np.empty((2, _BLOCK), np.bool_)
    dq = np.empty(_BLOCK, np.uint32)
    flags = np.empty(_BLOCK, np.uint8)
    classes = np.empty(_BLOCK, np.int64)
    for lo in range(0, npix, _BLOCK):
        hi = min(npix, lo + _BLOCK)
        _flag_dirty(data, data_at, gdq, gdq_at, lo, hi, flags, dirty[lo:hi])
        mrates = work[_MRATE, : hi - lo]
        if exact:
            _median_rates(data, data_at, lo, hi, group_time, diffs, mrates)
        else:
            _median_rates(data, data_at, lo, hi, group_time, diffs32, mrates)
        _pixel_terms(pdq[lo:hi], gain32[lo:hi], rn32[lo:hi], dark, has_dark, lo, group_time,
                     rn_scale, float(ngroups), n3n, work, shared, bad, dq)
        for i in range(nints):
            _fit_integration(data, data_at[i], lo, hi, coef, snr_edges, work, classes, shared,
                             bad[_BAD], dq,
                             ints[ints_at[0, i] + lo : ints_at[0, i] + hi],
                             ints_dq[ints_at[1, i] + lo : ints_at[1, i] + hi],
                             ints_vp[ints_at[2, i] + lo : ints_at[2, i] + hi],
                             ints_vr[ints_at[3, i] + lo : ints_at[3, i] + hi],
                             ints_err[ints_at[4, i] + lo : ints_at[4, i] + hi])
        _combine(pdq[lo:hi], gain32[lo:hi], work, bad[_RATE_BAD], rate[lo:hi],
                 rate_dq[lo:hi], rate_vp[lo:hi], rate_vr[lo:hi], rate_err[lo:hi])


@lazy_njit(inline="always")
def _flag_dirty(data, data_at, gdq, gdq_at, lo, hi, flags, dirty):  # pragma: no cover - compiled
    """Set ``dirty`` for pixels ``lo .. hi`` with a group flag or a non-finite value.

    ``flags`` is scratch. ``x - x`` is 0 for a finite ``x``, NaN otherwise.
    """
    nints, ngroups = data_at.shape
    nb = hi - lo
    for q in range(nb):
        flags[q] = 0
    for i in range(nints):
        for g in range(ngroups):
            values = data[data_at[i, g] + lo : data_at[i, g] + hi]
            group = gdq[gdq_at[i, g] + lo : gdq_at[i, g] + hi]
            for q in range(nb):
                x = values[q]
                flags[q] |= group[q] | np.uint8((x - x) != 0.0)
    for q in range(nb):
        dirty[q] = (ngroups < 2) | (flags[q] != 0)


@lazy_njit(inline="always")
def _median_rates(data, data_at, lo, hi, group_time, diffs, mrates):  # pragma: no cover - compiled
    """The median first difference of pixels ``lo .. hi``, averaged over integrations.

    The differences are formed in the type of ``diffs``: float64 when the
    median is the mean of two of them (which can cancel), else float32 (the
    median is then one float32 difference, and the sort only compares).
    """
    nints, ngroups = data_at.shape
    ndiff = ngroups - 1
    nb = hi - lo
    for q in range(nb):
        mrates[q] = 0.0
    for i in range(nints):
        for k in range(ndiff):
            before = data[data_at[i, k] + lo : data_at[i, k] + hi]
            after = data[data_at[i, k + 1] + lo : data_at[i, k + 1] + hi]
            row = diffs[k]
            for q in range(nb):
                row[q] = diffs.dtype.type(after[q]) - diffs.dtype.type(before[q])
        # a sorting network
        for rnd in range(ndiff):
            for k in range(rnd % 2, ndiff - 1, 2):
                low = diffs[k]
                high = diffs[k + 1]
                for q in range(nb):
                    a = low[q]
                    b = high[q]
                    low[q] = min(a, b)
                    high[q] = max(a, b)
        low = diffs[(ndiff - 1) // 2]
        high = diffs[ndiff // 2]
        for q in range(nb):
            mrates[q] += 0.5 * (np.float64(low[q]) + np.float64(high[q])) / group_time
    for q in range(nb):
        mrates[q] /= nints


@lazy_njit(inline="always")
def _pixel_terms(pdq, gain32, rn32, dark, has_dark, lo, group_time, rn_scale, n, n3n, work,
                 shared, bad, dq):  # pragma: no cover - compiled
    """The variances of pixels ``lo .. lo + len(pdq)`` in one integration.

    Reads the median rates (``work[_MRATE]``); sets the gain, per-group read
    noise and dark rows of ``work``, the inverse variances and the weight of
    the mean (``_INV_P``, ``_INV_R``, ``_INV_W``), zeroes the sums over the
    integrations (``_SUM_*``); fills ``shared`` with an integration's
    variances and ERR, ``bad[_BAD]`` with whether it has no slope and ``dq``
    with its DQ.
    """
    nb = pdq.shape[0]
    gain = work[_GAIN]
    rn_group = work[_RN_GROUP]
    dk = work[_DARK]
    for q in range(nb):
        gain[q] = np.float64(gain32[q])
        rn_group[q] = np.float64(rn32[q]) / rn_scale
        dk[q] = 0.0
    if has_dark:
        for q in range(nb):
            d = np.float64(dark[lo + q])
            d = 0.0 if np.isnan(d) else d
            d = min(max(d, -FLOAT64_MAX), FLOAT64_MAX)
            dk[q] = d
    mrates = work[_MRATE]
    for q in range(nb):
        ok_gain = gain[q] > 0.0
        pixeldq = np.uint32(pdq[q]) | (np.uint32(0) if ok_gain else np.uint32(NO_GAIN_VALUE | DO_NOT_USE))
        x = rn_group[q] / group_time
        var_r = 12.0 * (x * x) / n3n
        var_r = var_r if ok_gain else 0.0
        mrate = mrates[q]
        numer = mrate + dk[q] if mrate > 0.0 else dk[q]
        var_p = numer / (group_time * gain[q] * (n - 1.0))
        inv_e = 1.0 / (var_p + var_r)
        inv_p = 1.0 / var_p if var_p > 0.0 else 0.0
        inv_w = 1.0 / var_r if var_r > 0.0 else inv_e
        inv_r = 1.0 / var_r
        invalid = (pixeldq & np.uint32(DO_NOT_USE | SATURATED)) != 0
        vp = 1.0 / inv_p if inv_p > 0.0 else 0.0
        vp = 0.0 if vp >= LARGE_VARIANCE_THRESHOLD else vp
        vr = 1.0 / inv_r if inv_r > 0.0 else np.inf
        vr = 0.0 if vr >= LARGE_VARIANCE_THRESHOLD else vr
        ve = 1.0 / inv_e
        err = 0.0 if ve > LARGE_VARIANCE_THRESHOLD else np.sqrt(ve)
        no_fit = not (inv_e > 0.0)
        no_slope = invalid | no_fit
        work[_INV_P, q] = inv_p if inv_p > 0.0 else 0.0
        work[_INV_R, q] = inv_r
        work[_INV_W, q] = inv_w
        work[_SUM_P, q] = 0.0
        work[_SUM_R, q] = 0.0
        work[_SUM_W, q] = 0.0
        work[_SUM_NUM, q] = 0.0
        shared[_VP, q] = 0.0 if no_slope else vp
        shared[_VR, q] = 0.0 if no_slope else vr
        shared[_ERR, q] = 0.0 if no_slope else err
        bad[_BAD, q] = no_slope
        dq[q] = pixeldq | (np.uint32(DO_NOT_USE) if no_fit else np.uint32(0))


@lazy_njit(inline="always")
def _fit_integration(data, data_at, lo, hi, coef, snr_edges, work, classes, shared, bad, dq,
                     ints, ints_dq, ints_vp, ints_vr, ints_err):  # pragma: no cover - compiled
    """Fit one integration of pixels ``lo .. hi`` and add it to the sums of ``work``.

    ``data_at`` is the integration's row of plane starts; ``bad`` whether a
    pixel has no slope.
    """
    ngroups = data_at.shape[0]
    nb = hi - lo
    gain = work[_GAIN]
    rn_group = work[_RN_GROUP]
    snr = work[_SNR]
    slopes = work[_SLOPE]
    first = data[data_at[0] + lo : data_at[0] + hi]
    last = data[data_at[ngroups - 1] + lo : data_at[ngroups - 1] + hi]
    for q in range(nb):
        y_first = np.float64(first[q])
        signal = (last[q] - y_first) * gain[q]
        rg = rn_group[q] * gain[q]
        den = rg * rg + signal
        ok = (den > 0.0) & (gain[q] != 0.0)
        s = signal / np.sqrt(den if den > 0.0 else 1.0) if ok else 0.0
        snr[q] = s if s > 0.0 else 0.0
        classes[q] = 0
        slopes[q] = 0.0
    for e in range(snr_edges.shape[0]):
        edge = snr_edges[e]
        for q in range(nb):
            classes[q] += edge <= snr[q]
    for g in range(ngroups):
        _add_group(coef, g, classes[:nb], data[data_at[g] + lo : data_at[g] + hi], slopes)
    for q in range(nb):
        inv_w = work[_INV_W, q]
        num = slopes[q] * inv_w
        work[_SUM_P, q] += work[_INV_P, q]
        work[_SUM_R, q] += work[_INV_R, q]
        work[_SUM_W, q] += inv_w
        work[_SUM_NUM, q] += num
        ints[q] = np.nan if bad[q] else num / inv_w
        ints_vp[q] = shared[_VP, q]
        ints_vr[q] = shared[_VR, q]
        ints_err[q] = shared[_ERR, q]
        ints_dq[q] = dq[q]


@lazy_njit(inline="always")
def _add_group(coef, g, classes, values, slopes):  # pragma: no cover - compiled
    """``slopes += coef[classes, g] * values``, pixel by pixel.

    The group's coefficients are read before the loop, which then picks one
    of them per pixel (a vector select rather than a load from the table).
    """
    c0 = coef[0, g]
    c1 = coef[1, g]
    c2 = coef[2, g]
    c3 = coef[3, g]
    c4 = coef[4, g]
    c5 = coef[5, g]
    for q in range(values.shape[0]):
        cls = classes[q]
        c = c0
        c = c1 if cls == 1 else c
        c = c2 if cls == 2 else c
        c = c3 if cls == 3 else c
        c = c4 if cls == 4 else c
        c = c5 if cls == 5 else c
        slopes[q] += c * values[q]


@lazy_njit(inline="always")
def _combine(pdq, gain32, work, bad, rate, rate_dq, rate_vp, rate_vr, rate_err):  # pragma: no cover
    """The exposure's rate, variances and DQ from the sums over integrations.

    ``bad`` is scratch. Every integration has the pixel's DQ, so the
    exposure's DQ is the pixel's (with a bad gain flagged).
    """
    nb = pdq.shape[0]
    for q in range(nb):
        rdq = np.uint32(pdq[q]) | (np.uint32(0) if gain32[q] > 0 else np.uint32(NO_GAIN_VALUE | DO_NOT_USE))
        bad[q] = (rdq & np.uint32(DO_NOT_USE | SATURATED)) != 0
        rate_dq[q] = rdq
    for q in range(nb):
        invalid = bad[q]
        sum_p = work[_SUM_P, q]
        sum_r = work[_SUM_R, q]
        vp = 1.0 / sum_p if sum_p > 0.0 else 0.0
        vp = 0.0 if (vp >= LARGE_VARIANCE_THRESHOLD or vp < 0.0) else vp
        vr = 1.0 / sum_r if sum_r > 0.0 else 0.0
        vr = 0.0 if vr >= LARGE_VARIANCE_THRESHOLD else vr
        rate[q] = np.nan if invalid else work[_SUM_NUM, q] / work[_SUM_W, q]
        rate_vp[q] = 0.0 if invalid else vp
        rate_vr[q] = 0.0 if invalid else vr
        rate_err[q] = 0.0 if invalid else np.sqrt(vp + vr)
