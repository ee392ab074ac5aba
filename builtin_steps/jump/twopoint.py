"""Two-point-difference jump detection (pure numpy).

For every pixel the first differences of adjacent groups (in electrons,
skipping groups flagged DO_NOT_USE or SATURATED) are compared with their
median.  The expected noise of one difference is
``sigma = sqrt(|median| + readnoise_e**2 / nframes)`` (Poisson noise from the
median signal plus the read noise of a two-read difference).  Depending on
how much data the exposure has, one of three modes is used (the choice is made
once for the whole exposure by :func:`choose_mode`):

``iterative`` (the usual case: fewer than ``min_diffs_single_pass`` usable
    differences per integration)
    The absolute differences of all integrations are pooled.  Their median is
    clipped (the largest value is left out when at least four remain, the
    smaller of two is used when only two remain).  The difference furthest
    from the median, in units of sigma, is a jump if it exceeds the threshold
    for the number of usable differences (``rejection_threshold`` for four or
    more, ``four_group_rejection_threshold`` for three,
    ``three_group_rejection_threshold`` for two).  It is then excluded and the
    search repeats until no new jump is found or one difference is left.
``single_pass``
    Every difference further than ``rejection_threshold`` sigma from the plain
    median of all differences is a jump.
``sigma_clip`` (at least ``minimum_sigclip_groups`` integrations, or groups)
    Differences are sigma-clipped across integrations (or across everything
    when ``only_use_ints`` is False) with ``astropy.stats.sigma_clip``.

:func:`detect_jumps` works on any block of rows and returns, besides the new
GROUPDQ, the jumps whose size qualifies them for flagging their four
neighbours (``min_jump_to_flag_neighbors < ratio < max_jump_to_flag_neighbors``,
measured from the plain median).  The neighbour flagging itself is done on the
full frame by :mod:`builtin_steps.jump.neighbors`, so it is exact across
row blocks. :func:`flag_jumps_and_neighbors` does the ``iterative`` search and
that flagging in one compiled pass over a block of rows, and counts the new
jumps of each row.
"""

from __future__ import annotations

import warnings

import numpy as np

from builtin_steps._kernel_arrays import flat_memory
from pipeline_core.errors import ParameterError

__all__ = [
    "MODES",
    "choose_mode",
    "count_unusable_groups",
    "detect_jumps",
    "flag_jumps_and_neighbors",
    "signed_median_diffs",
    "clear_frame_wide_jumps",
]

DO_NOT_USE = 1
SATURATED = 2
JUMP_DET = 4

#: The detection modes, see the module docstring.
MODES = ("iterative", "single_pass", "sigma_clip", "skip")

#: Pixels per internal block: keeps temporaries small and in cache.
_BLOCK_PIXELS = 32768


def choose_mode(
    groupdq: np.ndarray,
    *,
    minimum_groups: int = 3,
    minimum_sigclip_groups: int = 100,
    only_use_ints: bool = True,
    min_diffs_single_pass: int = 10,
) -> str:
    """Choose the detection mode for a whole exposure.

    Parameters
    ----------
    groupdq : ndarray of uint8, shape (nints, ngroups, ny, nx)
        The exposure's group flags (all rows: the choice must not depend on
        how the rows are split).
    minimum_groups, minimum_sigclip_groups, only_use_ints, min_diffs_single_pass
        The JWST jump parameters of the same names.

    Returns
    -------
    str
        One of `MODES`; ``"skip"`` when there are too few usable groups.
    """
    nints, ngroups = groupdq.shape[:2]
    # Groups flagged DO_NOT_USE in every pixel (e.g. MIRI first/last frames).
    all_dnu = np.array(
        [[_all_do_not_use(groupdq[i, g]) for g in range(ngroups)] for i in range(nints)]
    ).reshape(nints, ngroups)
    per_int = all_dnu.sum(axis=1)
    min_usable_groups = ngroups - int(per_int.max(initial=0))
    total_groups = nints * ngroups - int(per_int.sum())
    total_sigclip = nints if only_use_ints else total_groups
    if total_sigclip >= minimum_sigclip_groups:
        return "sigma_clip"
    if min_usable_groups < minimum_groups:
        return "skip"
    if min_usable_groups - 1 >= min_diffs_single_pass:
        return "single_pass"
    return "iterative"


