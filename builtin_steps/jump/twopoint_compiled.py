"""Compiled two-point-difference jump search (the ``iterative`` mode).

One pass over each pixel's ramp does what the numpy functions of
:mod:`builtin_steps.jump.twopoint` do for the ``iterative`` mode: the first
differences in electrons, the iterative clipped-median search and the seed of
the neighbour flagging, operation by operation in the same precision, so the
flags are identical. The pixels are taken in blocks whose ramps stay in the
processor's cache: the differences of a block are formed plane by plane, then
each pixel is searched on its own.
"""

from __future__ import annotations

import numpy as np

from builtin_steps._jit import lazy_njit

__all__ = ["iterative_jumps"]

DO_NOT_USE = 1
SATURATED = 2
JUMP_DET = 4

#: Pixels per block.
_BLOCK = 256


@lazy_njit()
def iterative_jumps(
    data, gdq, gain, rn2, normal, three, two, neighbors, low, high, seed
):  # pragma: no cover - compiled; checked against the numpy functions in the tests
    """Flag jumps of ``(nints, ngroups, npix)`` ramps in ``gdq`` (in place).

    ``gain`` (float32) and ``rn2`` (float64, electrons squared) are per pixel;
    ``normal``, ``three`` and ``two`` the thresholds for 4+, 3 and 2 usable
    differences. With ``neighbors``, the jumps within ``(low, high)`` sigma of
    the plain median are written to ``seed`` (``(nints, nbytes, npix)`` uint8,
    group ``g`` in bit ``g % 8`` of byte ``g // 8``; zero elsewhere).
    """
    nints, ngroups, npix = data.shape
    ndiff = ngroups - 1
    m = nints * ndiff
    nbytes = seed.shape[1]
    diffs = np.empty((m, _BLOCK), np.float32)
    column = np.empty(m, np.float32)
    srt = np.empty(m, np.float32)
    jumps = np.empty(m, np.bool_)
    sortb = np.empty((m, _BLOCK), np.float32)
    count = np.empty(_BLOCK, np.int64)
    prior = np.empty(_BLOCK, np.bool_)
    candidate = np.empty(_BLOCK, np.bool_)
    bad = np.uint8(DO_NOT_USE | SATURATED)
    nan32 = np.float32(np.nan)
    for lo in range(0, npix, _BLOCK):
        nb = min(npix, lo + _BLOCK) - lo
        for i in range(nints):
            for k in range(ndiff):
                row = i * ndiff + k
                for q in range(nb):
                    p = lo + q
                    g0 = gain[p]
                    a = data[i, k, p] * g0
                    b = data[i, k + 1, p] * g0
                    a = nan32 if gdq[i, k, p] & bad else a
                    b = nan32 if gdq[i, k + 1, p] & bad else b
                    diffs[row, q] = b - a
        # first search of every pixel of the block at once (pixels innermost):
        # most pixels have no jump and need nothing more
        for q in range(nb):
            count[q] = 0
            prior[q] = False
        for r in range(m):
            for q in range(nb):
                v = abs(diffs[r, q])
                count[q] += np.isfinite(v)
                sortb[r, q] = np.float32(np.inf) if np.isnan(v) else v
        for i in range(nints):
            for k in range(1, ngroups):
                for q in range(nb):
                    prior[q] |= (gdq[i, k, lo + q] & np.uint8(JUMP_DET)) != 0
        for rnd in range(m):  # odd-even transposition sort of the columns
            for r in range(rnd % 2, m - 1, 2):
                for q in range(nb):
                    a = sortb[r, q]
                    b = sortb[r + 1, q]
                    sortb[r, q] = a if a < b else b
                    sortb[r + 1, q] = b if a < b else a
        for q in range(nb):
            c = count[q]
            kept = c - 1 if c >= 4 else (3 if c == 3 else 1)
            limit = normal if c >= 4 else (three if c == 3 else (two if c == 2 else np.inf))
            median = 0.5 * (np.float64(sortb[(kept - 1) // 2, q]) + sortb[kept // 2, q])
            sigma = np.sqrt(abs(median) + rn2[lo + q])
            r_top = (sortb[max(c - 1, 0), q] - median) / sigma
            r_bottom = (median - sortb[0, q]) / sigma
            ratio = r_top if r_top >= r_bottom else r_bottom
            candidate[q] = (ratio > limit) & (sigma > 0)
        for q in range(nb):
            p = lo + q
            if not (candidate[q] or prior[q]):
                for i in range(nints):
                    for byte in range(nbytes):
                        seed[i, byte, p] = 0
                continue
            for r in range(m):
                column[r] = abs(diffs[r, q])
                jumps[r] = False
            while True:
                found, index = _strongest(column, srt, rn2[p], normal, three, two)
                if not found:
                    break
                jumps[index] = True
                column[index] = np.float32(np.nan)
                usable = 0
                for r in range(m):
                    usable += np.isfinite(column[r])
                if usable < 2:
                    break
            any_jump = False
            for i in range(nints):
                for k in range(ndiff):
                    if jumps[i * ndiff + k]:
                        gdq[i, k + 1, p] |= np.uint8(JUMP_DET)
                    if gdq[i, k + 1, p] & np.uint8(JUMP_DET):
                        any_jump = True
            for i in range(nints):
                for byte in range(nbytes):
                    seed[i, byte, p] = 0
            if neighbors and any_jump:
                for r in range(m):
                    column[r] = diffs[r, q]
                median = _plain_median(column, srt)
                sigma = np.sqrt(abs(median) + rn2[p])
                if not sigma > 0:
                    sigma = np.nan
                for i in range(nints):
                    for k in range(ndiff):
                        if gdq[i, k + 1, p] & np.uint8(JUMP_DET):
                            ratio = abs(diffs[i * ndiff + k, q] - median) / sigma
                            if ratio > low and ratio < high:
                                g = k + 1
                                seed[i, g // 8, p] |= np.uint8(1 << (g % 8))


@lazy_njit()
def _strongest(values, srt, rn2, normal, three, two):  # pragma: no cover - compiled
    """The clipped-median outlier test of one pixel: (found, row of the outlier)."""
    m = values.shape[0]
    count = 0
    for r in range(m):
        v = values[r]
        if np.isfinite(v):
            count += 1
        if np.isnan(v):
            v = np.float32(np.inf)
        j = r - 1
        while j >= 0 and srt[j] > v:  # insertion sort, NaN as +inf
            srt[j + 1] = srt[j]
            j -= 1
        srt[j + 1] = v
    if count >= 4:
        kept = count - 1
        limit = normal
    elif count == 3:
        kept = 3
        limit = three
    else:
        kept = 1
        limit = two if count == 2 else np.inf
    median = 0.5 * (np.float64(srt[(kept - 1) // 2]) + srt[kept // 2])
    sigma = np.sqrt(abs(median) + rn2)
    top = srt[max(count - 1, 0)]
    bottom = srt[0]
    r_top = (top - median) / sigma
    r_bottom = (median - bottom) / sigma
    use_top = r_top >= r_bottom
    ratio = r_top if use_top else r_bottom
    if not (ratio > limit and sigma > 0):
        return False, 0
    target = top if use_top else bottom
    for r in range(m):
        if values[r] == target:
            return True, r
    return True, 0


@lazy_njit()
def _plain_median(values, srt):  # pragma: no cover - compiled
    """Median of the finite values (as numpy: sorted with NaN last), NaN if none."""
    m = values.shape[0]
    count = 0
    for r in range(m):
        v = values[r]
        if np.isfinite(v):
            count += 1
        j = r - 1
        # NaN sorts after everything, +inf included
        while j >= 0 and (np.isnan(srt[j]) and not np.isnan(v) or srt[j] > v):
            srt[j + 1] = srt[j]
            j -= 1
        srt[j + 1] = v
    if count == 0:
        return np.nan
    lo = srt[max(count - 1, 0) // 2]
    hi = srt[min(count // 2, m - 1)]
    return 0.5 * (np.float64(lo) + hi)
