"""Compiled OLS fit of the ramps with flagged groups or non-finite values.

:func:`fit_flagged_pixels` fits, pixel by pixel, the pixels that
:func:`builtin_steps.ramp_fit.ols_clean.fit_clean_pixels` leaves aside, as the
whole-array numpy functions of :mod:`builtin_steps.ramp_fit.segments` and
:mod:`builtin_steps.ramp_fit.ols` do: the group flags and the one-group
special cases of ``prepare_integration``, the median rate of ``median_rate``,
the segments of ``find_segments`` and their fits (``fit_clean`` for an
integration whose groups are all good, ``fit_segments`` otherwise), and the
combination of the integrations (``_finish``, ``_store_integration``). Every
floating-point operation is done in the same order and precision as there
(float32 where numpy divides a float32 value by a Python float, float64
elsewhere), so the results are bit-identical.

The ramps and the per-integration results come as planes, as for the clean
pixels (see :func:`builtin_steps.ramp_fit.ols._planes`).
"""

from __future__ import annotations

import numpy as np

from builtin_steps._jit import lazy_njit

__all__ = ["fit_flagged_pixels"]

DO_NOT_USE = 1
SATURATED = 2
JUMP_DET = 4
PERSISTENCE = 32
NO_GAIN_VALUE = 524288
LARGE_VARIANCE_THRESHOLD = 1.0e6
FLOAT64_MAX = float(np.finfo(np.float64).max)  # what numpy.nan_to_num puts for inf

#: The group flags a fit looks at: PERSISTENCE alone leaves a group usable.
FIT_FLAGS = 0xFF & ~PERSISTENCE

#: Weighting classes (one per entry of ``weights.POWERS``).
CLASSES = 6

#: Entries of the ``times`` arrays: group time, first group's time, frame time.
_GROUP, _ONE_GROUP, _FRAME = range(3)

#: Bits of an integration's state.
_IS_0TH = 1  # only the first group is good (one-group ramps allowed)
_IS_ZF = 2  # the ZEROFRAME value replaces the first group
_SAT0 = 4  # the first group is saturated
_ANY_SAT = 8  # some group is saturated
_JUMP = 16  # some group has JUMP_DET
_NO_DATA = 32  # no usable group
_ALL_SAT = 64  # every group saturated