def count_unusable_groups(groupdq: np.ndarray) -> int:
    """Number of groups (over all integrations) flagged DO_NOT_USE in every pixel.

    Parameters
    ----------
    groupdq : ndarray of uint8, shape (nints, ngroups, ny, nx)
        Group flags.

    Returns
    -------
    int
    """
    nints, ngroups = groupdq.shape[:2]
    return sum(_all_do_not_use(groupdq[i, g]) for i in range(nints) for g in range(ngroups))


def _all_do_not_use(plane: np.ndarray) -> bool:
    """Whether every pixel of a group is DO_NOT_USE (the first pixel decides most groups)."""
    if plane.size and not plane.flat[0] & DO_NOT_USE:
        return False
    return bool(np.all(plane & DO_NOT_USE))


def detect_jumps(
    data: np.ndarray,
    groupdq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    mode: str = "iterative",
    rejection_threshold: float = 4.0,
    three_group_rejection_threshold: float = 6.0,
    four_group_rejection_threshold: float = 5.0,
    nframes: int = 1,
    flag_4_neighbors: bool = True,
    max_jump_to_flag_neighbors: float = 1000.0,
    min_jump_to_flag_neighbors: float = 10.0,
    only_use_ints: bool = True,
) -> dict[str, np.ndarray]:
    """Flag jumps in a block of ramps.

    Parameters
    ----------
    data : ndarray of float32, shape (nints, ngroups, ny, nx)
        Ramps in DN.
    groupdq : ndarray of uint8, same shape
        Input group flags; not modified.
    gain : ndarray, shape (ny, nx)
        Gain in e-/DN.  Pixels with a non-positive or NaN gain are skipped.
    readnoise : ndarray, shape (ny, nx)
        Noise of a two-read difference in DN.
    mode : str
        Detection mode from :func:`choose_mode`.
    rejection_threshold, three_group_rejection_threshold, four_group_rejection_threshold : float
        Thresholds in sigma for ramps with 4+, 2 and 3 usable differences.
    nframes : int
        Frames averaged per group (lowers the read noise of a group).
    flag_4_neighbors : bool
        Whether to report jumps that qualify for neighbour flagging.
    max_jump_to_flag_neighbors, min_jump_to_flag_neighbors : float
        Range (in sigma, exclusive) of jumps whose neighbours are flagged.
    only_use_ints : bool
        In ``sigma_clip`` mode, clip each group difference across
        integrations only (True) or all differences together (False).

    Returns
    -------
    dict
        ``groupdq``: the new group flags (uint8, same shape as the input);
        ``neighbor_seed``: the jumps whose four neighbours are to be flagged,
        as bits packed along the group axis (uint8, shape
        ``(nints, ceil(ngroups / 8), ny, nx)``, group ``g`` in bit ``g % 8``
        of byte ``g // 8``; all zero when `flag_4_neighbors` is False).  See
        :func:`builtin_steps.jump.neighbors.flag_four_neighbors`.
    """
    if mode not in MODES:
        raise ParameterError(
            f"detect_jumps: mode={mode!r} is not a detection mode; accepted: "
            f"{', '.join(MODES)} (choose it with choose_mode())"
        )
    nints, ngroups, ny, nx = data.shape
    npix = ny * nx
    gdq_out = groupdq.copy()
    seed = np.zeros((nints, (ngroups + 7) // 8, ny, nx), dtype=np.uint8)
    if mode == "skip" or ngroups < 2 or data.size == 0:
        return {"groupdq": gdq_out, "neighbor_seed": seed}
    thresholds = (
        rejection_threshold,
        four_group_rejection_threshold,
        three_group_rejection_threshold,
    )
    neighbors = None
    if flag_4_neighbors:
        neighbors = (min_jump_to_flag_neighbors, max_jump_to_flag_neighbors)
    if mode == "iterative":
        new_jumps = np.empty(ny, np.int64)
        _iterative_compiled(
            data, groupdq, gain, readnoise, nframes, thresholds, neighbors, gdq_out, new_jumps, seed
        )
        return {"groupdq": gdq_out, "neighbor_seed": seed}
    flat_data = data.reshape(nints, ngroups, npix)
    flat_gdq = gdq_out.reshape(nints, ngroups, npix)
    flat_seed = seed.reshape(nints, -1, npix)
    gain_f = np.asarray(gain, dtype=np.float32).reshape(npix)
    rn2 = (np.asarray(readnoise, dtype=np.float64).reshape(npix) * gain_f) ** 2 / nframes
    step = max(256, _BLOCK_PIXELS * 8 // max(1, nints * ngroups))
    with np.errstate(divide="ignore", invalid="ignore"):
        for lo in range(0, npix, step):
            sl = slice(lo, min(npix, lo + step))
            diffs = _first_diffs(flat_data[:, :, sl], flat_gdq[:, :, sl], gain_f[sl])
            if mode == "single_pass":
                jumps = _single_pass(diffs, rn2[sl], rejection_threshold)
            else:
                jumps = _sigma_clip(diffs, rejection_threshold, only_use_ints)
            block_gdq = flat_gdq[:, 1:, sl]
            block_gdq |= np.where(jumps, JUMP_DET, 0).astype(np.uint8)
            if neighbors is not None:
                flat_seed[:, :, sl] = _neighbor_seed(diffs, block_gdq, rn2[sl], *neighbors)
    return {"groupdq": gdq_out, "neighbor_seed": seed}


def flag_jumps_and_neighbors(
    data: np.ndarray,
    groupdq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    rejection_threshold: float = 4.0,
    three_group_rejection_threshold: float = 6.0,
    four_group_rejection_threshold: float = 5.0,
    nframes: int = 1,
    flag_4_neighbors: bool = True,
    max_jump_to_flag_neighbors: float = 1000.0,
    min_jump_to_flag_neighbors: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Flag the jumps of the ``iterative`` mode and their four neighbours.

    The result of :func:`detect_jumps` in ``iterative`` mode with the four
    neighbours of its ``neighbor_seed`` flagged as
    :func:`builtin_steps.jump.neighbors.flag_four_neighbors` does, in one
    compiled pass.

    Parameters
    ----------
    data, groupdq, gain, readnoise
        As for :func:`detect_jumps` (`groupdq` is not modified).
    rejection_threshold, three_group_rejection_threshold, four_group_rejection_threshold, nframes
        As for :func:`detect_jumps`.
    flag_4_neighbors, max_jump_to_flag_neighbors, min_jump_to_flag_neighbors
        As for :func:`detect_jumps`: whether and which neighbours to flag.

    Returns
    -------
    groupdq : ndarray of uint8, same shape as `data`
        The new group flags.
    new_jumps : ndarray of int64, shape (ny,)
        The number of JUMP_DET flags the search added to each row (the
        neighbours not counted).
    """
    ngroups, ny = data.shape[1:3]
    gdq_out = np.empty(groupdq.shape, np.uint8)
    new_jumps = np.zeros(ny, np.int64)
    if ngroups < 2 or data.size == 0:
        gdq_out[...] = groupdq
        return gdq_out, new_jumps
    thresholds = (rejection_threshold, four_group_rejection_threshold, three_group_rejection_threshold)
    neighbors = (min_jump_to_flag_neighbors, max_jump_to_flag_neighbors) if flag_4_neighbors else None
    no_seed = np.zeros((0, 0, 0, 0), np.uint8)  # the neighbours are flagged in gdq_out
    _iterative_compiled(
        data, groupdq, gain, readnoise, nframes, thresholds, neighbors, gdq_out, new_jumps, no_seed
    )
    return gdq_out, new_jumps


def _iterative_compiled(
    data, groupdq, gain, readnoise, nframes, thresholds, neighbors, gdq_out, new_jumps, seed
):
    """The ``iterative`` mode, compiled (identical flags to the numpy functions below).

    Fills `gdq_out`, `new_jumps` and `seed`, or flags the neighbours in
    `gdq_out` when `seed` is empty; see
    :func:`builtin_steps.jump.twopoint_compiled.search_block`.
    """
    from builtin_steps.jump.twopoint_compiled import search_block

    low, high = (0.0, 0.0) if neighbors is None else (float(neighbors[0]), float(neighbors[1]))
    normal, three, two = (float(t) for t in thresholds)
    search_block(
        *flat_memory(data), *flat_memory(groupdq), np.ascontiguousarray(gain, dtype=np.float32),
        np.ascontiguousarray(readnoise), nframes, normal, three, two, neighbors is not None,
        low, high, gdq_out, new_jumps, seed,
    )


def _first_diffs(data, gdq, gain):
    """First differences in electrons, NaN where either group is unusable."""
    electrons = data * gain[None, None, :]
    electrons = np.where((gdq & (DO_NOT_USE | SATURATED)) != 0, np.float32(np.nan), electrons)
    return np.diff(electrons, axis=1)


def _iterative(diffs, rn2, thresholds):
    """Iterative clipped-median search on the pooled absolute differences."""
    nints, ndiffs, npix = diffs.shape
    pooled = np.abs(diffs).reshape(nints * ndiffs, npix)
    jumps = np.zeros(pooled.shape, dtype=bool)
    active = np.arange(npix)
    work = pooled
    while active.size:
        found, index = _strongest_outlier(work, rn2[active], thresholds)
        if not found.any():
            break
        hit = active[found]
        jumps[index[found], hit] = True
        work = work[:, found]
        work[index[found], np.arange(hit.size)] = np.nan
        usable = np.isfinite(work).sum(axis=0)
        more = usable >= 2
        active = hit[more]
        work = work[:, more]
    return jumps.reshape(nints, ndiffs, npix)


def _strongest_outlier(values, rn2, thresholds):
    """Find, per pixel, the value furthest from the clipped median.

    Returns a boolean array (the outlier exceeds the threshold for the
    number of usable values) and the row index of that value.
    """
    normal, three, two = thresholds
    count = np.isfinite(values).sum(axis=0)
    srt = _sorted_rows(values)
    cols = np.arange(values.shape[1])
    kept = np.where(count >= 4, count - 1, np.where(count == 3, 3, 1))
    lo = srt[(kept - 1) // 2, cols]
    hi = srt[kept // 2, cols]
    median = 0.5 * (lo.astype(np.float64) + hi)
    sigma = np.sqrt(np.abs(median) + rn2)
    top = srt[np.maximum(count - 1, 0), cols]
    bottom = srt[0]
    r_top = (top - median) / sigma
    r_bottom = (median - bottom) / sigma
    use_top = r_top >= r_bottom
    ratio = np.where(use_top, r_top, r_bottom)
    limit = np.select([count >= 4, count == 3, count == 2], [normal, three, two], np.inf)
    found = (ratio > limit) & (sigma > 0)
    index = np.zeros(values.shape[1], dtype=np.intp)
    hit = np.flatnonzero(found)
    if hit.size:
        target = np.where(use_top, top, bottom)[hit]
        index[hit] = np.argmax(values[:, hit] == target[None, :], axis=0)
    return found, index


def _sorted_rows(values):
    """Sort a (m, npix) array along its first axis, NaN last (as +inf).

    Small ``m`` uses an odd-even transposition network of whole-row
    ``minimum``/``maximum`` calls (fast on contiguous rows); larger ``m``
    falls back to ``np.sort``.
    """
    m = values.shape[0]
    if m > 16:
        return np.sort(values, axis=0)
    rows = [np.where(np.isnan(values[k]), np.inf, values[k]) for k in range(m)]
    for rnd in range(m):
        for k in range(rnd % 2, m - 1, 2):
            low = np.minimum(rows[k], rows[k + 1])
            np.maximum(rows[k], rows[k + 1], out=rows[k + 1])
            rows[k] = low
    return np.stack(rows)


def _single_pass(diffs, rn2, threshold):
    """Flag every difference beyond `threshold` sigma of the plain median."""
    median, sigma = _plain_median_sigma(diffs, rn2)
    ratio = np.abs(diffs - median) / sigma
    return np.isfinite(diffs) & (ratio > threshold)


def _sigma_clip(diffs, threshold, only_use_ints):
    """Sigma-clip the differences across integrations (or everything)."""
    from astropy.stats import sigma_clip
    from astropy.utils.exceptions import AstropyUserWarning

    axis = 0 if only_use_ints else (0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        clipped = sigma_clip(diffs, sigma=threshold, axis=axis, masked=True)
    return np.ma.getmaskarray(clipped) & np.isfinite(diffs)


def signed_median_diffs(diffs: np.ndarray, rn2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median of all first differences of each pixel, and the matching sigma.

    Parameters
    ----------
    diffs : ndarray, shape (nints, ndiffs, npix)
        First differences in electrons (NaN where unusable).
    rn2 : ndarray, shape (npix,)
        Read-noise variance of one difference in electrons squared.

    Returns
    -------
    median, sigma : ndarray, shape (npix,)
        NaN where a pixel has no usable difference or a zero sigma.
    """
    return _plain_median_sigma(diffs, rn2)


def _plain_median_sigma(diffs, rn2):
    nints, ndiffs, npix = diffs.shape
    srt = np.sort(diffs.reshape(nints * ndiffs, npix), axis=0)
    count = np.isfinite(srt).sum(axis=0)
    cols = np.arange(npix)
    lo = srt[np.maximum(count - 1, 0) // 2, cols]
    hi = srt[np.minimum(count // 2, srt.shape[0] - 1), cols]
    median = np.where(count > 0, 0.5 * (lo.astype(np.float64) + hi), np.nan)
    sigma = np.sqrt(np.abs(median) + rn2)
    sigma = np.where(sigma > 0, sigma, np.nan)
    return median, sigma


def _neighbor_seed(diffs, gdq_after_first, rn2, low, high):
    """Jumps whose size is within (low, high) sigma, bit-packed by group.

    `gdq_after_first` holds the flags of groups 1..ngroups-1; the result has
    one bit per group (group 0 never qualifies).
    """
    nints, ndiffs, npix = gdq_after_first.shape
    packed = np.zeros((nints, (ndiffs + 8) // 8, npix), dtype=np.uint8)
    pix = np.flatnonzero(((gdq_after_first & JUMP_DET) != 0).any(axis=(0, 1)))
    if pix.size:
        jump = (gdq_after_first[:, :, pix] & JUMP_DET) != 0
        sub = diffs[:, :, pix]
        median, sigma = _plain_median_sigma(sub, rn2[pix])
        ratio = np.abs(sub - median) / sigma
        seed = np.zeros((nints, ndiffs + 1, pix.size), dtype=bool)
        seed[:, 1:] = jump & (ratio > low) & (ratio < high)
        packed[:, :, pix] = np.packbits(seed, axis=1, bitorder="little")
    return packed


def clear_frame_wide_jumps(groupdq: np.ndarray) -> None:
    """Remove JUMP_DET from groups where every pixel is a jump or DO_NOT_USE.

    Used after sigma clipping on the full frame: a group in which every pixel
    is flagged is not a cosmic-ray event.  Groups flagged JUMP_DET only are
    reset to 0, in place.

    Parameters
    ----------
    groupdq : ndarray of uint8, shape (nints, ngroups, ny, nx)
        Full-frame group flags, modified in place.
    """
    nints, ngroups = groupdq.shape[:2]
    for i in range(nints):
        for g in range(ngroups):
            plane = groupdq[i, g]
            if np.all(plane & (JUMP_DET | DO_NOT_USE)):
                plane[plane == JUMP_DET] = 0
