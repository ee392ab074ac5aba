"""Compiled two-point-difference jump search (the ``iterative`` mode).

One pass over each pixel's ramp does what the numpy functions of
:mod:`builtin_steps.jump.twopoint` do for the ``iterative`` mode: the first
differences in electrons, the iterative clipped-median search and the seed of
the neighbour flagging, operation by operation in the same precision, so the
flags are identical.

The ramps are taken row by row, in chunks of a row: the differences of a
chunk are formed plane by plane (long contiguous runs of each plane), then
sorted, a few hundred pixels at a time, by one sorting network applied to
all of them at once, and tested (pixels innermost: the compiler vectorises
these loops). Only the few pixels whose first test finds a jump, or which
already hold one, are then searched on their own.

:func:`search_block` flags the four neighbours of the jumps itself (the
jump step's blocks of rows) or returns the neighbour seed as bits, for the
caller to flag.
"""

from __future__ import annotations

import numpy as np

from builtin_steps._jit import lazy_njit

__all__ = ["search_block"]

DO_NOT_USE = 1
SATURATED = 2
JUMP_DET = 4

#: Differences per chunk (a whole 2048-pixel row for up to 16 differences per pixel).
_CHUNK_VALUES = 32768
#: Pixels sorted at once (their values stay in the first-level cache).
_SORTED = 256