@lazy_njit()
def fit_flagged_pixels(
    pixels, data, data_at, gdq, gdq_at, zeroframe, zeroframe_at, has_zeroframe, pdq, gain32, rn32,
    dark, has_dark, table, snr_edges, times, data_times, rn_scale, suppress, rate, rate_dq, rate_vp,
    rate_vr, rate_err, ints, ints_dq, ints_vp, ints_vr, ints_err, ints_at,
):  # pragma: no cover - compiled; checked against the numpy pass in the tests
    """Fit the pixels ``pixels`` of ``(nints, ngroups, npix)`` ramps into the outputs.

    ``data`` and ``gdq`` hold the planes of the ramp's values and group flags,
    plane ``(i, g)`` starting at ``data_at[i, g]`` (``gdq_at[i, g]``), and
    ``zeroframe`` the ZEROFRAME planes, the ``i``-th at ``zeroframe_at[i]``
    (read only with ``has_zeroframe``); ``dark`` is read only with
    ``has_dark``. ``table`` is the flattened table of
    :func:`~builtin_steps.ramp_fit.weights.slope_coefficients`; ``times``
    holds the group, first-group and frame times (float64), ``data_times``
    the same in the type numpy divides the ramp's values by a Python float
    in; ``rn_scale`` is ``sqrt(2 * nframes)``; ``suppress`` whether a ramp
    with a single good group has no slope. The per-integration results are
    planes of ``ints`` ... ``ints_err``, the ``i``-th starting at
    ``ints_at[k, i]`` for the ``k``-th of those five.
    """
    nints, ngroups = data_at.shape
    values = np.empty((nints, ngroups), data.dtype)
    work = np.empty((nints, ngroups), np.uint8)
    state = np.empty(nints, np.int64)
    diffs = np.empty(max(ngroups - 1, 1), np.float64)
    bounds = np.empty((2, ngroups), np.int64)
    for k in range(pixels.shape[0]):
        p = pixels[k]
        gain = np.float64(gain32[p])
        rn_group = np.float64(rn32[p]) / rn_scale
        dk = _dark(dark, p) if has_dark else 0.0
        pixeldq = np.uint32(pdq[p]) | (np.uint32(0) if gain > 0.0 else np.uint32(NO_GAIN_VALUE | DO_NOT_USE))
        mrate = 0.0
        for i in range(nints):
            zf = zeroframe[zeroframe_at[i] + p] if has_zeroframe else zeroframe[0]
            state[i] = _prepare(data, data_at, gdq, gdq_at, i, p, zf, has_zeroframe, suppress, values,
                                work)
            mrate += _median_rate(values, work, i, state[i], times, data_times, diffs)
        mrate /= nints
        rdq = pixeldq
        n_dnu = 0
        n_sat = 0
        any_sat = False
        sum_p = 0.0
        sum_r = 0.0
        sum_w = 0.0
        sum_num = 0.0
        for i in range(nints):
            if _all_good(work, i):
                terms = _fit_clean(values, i, gain, rn_group, dk, mrate, table, snr_edges, times)
            else:
                terms = _fit_segments(values, work, i, state[i], gain, rn_group, dk, mrate, table,
                                      snr_edges, times, bounds)
            dq = pixeldq | _state_flags(state[i])
            sat = (state[i] & _ANY_SAT) != 0
            n_dnu += (dq & np.uint32(DO_NOT_USE)) != 0
            n_sat += (dq & np.uint32(SATURATED)) != 0
            any_sat |= sat
            rdq |= dq & np.uint32(JUMP_DET)
            _store_integration(dq | (np.uint32(SATURATED) if sat else np.uint32(0)),
                               (dq & np.uint32(DO_NOT_USE | SATURATED)) != 0, terms,
                               ints, ints_dq, ints_vp, ints_vr, ints_err, ints_at, i, p)
            inv_p, inv_r, _inv_e, inv_w, num = terms
            sum_p += inv_p if inv_p > 0.0 else 0.0
            sum_r += inv_r
            sum_w += inv_w
            sum_num += num
        rdq |= np.uint32(DO_NOT_USE) if n_dnu == nints else np.uint32(0)
        rdq |= np.uint32(SATURATED) if n_sat == nints else np.uint32(0)
        _combine(rdq, any_sat, sum_p, sum_r, sum_w, sum_num, p, rate, rate_dq, rate_vp, rate_vr,
                 rate_err)


@lazy_njit(inline="always")
def _dark(dark, p):  # pragma: no cover - compiled
    """The dark current of pixel ``p`` in float64, as ``numpy.nan_to_num`` gives it."""
    d = np.float64(dark[p])
    d = 0.0 if np.isnan(d) else d
    return min(max(d, -FLOAT64_MAX), FLOAT64_MAX)


@lazy_njit(inline="always")
def _prepare(data, data_at, gdq, gdq_at, i, p, zf, has_zeroframe, suppress, values,
             work):  # pragma: no cover - compiled
    """Integration ``i`` of pixel ``p``: its values and fit flags, and its state bits.

    As ``segments.prepare_integration``: a non-finite value is DO_NOT_USE,
    PERSISTENCE is ignored, a ramp with one good group has none when
    suppressing; otherwise the one-good-first-group case is marked, and a
    ramp without good groups takes the ZEROFRAME value (``zf``) when it is
    finite and non-zero. Row ``i`` of ``values`` and ``work`` (one column per
    group) is filled; the returned bits are those of ``_IS_0TH`` ... ``_ALL_SAT``.
    """
    ngroups = values.shape[1]
    ngood = 0
    state = 0
    for g in range(ngroups):
        x = data[data_at[i, g] + p]
        flags = gdq[gdq_at[i, g] + p]
        if not np.isfinite(x):
            flags |= DO_NOT_USE
        if flags & SATURATED:
            state |= _ANY_SAT
        values[i, g] = x
        work[i, g] = flags & FIT_FLAGS
        ngood += work[i, g] == 0
    if suppress and ngood == 1:
        for g in range(ngroups):
            work[i, g] |= DO_NOT_USE
        ngood = 0
    if not suppress:
        if ngood == 1 and work[i, 0] == 0:
            state |= _IS_0TH
        if has_zeroframe and ngood == 0 and zf != 0 and np.isfinite(zf):
            state |= _IS_ZF
            values[i, 0] = zf
            work[i, 0] = 0
    nbad = 0
    nsat = 0
    for g in range(ngroups):
        nbad += (work[i, g] & (DO_NOT_USE | SATURATED)) != 0
        nsat += (work[i, g] & SATURATED) != 0
        if work[i, g] & JUMP_DET:
            state |= _JUMP
    if work[i, 0] & SATURATED:
        state |= _SAT0 | _NO_DATA | _ALL_SAT
    if nbad == ngroups:
        state |= _NO_DATA
    if nsat == ngroups:
        state |= _ALL_SAT
    return state


