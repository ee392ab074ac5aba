"""Compiled OLS fit of the ramps whose groups are all good (the usual pixel).

One pass over each pixel's ramp does what :func:`builtin_steps.ramp_fit.ols`
does with whole-array numpy operations for such pixels (the median first
difference, the optimally weighted slope of one segment per integration, the
variances, and the combination of the integrations), operation by operation
in the same order and precision, so the results are bit-identical. Pixels
with any group flag or a non-finite value are left to the numpy code (the
``dirty`` mask this kernel returns).
"""

from __future__ import annotations

import numpy as np

from builtin_steps._jit import lazy_njit

__all__ = ["fit_clean_pixels"]

DO_NOT_USE = 1
SATURATED = 2
JUMP_DET = 4
NO_GAIN_VALUE = 524288
LARGE_VARIANCE_THRESHOLD = 1.0e6
FLOAT64_MAX = float(np.finfo(np.float64).max)  # what numpy.nan_to_num puts for inf

#: Pixels per block: the block's ramps stay in the processor's cache.
_BLOCK = 512


@lazy_njit()
def fit_clean_pixels(
    data, gdq, pdq, gain32, rn32, dark, has_dark, coef, snr_edges, group_time, rn_scale, n3n,
    exact, rate, rate_dq, rate_vp, rate_vr, rate_err, ints, ints_dq, ints_vp, ints_vr, ints_err,
    dirty,
):  # pragma: no cover - compiled; its Python body is checked against numpy in the tests
    """Fit every clean pixel of ``(nints, ngroups, npix)`` ramps into the outputs.

    ``coef`` is ``table[ngroups]`` (``(classes, ngroups)``), ``rn_scale`` is
    ``sqrt(2 * nframes)``, ``n3n`` is ``ngroups**3 - ngroups``, ``exact`` whether
    the median of the differences takes two of them (then formed in float64).
    ``dirty[p]`` is set for pixels left to the general code, whose outputs are
    not written.
    """
    nints, ngroups, npix = data.shape
    ndiff = ngroups - 1
    n = float(ngroups)
    nclass = snr_edges.shape[0]
    diffs = np.empty((max(ndiff, 1), _BLOCK), np.float64)
    mrates = np.empty(_BLOCK, np.float64)
    slopes = np.empty(_BLOCK, np.float64)
    classes = np.empty(_BLOCK, np.int64)
    work = np.empty((7, _BLOCK), np.float64)
    for lo in range(0, npix, _BLOCK):
        hi = min(npix, lo + _BLOCK)
        nb = hi - lo
        # every loop below runs over the block's pixels, innermost: the block's
        # ramps are read plane by plane and stay in cache
        for q in range(nb):
            dirty[lo + q] = ngroups < 2
        for i in range(nints):
            for g in range(ngroups):
                for q in range(nb):
                    dirty[lo + q] |= (gdq[i, g, lo + q] != 0) | (not np.isfinite(data[i, g, lo + q]))
        # median first difference, averaged over integrations (a sorting network)
        for q in range(nb):
            mrates[q] = 0.0
        for i in range(nints):
            for k in range(ndiff):
                for q in range(nb):
                    if exact:
                        diffs[k, q] = np.float64(data[i, k + 1, lo + q]) - np.float64(data[i, k, lo + q])
                    else:  # a float32 difference, held exactly in float64
                        diffs[k, q] = np.float64(data[i, k + 1, lo + q] - data[i, k, lo + q])
            for rnd in range(ndiff):
                for k in range(rnd % 2, ndiff - 1, 2):
                    for q in range(nb):
                        a = diffs[k, q]
                        b = diffs[k + 1, q]
                        diffs[k, q] = min(a, b)
                        diffs[k + 1, q] = max(a, b)
            for q in range(nb):
                mrates[q] += 0.5 * (diffs[(ndiff - 1) // 2, q] + diffs[ndiff // 2, q]) / group_time
        for q in range(nb):
            mrates[q] /= nints
        _fit_block(data, pdq, gain32, rn32, dark, has_dark, coef, snr_edges, group_time, rn_scale,
                   n3n, mrates, lo, nb, rate, rate_dq, rate_vp, rate_vr, rate_err, ints, ints_dq,
                   ints_vp, ints_vr, ints_err, work, slopes, classes)


@lazy_njit(inline="always")
def _fit_block(data, pdq, gain32, rn32, dark, has_dark, coef, snr_edges, group_time, rn_scale, n3n,
               mrates, lo, nb, rate, rate_dq, rate_vp, rate_vr, rate_err, ints, ints_dq, ints_vp,
               ints_vr, ints_err, work, slopes, classes):  # pragma: no cover - compiled
    """Fit pixels ``lo .. lo + nb`` as clean ramps, pixels innermost (vectorised).

    Pixels that are not clean get values too; the general code overwrites them.
    ``work`` is ``(7, nb)`` scratch: gain, read noise, dark and the sums.
    """
    nints, ngroups, _npix = data.shape
    n = float(ngroups)
    nclass = snr_edges.shape[0]
    gain = work[0]
    rn_group = work[1]
    dk = work[2]
    sum_p = work[3]
    sum_r = work[4]
    sum_w = work[5]
    sum_num = work[6]
    for q in range(nb):
        p = lo + q
        gain[q] = np.float64(gain32[p])
        rn_group[q] = np.float64(rn32[p]) / rn_scale
        d = 0.0
        if has_dark:
            d = np.float64(dark[p])
            if np.isnan(d):
                d = 0.0
            elif np.isinf(d):
                d = FLOAT64_MAX if d > 0 else -FLOAT64_MAX
        dk[q] = d
        sum_p[q] = 0.0
        sum_r[q] = 0.0
        sum_w[q] = 0.0
        sum_num[q] = 0.0
    for i in range(nints):
        for q in range(nb):
            p = lo + q
            y_first = np.float64(data[i, 0, p])
            signal = (data[i, ngroups - 1, p] - y_first) * gain[q]
            rg = rn_group[q] * gain[q]
            den = rg * rg + signal
            ok = (den > 0.0) & (gain[q] != 0.0)
            snr = signal / np.sqrt(den if den > 0.0 else 1.0) if ok else 0.0
            snr = snr if snr > 0.0 else 0.0
            cls = 0
            for e in range(nclass):
                cls += snr_edges[e] <= snr
            classes[q] = cls
            slopes[q] = 0.0
        for g in range(ngroups):
            for q in range(nb):
                slopes[q] += coef[classes[q], g] * data[i, g, lo + q]
        for q in range(nb):
            p = lo + q
            ok_gain = gain[q] > 0.0
            pixeldq = np.uint32(pdq[p]) | (np.uint32(0) if ok_gain else np.uint32(NO_GAIN_VALUE | DO_NOT_USE))
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
            num = slopes[q] * inv_w
            invalid = (pixeldq & np.uint32(DO_NOT_USE | SATURATED)) != 0
            vp = 1.0 / inv_p if inv_p > 0.0 else 0.0
            vp = 0.0 if vp >= LARGE_VARIANCE_THRESHOLD else vp
            vr = 1.0 / inv_r if inv_r > 0.0 else np.inf
            vr = 0.0 if vr >= LARGE_VARIANCE_THRESHOLD else vr
            ve = 1.0 / inv_e
            err = 0.0 if ve > LARGE_VARIANCE_THRESHOLD else np.sqrt(ve)
            no_fit = not (inv_e > 0.0)
            bad = invalid or no_fit
            ints[i, p] = np.nan if bad else num / inv_w
            ints_vp[i, p] = 0.0 if bad else vp
            ints_vr[i, p] = 0.0 if bad else vr
            ints_err[i, p] = 0.0 if bad else err
            ints_dq[i, p] = pixeldq | (np.uint32(DO_NOT_USE) if no_fit else np.uint32(0))
            sum_p[q] += inv_p if inv_p > 0.0 else 0.0
            sum_r[q] += inv_r
            sum_w[q] += inv_w
            sum_num[q] += num
    for q in range(nb):
        p = lo + q
        ok_gain = gain32[p] > 0
        rdq = np.uint32(pdq[p]) | (np.uint32(0) if ok_gain else np.uint32(NO_GAIN_VALUE | DO_NOT_USE))
        # every integration has the pixel's DQ: all or none are DO_NOT_USE / SATURATED
        rdq |= rdq & np.uint32(JUMP_DET)
        invalid = (rdq & np.uint32(DO_NOT_USE | SATURATED)) != 0
        vp = 1.0 / sum_p[q] if sum_p[q] > 0.0 else 0.0
        vp = 0.0 if (vp >= LARGE_VARIANCE_THRESHOLD or vp < 0.0) else vp
        vr = 1.0 / sum_r[q] if sum_r[q] > 0.0 else 0.0
        vr = 0.0 if vr >= LARGE_VARIANCE_THRESHOLD else vr
        rate[p] = np.nan if invalid else sum_num[q] / sum_w[q]
        rate_vp[p] = 0.0 if invalid else vp
        rate_vr[p] = 0.0 if invalid else vr
        rate_err[p] = 0.0 if invalid else np.sqrt(vp + vr)
        rate_dq[p] = rdq