@lazy_njit()
def search_block(
    data, data_strides, gdq, gdq_strides, gain, readnoise, nframes,
    normal, three, two, neighbors, low, high, out, new_jumps, seed,
):  # pragma: no cover - compiled; checked against the numpy functions in the tests
    """Flag the jumps of ``(nints, ngroups, ny, nx)`` ramps, and their neighbours or seeds.

    ``data`` and ``gdq`` are the memory of the ramps and their group flags as
    1-d arrays, with ``data_strides`` and ``gdq_strides`` the strides of the
    four axes in items (the last one 1); ``out`` (uint8, C order) receives the
    flags of ``gdq`` with the jumps found, and ``new_jumps[y]`` the number of
    JUMP_DET flags the search added to row ``y``. ``gain`` (float32) and
    ``readnoise`` (DN) are ``(ny, nx)``, ``nframes`` the frames per group;
    ``normal``, ``three`` and ``two`` the thresholds for 4+, 3 and 2 usable
    differences.

    With ``neighbors``, the jumps within ``(low, high)`` sigma of the plain
    median are seeds: when ``seed`` is empty, their four neighbours (in the
    block) are flagged JUMP_DET in ``out``, unless SATURATED or DO_NOT_USE;
    otherwise they are written to ``seed`` (``(nints, nbytes, ny, nx)`` uint8,
    zero on entry: group ``g`` in bit ``g % 8`` of byte ``g // 8``).
    """
    nints, ngroups, ny, nx = out.shape
    m = nints * (ngroups - 1)
    work = _work_arrays(nints, ngroups, nx, data[0] * gain[0, 0])
    chunk = work[4].shape[1]
    seeds = np.empty((0, 3), np.int64)
    above = np.empty((0, 3), np.int64)
    nabove = 0
    for y in range(ny):
        _start_row(y, ngroups, data_strides, gdq_strides, gain, readnoise, nframes, work)
        nseeds = 0
        new_jumps[y] = 0
        for lo in range(0, nx, chunk):
            nb = min(nx, lo + chunk) - lo
            _differences(data, gdq, out, y, lo, nb, work)
            for start in range(0, nb, _SORTED):
                stop = min(nb, start + _SORTED)
                _sort_columns(work[5], work[12], start, stop)
                _first_search(m, start, stop, lo, normal, three, two, work)
            if seeds.shape[0] < nseeds + m * nb:  # room for every difference of the chunk
                seeds = _grown(seeds, nseeds, m * nx)
            found, added = _search_pixels(
                out, y, lo, nb, normal, three, two, neighbors, low, high, work, seeds[nseeds:]
            )
            nseeds += found
            new_jumps[y] += added
        if seed.size:
            for s in range(nseeds):
                i, g, x = seeds[s, 0], seeds[s, 1], seeds[s, 2]
                seed[i, g // 8, y, x] |= np.uint8(1 << (g % 8))
        else:
            _flag_neighbors(out, y, seeds, nseeds, above, nabove)
            seeds, above, nabove = above, seeds, nseeds


@lazy_njit()
def _start_row(
    y, ngroups, data_strides, gdq_strides, gain, readnoise, nframes, work
):  # pragma: no cover - compiled
    """Where row ``y`` starts in each plane, and its gain and read-noise variance (e-**2)."""
    data_rows, gdq_rows, row_gain, rn2 = work[0], work[1], work[2], work[3]
    for plane in range(data_rows.shape[0]):
        i, g = plane // ngroups, plane % ngroups
        data_rows[plane] = i * data_strides[0] + g * data_strides[1] + y * data_strides[2]
        gdq_rows[plane] = i * gdq_strides[0] + g * gdq_strides[1] + y * gdq_strides[2]
    for x in range(row_gain.shape[0]):
        row_gain[x] = gain[y, x]
        electrons = np.float64(readnoise[y, x]) * np.float64(row_gain[x])
        rn2[x] = electrons * electrons / nframes


@lazy_njit()
def _grown(seeds, nseeds, more):  # pragma: no cover - compiled
    """``seeds`` with room for ``more`` rows after its first ``nseeds``."""
    grown = np.empty((nseeds + more, 3), np.int64)
    for s in range(nseeds):
        for c in range(3):
            grown[s, c] = seeds[s, c]
    return grown


@lazy_njit()
def _flag_neighbors(out, y, seeds, nseeds, above, nabove):  # pragma: no cover - compiled
    """JUMP_DET on the neighbours of the seeds of row ``y`` and of the row above.

    The seeds of row ``y`` flag the row above and their own row; those of the
    row above flag row ``y``, now complete.
    """
    nx = out.shape[3]
    for s in range(nseeds):
        i, g, x = seeds[s, 0], seeds[s, 1], seeds[s, 2]
        if y > 0:
            _flag_usable(out, i, g, y - 1, x)
        if x > 0:
            _flag_usable(out, i, g, y, x - 1)
        if x + 1 < nx:
            _flag_usable(out, i, g, y, x + 1)
    for s in range(nabove):
        _flag_usable(out, above[s, 0], above[s, 1], y, above[s, 2])


@lazy_njit()
def _flag_usable(out, i, g, y, x):  # pragma: no cover - compiled
    """JUMP_DET on group ``g`` of pixel ``(y, x)`` unless it is SATURATED or DO_NOT_USE."""
    if not out[i, g, y, x] & np.uint8(SATURATED | DO_NOT_USE):
        out[i, g, y, x] |= np.uint8(JUMP_DET)


@lazy_njit()
def _work_arrays(nints, ngroups, nx, electrons):  # pragma: no cover - compiled
    """The work arrays of :func:`search_block`; ``electrons`` has the type of data times gain."""
    m = nints * (ngroups - 1)
    chunk = min(nx, max(_SORTED, _CHUNK_VALUES // max(m, 1)))
    return (
        np.empty(nints * ngroups, np.int64),  # 0: where the row starts in each data plane
        np.empty(nints * ngroups, np.int64),  # 1: the same in the flags
        np.empty(nx, np.float32),  # 2: gain of the row
        np.empty(nx, np.float64),  # 3: read-noise variance of the row
        np.empty((m, chunk), np.float32),  # 4: differences
        np.empty((m, chunk), np.float32),  # 5: their absolute values, sorted
        np.empty(chunk, np.int64),  # 6: usable differences
        np.empty(chunk, np.bool_),  # 7: a jump already flagged
        np.empty(chunk, np.bool_),  # 8: the first test finds a jump
        np.empty(m, np.float32),  # 9: one pixel's values
        np.empty(m, np.float32),  # 10: the same, sorted
        np.empty(m, np.bool_),  # 11: one pixel's jumps
        _sorting_network(m),  # 12
        np.full(chunk, electrons),  # 13: a group in electrons
    )


@lazy_njit()
def _sorting_network(m):  # pragma: no cover - compiled
    """Comparators ``(low, high)`` of Batcher's odd-even merge sort of ``m`` values."""
    pairs = np.empty((0, 2), np.int64)
    for fill in range(2):
        n = 0
        p = 1
        while p < m:
            k = p
            while k > 0:
                for j in range(k % p, m - k, 2 * k):
                    for i in range(min(k, m - j - k)):
                        if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                            if fill:
                                pairs[n, 0] = i + j
                                pairs[n, 1] = i + j + k
                            n += 1
                k //= 2
            p *= 2
        if not fill:
            pairs = np.empty((n, 2), np.int64)
    return pairs


@lazy_njit()
def _differences(data, gdq, out, y, lo, nb, work):  # pragma: no cover - compiled
    """Copy the flags of pixels ``lo:lo + nb`` of row ``y`` and form their differences.

    Fills the differences (NaN where either group is DO_NOT_USE or
    SATURATED), their absolute values (NaN as +inf), the count of usable ones
    and whether a group after the first is already a jump.
    """
    nints, ngroups = out.shape[0], out.shape[1]
    data_rows, gdq_rows = work[0], work[1]
    diffs, sortb, count, prior = work[4], work[5], work[6], work[7]
    hi = lo + nb
    bad = np.uint8(DO_NOT_USE | SATURATED)
    nan32 = np.float32(np.nan)
    inf32 = np.float32(np.inf)
    gain = work[2][lo:hi]
    for q in range(nb):
        count[q] = 0
        prior[q] = False
    for i in range(nints):
        for g in range(ngroups):
            flags = gdq[gdq_rows[i * ngroups + g] + lo:gdq_rows[i * ngroups + g] + hi]
            copy = out[i, g, y, lo:hi]
            for q in range(nb):
                copy[q] = flags[q]
            if g:
                for q in range(nb):
                    prior[q] |= (flags[q] & np.uint8(JUMP_DET)) != 0
        previous = work[13]
        values = data[data_rows[i * ngroups] + lo:data_rows[i * ngroups] + hi]
        flags = gdq[gdq_rows[i * ngroups] + lo:gdq_rows[i * ngroups] + hi]
        for q in range(nb):
            a = values[q] * gain[q]
            previous[q] = nan32 if flags[q] & bad else a
        for k in range(ngroups - 1):
            plane = i * ngroups + k + 1
            values = data[data_rows[plane] + lo:data_rows[plane] + hi]
            flags = gdq[gdq_rows[plane] + lo:gdq_rows[plane] + hi]
            diff = diffs[i * (ngroups - 1) + k]
            value = sortb[i * (ngroups - 1) + k]
            for q in range(nb):
                b = values[q] * gain[q]
                b = nan32 if flags[q] & bad else b
                diff[q] = b - previous[q]
                previous[q] = b
                v = abs(diff[q])
                value[q] = inf32 if np.isnan(v) else v
                count[q] += v < inf32


@lazy_njit()
def _sort_columns(values, network, start, stop):  # pragma: no cover - compiled
    """Sort columns ``start:stop`` of ``values`` (no NaN) along its first axis."""
    for c in range(network.shape[0]):
        low = values[network[c, 0], start:stop]
        high = values[network[c, 1], start:stop]
        for q in range(stop - start):
            a = low[q]
            b = high[q]
            low[q] = a if a < b else b
            high[q] = b if a < b else a


@lazy_njit(inline="always")
def _exceeds(low, high, top, bottom, rn2, limit):  # pragma: no cover - compiled
    """The clipped-median test: the value furthest from the median beyond ``limit`` sigma."""
    median = 0.5 * (np.float64(low) + high)
    sigma = np.sqrt(abs(median) + rn2)
    r_top = (top - median) / sigma
    r_bottom = (median - bottom) / sigma
    ratio = r_top if r_top >= r_bottom else r_bottom
    return (ratio > limit) & (sigma > 0)


@lazy_njit()
def _first_search(m, start, stop, lo, normal, three, two, work):  # pragma: no cover - compiled
    """The first clipped-median test of columns ``start:stop`` of the chunk at ``lo``."""
    rn2 = work[3][lo + start:lo + stop]
    sortb = work[5]
    count = work[6][start:stop]
    candidate = work[8][start:stop]
    full = True
    for q in range(stop - start):
        full &= count[q] == m
    if full:  # the usual case: the same ranks in every column
        kept = m - 1 if m >= 4 else (3 if m == 3 else 1)
        limit = normal if m >= 4 else (three if m == 3 else (two if m == 2 else np.inf))
        low, high = sortb[(kept - 1) // 2, start:stop], sortb[kept // 2, start:stop]
        top, bottom = sortb[max(m - 1, 0), start:stop], sortb[0, start:stop]
        for q in range(stop - start):
            candidate[q] = _exceeds(low[q], high[q], top[q], bottom[q], rn2[q], limit)
        return
    for q in range(stop - start):
        c = count[q]
        kept = c - 1 if c >= 4 else (3 if c == 3 else 1)
        limit = normal if c >= 4 else (three if c == 3 else (two if c == 2 else np.inf))
        column = start + q
        candidate[q] = _exceeds(
            sortb[(kept - 1) // 2, column], sortb[kept // 2, column],
            sortb[max(c - 1, 0), column], sortb[0, column], rn2[q], limit,
        )


@lazy_njit()
def _search_pixels(
    out, y, lo, nb, normal, three, two, neighbors, low, high, work, seeds
):  # pragma: no cover - compiled
    """The iterative search of the pixels whose first test found a jump or which hold one.

    Flags their jumps in ``out`` and, with ``neighbors``, writes their seed
    jumps to ``seeds`` as ``(int, group, x)`` rows. Returns the number of
    seeds and of new jumps.
    """
    nints, ndiff = out.shape[0], out.shape[1] - 1
    m = nints * ndiff
    rn2, diffs, prior, candidate = work[3], work[4], work[7], work[8]
    column, srt, jumps = work[9], work[10], work[11]
    nseeds = 0
    new = 0
    for q in range(nb):
        if not (candidate[q] or prior[q]):
            continue
        p = lo + q
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
                flags = out[i, k + 1, y, p]
                if jumps[i * ndiff + k] and not flags & np.uint8(JUMP_DET):
                    out[i, k + 1, y, p] = flags | np.uint8(JUMP_DET)
                    new += 1
                any_jump |= (out[i, k + 1, y, p] & np.uint8(JUMP_DET)) != 0
        if neighbors and any_jump:
            for r in range(m):
                column[r] = diffs[r, q]
            median = _plain_median(column, srt)
            sigma = np.sqrt(abs(median) + rn2[p])
            if not sigma > 0:
                sigma = np.nan
            for i in range(nints):
                for k in range(ndiff):
                    if out[i, k + 1, y, p] & np.uint8(JUMP_DET):
                        ratio = abs(diffs[i * ndiff + k, q] - median) / sigma
                        if ratio > low and ratio < high:
                            seeds[nseeds, 0] = i
                            seeds[nseeds, 1] = k + 1
                            seeds[nseeds, 2] = p
                            nseeds += 1
    return nseeds, new


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