@lazy_njit(inline="always")
def _median_rate(values, work, i, state, times, data_times, diffs):  # pragma: no cover - compiled
    """Integration ``i``'s median first difference in DN/s, as ``segments.median_rate``.

    The usable differences (float64) are sorted and the two middle ones of
    the finite ones averaged, as ``segments.nan_median`` does (the unusable
    ones, NaN there, sort after them). ``diffs`` is scratch.
    """
    ngroups = values.shape[1]
    y0 = values[i, 0]
    if ngroups == 1:
        med = np.nan if _bad(work[i, 0]) else np.float64(y0 / data_times[_ONE_GROUP])
    else:
        count = 0
        for g in range(ngroups - 1):
            if not (_bad(work[i, g + 1]) or _bad(work[i, g]) or (work[i, g + 1] & JUMP_DET) != 0):
                diffs[count] = np.float64(values[i, g + 1]) - np.float64(values[i, g])
                count += 1
        _sort(diffs, count)
        finite = 0
        for g in range(count):
            finite += np.isfinite(diffs[g])
        med = np.nan
        if finite > 0:
            med = 0.5 * (diffs[(finite - 1) // 2] + diffs[finite // 2]) / times[_GROUP]
        if np.isnan(med):
            med = np.nan if _bad(work[i, 0]) else np.float64(y0 / data_times[_GROUP])
        if state & _IS_0TH:
            med = np.float64(y0 / data_times[_ONE_GROUP])
    if state & _IS_ZF:
        med = np.float64(y0 / data_times[_FRAME])
    return 0.0 if np.isnan(med) else med


@lazy_njit(inline="always")
def _bad(flags):  # pragma: no cover - compiled
    """Whether a group's fit flags make it unusable (DO_NOT_USE or SATURATED)."""
    return (flags & (DO_NOT_USE | SATURATED)) != 0


@lazy_njit(inline="always")
def _sort(x, count):  # pragma: no cover - compiled
    """Sort the first ``count`` items of ``x`` in place (insertion sort)."""
    for k in range(1, count):
        v = x[k]
        j = k - 1
        while j >= 0 and x[j] > v:
            x[j + 1] = x[j]
            j -= 1
        x[j + 1] = v


@lazy_njit(inline="always")
def _all_good(work, i):  # pragma: no cover - compiled
    """Whether integration ``i`` has two groups or more, all good."""
    if work.shape[1] < 2:
        return False
    for g in range(work.shape[1]):
        if work[i, g] != 0:
            return False
    return True


@lazy_njit(inline="always")
def _state_flags(state):  # pragma: no cover - compiled
    """The DQ bits of an integration's state: JUMP_DET, DO_NOT_USE, SATURATED."""
    dq = np.uint32(0)
    if state & _JUMP:
        dq |= np.uint32(JUMP_DET)
    if state & _NO_DATA:
        dq |= np.uint32(DO_NOT_USE)
    if state & _ALL_SAT:
        dq |= np.uint32(SATURATED)
    return dq


@lazy_njit(inline="always")
def _power_class(signal, den, gain, snr_edges):  # pragma: no cover - compiled
    """The weighting class of a segment, as ``weights.power_index(segments.segment_snr(...))``."""
    ok = den > 0.0 and gain != 0.0
    snr = signal / np.sqrt(den if den > 0.0 else 1.0) if ok else 0.0
    snr = snr if snr > 0.0 else 0.0
    cls = 0
    for e in range(snr_edges.shape[0]):
        cls += snr_edges[e] <= snr
    return cls


@lazy_njit(inline="always")
def _fit_clean(values, i, gain, rn_group, dark, mrate, table, snr_edges, times):  # pragma: no cover
    """Integration ``i``, whose groups are all good, as ``segments.fit_clean``.

    Returns ``(inv_p, inv_r, inv_e, inv_w, num)``.
    """
    ngroups = values.shape[1]
    n = np.float64(ngroups)
    y_first = np.float64(values[i, 0])
    signal = (values[i, ngroups - 1] - y_first) * gain
    rg = rn_group * gain
    den = rg * rg + signal
    row = (ngroups * CLASSES + _power_class(signal, den, gain, snr_edges)) * ngroups
    slope = 0.0
    for g in range(ngroups):
        slope += table[row + g] * values[i, g]
    x = rn_group / times[_GROUP]
    var_r = 12.0 * (x * x) / (n * n * n - n)
    var_r = var_r if gain > 0.0 else 0.0
    var_p = (mrate + dark if mrate > 0.0 else dark) / (times[_GROUP] * gain * (n - 1.0))
    inv_e = 1.0 / (var_p + var_r)
    inv_p = 1.0 / var_p if var_p > 0.0 else 0.0
    inv_w = 1.0 / var_r if var_r > 0.0 else inv_e
    return inv_p, 1.0 / var_r, inv_e, inv_w, slope * inv_w


@lazy_njit(inline="always")
def _segments(work, i, bounds):  # pragma: no cover - compiled
    """The segments of good groups of integration ``i``, as ``segments.find_segments``.

    A segment is a run of good groups; a group flagged JUMP_DET only,
    followed by a good group, starts the next one. Writes the first and last
    group of each segment into ``bounds[0]`` and ``bounds[1]``; returns
    their number.
    """
    ngroups = work.shape[1]
    nseg = 0
    before = False  # whether the previous group is in a segment
    for g in range(ngroups):
        jump_only = work[i, g] == JUMP_DET
        member = work[i, g] == 0 or (jump_only and g + 1 < ngroups and work[i, g + 1] == 0)
        if member and (not before or jump_only):
            bounds[0, nseg] = g
            nseg += 1
        if member:
            bounds[1, nseg - 1] = g
        before = member
    return nseg


@lazy_njit(inline="always")
def _fit_segments(values, work, i, state, gain, rn_group, dark, mrate, table, snr_edges, times,
                  bounds):  # pragma: no cover - compiled
    """Integration ``i``, with flagged groups, segment by segment, as ``segments.fit_segments``.

    One-group segments are dropped when a longer one exists, and only the
    first is kept otherwise; a ramp whose first group is saturated has none.
    ``bounds`` is scratch. Returns ``(inv_p, inv_r, inv_e, inv_w, num)``.
    """
    ngroups = values.shape[1]
    nseg = _segments(work, i, bounds)
    longest = 0
    for s in range(nseg):
        longest = max(longest, bounds[1, s] - bounds[0, s] + 1)
    if state & _SAT0:
        nseg = 0
    elif longest == 1:
        nseg = min(nseg, 1)
    if state & _IS_0TH:
        timing = times[_ONE_GROUP]
    elif state & _IS_ZF:
        timing = times[_FRAME]
    else:
        timing = times[_GROUP]
    rg = rn_group * gain
    rn_e2 = rg * rg
    inv_p = 0.0
    inv_r = 0.0
    inv_e = 0.0
    inv_w = 0.0
    num = 0.0
    for s in range(nseg):
        first = bounds[0, s]
        last = bounds[1, s]
        n = last - first + 1
        if n == 1 and longest >= 2:
            continue
        n_f = np.float64(n)
        single = n == 1
        t_seg = timing if single else times[_GROUP]
        if single:
            x = rn_group / timing
            var_r = 2.0 * (x * x)
        else:
            x = rn_group / times[_GROUP]
            var_r = 12.0 * (x * x) / (n_f * n_f * n_f - n_f)
            var_r = var_r if gain > 0.0 else 0.0
        pden = t_seg * gain * max(n_f - 1.0, 1.0)
        var_p = (mrate + dark if mrate > 0.0 else dark) / pden
        var_e = var_p + var_r
        weight = 1.0 / var_r if rn_group > 0.0 else 1.0 / var_e
        if single:
            num += 1.0 / timing * values[i, first] * weight
        else:
            y_first = np.float64(values[i, first])
            signal = (np.float64(values[i, last]) - y_first) * gain
            cls = _power_class(signal, rn_e2 + signal, gain, snr_edges)
            row = (n * CLASSES + cls) * ngroups
            for g in range(first, last + 1):
                num += table[row + g - first] * values[i, g] * weight
        inv_w += weight
        inv_e += 1.0 / var_e
        inv_r += 1.0 / var_r
        inv_p += 1.0 / var_p if var_p > 0.0 else 0.0
    return inv_p, inv_r, inv_e, inv_w, num


@lazy_njit(inline="always")
def _store_integration(dq, invalid, terms, ints, ints_dq, ints_vp, ints_vr, ints_err, ints_at, i,
                       p):  # pragma: no cover - compiled
    """Write integration ``i``'s slope, variances and DQ of pixel ``p``, as ``ols._store_integration``.

    Its plane starts at ``ints_at[k, i]`` in the ``k``-th of ``ints`` ... ``ints_err``.
    """
    inv_p, inv_r, inv_e, inv_w, num = terms
    var_p = 1.0 / inv_p if inv_p > 0.0 else 0.0
    var_p = 0.0 if var_p >= LARGE_VARIANCE_THRESHOLD else var_p
    var_r = 1.0 / inv_r if inv_r > 0.0 else np.inf
    var_r = 0.0 if var_r >= LARGE_VARIANCE_THRESHOLD else var_r
    var_e = 1.0 / inv_e
    err = 0.0 if var_e > LARGE_VARIANCE_THRESHOLD else np.sqrt(var_e)
    no_fit = not (inv_e > 0.0)
    invalid = invalid or no_fit
    ints[ints_at[0, i] + p] = np.nan if invalid else num / inv_w
    ints_dq[ints_at[1, i] + p] = dq | (np.uint32(DO_NOT_USE) if no_fit else np.uint32(0))
    ints_vp[ints_at[2, i] + p] = 0.0 if invalid else var_p
    ints_vr[ints_at[3, i] + p] = 0.0 if invalid else var_r
    ints_err[ints_at[4, i] + p] = 0.0 if invalid else err


@lazy_njit(inline="always")
def _combine(rdq, any_sat, sum_p, sum_r, sum_w, sum_num, p, rate, rate_dq, rate_vp, rate_vr,
             rate_err):  # pragma: no cover - compiled
    """The exposure's rate, variances and DQ of pixel ``p``, as ``ols._finish``.

    ``sum_*`` are the sums over the integrations of ``inv_p`` (where
    positive), ``inv_r``, ``inv_w`` and ``num``; ``rdq`` is the exposure's DQ
    before SATURATED is added for ``any_sat``.
    """
    invalid = (rdq & np.uint32(DO_NOT_USE | SATURATED)) != 0
    vp = 1.0 / sum_p if sum_p > 0.0 else 0.0
    vp = 0.0 if (vp >= LARGE_VARIANCE_THRESHOLD or vp < 0.0) else vp
    vr = 1.0 / sum_r if sum_r > 0.0 else 0.0
    vr = 0.0 if vr >= LARGE_VARIANCE_THRESHOLD else vr
    err = np.sqrt(vp + vr)
    rate[p] = np.nan if invalid else sum_num / sum_w
    rate_vp[p] = 0.0 if invalid else vp
    rate_vr[p] = 0.0 if invalid else vr
    rate_err[p] = 0.0 if invalid else err
    rate_dq[p] = rdq | (np.uint32(SATURATED) if any_sat else np.uint32(0))
