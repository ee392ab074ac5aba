"""Bad interleaved reference pixels of IRS2 readouts: find them and replace them.

All functions work in the detector frame: ``data`` is ``(nints, ngroups, ny,
3200)`` and a reference "pixel" is a whole detector column (the same
interleaved read position in every row). Interleaved reference reads come in
pairs (the IRS2 clocking reads each reference column twice), so a suspicious
read marks its pair as well.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.refpix.irs2_layout import NSECTIONS

__all__ = ["interleaved_mask", "find_bad_pairs", "replace_bad_columns", "table_bad_columns"]


def interleaved_mask(width: int, scipix_n: int, refpix_r: int) -> np.ndarray:
    """Mark the interleaved reference columns of every section, reference output included.

    Parameters
    ----------
    width : int
        Row width (3200).
    scipix_n, refpix_r : int
        Normal and reference samples per block.

    Returns
    -------
    numpy.ndarray
        ``(width,)`` boolean, True at the interleaved reference read positions.
    """
    section = width // NSECTIONS
    one = np.zeros(section, dtype=bool)
    for start in range(scipix_n // 2, section, scipix_n + refpix_r):
        one[start : start + refpix_r] = True
    return np.tile(one, NSECTIONS)


def _pair_starts(offset: int, section: int, scipix_n: int, refpix_r: int) -> np.ndarray:
    starts = np.arange(scipix_n // 2, section, scipix_n + refpix_r)
    return (starts[:, None] + np.arange(0, refpix_r, 2)[None, :]).ravel() + offset


def find_bad_pairs(
    data: np.ndarray, already_bad: np.ndarray, *, scipix_n: int, refpix_r: int, n_sigma: float
) -> np.ndarray:
    """Flag interleaved reference pairs whose statistics stand out.

    For each section and integration, every pair of reference columns gets
    three statistics over all groups and rows: the mean absolute difference
    between its two reads, its mean and its standard deviation. A pair whose
    statistic exceeds the sigma-clipped mean of that statistic by more than
    ``n_sigma`` clipped standard deviations (over the section's pairs not
    already flagged) is flagged, both reads.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, width)`` detector-frame data.
    already_bad : numpy.ndarray
        ``(width,)`` boolean: columns flagged before (kept, not re-tested).
    scipix_n, refpix_r : int
        Normal and reference samples per block.
    n_sigma : float
        Flagging threshold (``ovr_corr_mitigation_ftr``).

    Returns
    -------
    numpy.ndarray
        ``(width,)`` boolean: ``already_bad`` plus the newly flagged columns.
    """
    from astropy.stats import sigma_clipped_stats

    width = data.shape[-1]
    section = width // NSECTIONS
    bad = already_bad.copy()
    for k in range(NSECTIONS):
        first = _pair_starts(k * section, section, scipix_n, refpix_r)
        good = ~(already_bad[first] | already_bad[first + 1])
        first = first[good]
        if first.size == 0:
            continue
        for j in range(data.shape[0]):
            a = np.asarray(data[j][..., first], dtype=np.float64)
            b = np.asarray(data[j][..., first + 1], dtype=np.float64)
            axes = tuple(range(a.ndim - 1))
            mean = 0.5 * (a.mean(axis=axes) + b.mean(axis=axes))
            square = 0.5 * ((a * a).mean(axis=axes) + (b * b).mean(axis=axes))
            # std over both reads of the pair together
            stats = (np.abs(b - a).mean(axis=axes), mean, np.sqrt(np.maximum(square - mean * mean, 0.0)))
            high = np.zeros(first.size, dtype=bool)
            for values in stats:
                centre, _, std = sigma_clipped_stats(values, sigma=n_sigma)
                high |= (values - centre) > n_sigma * std
            bad[first[high]] = True
            bad[first[high] + 1] = True
    return bad


def replace_bad_columns(
    data: np.ndarray, bad: np.ndarray, columns: np.ndarray, is_ref: np.ndarray, *, scipix_n: int, refpix_r: int
) -> None:
    """Replace bad reference columns with the nearest good ones, in place.

    The reads one block before and after (same parity) are averaged when both
    are good; one good one is used alone; else a good neighbouring reference
    read of the other parity (2 columns away) is copied; else the column is
    set to 0 (the IRS2 correction interpolates over zeros).

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, width)`` detector-frame data.
    bad : numpy.ndarray
        ``(width,)`` boolean: columns not to be used as replacement sources.
    columns : numpy.ndarray
        Indices of the columns to replace.
    is_ref : numpy.ndarray
        ``(width,)`` boolean: interleaved reference columns.
    scipix_n, refpix_r : int
        Normal and reference samples per block.
    """
    section = data.shape[-1] // NSECTIONS
    period = scipix_n + refpix_r
    for col in np.asarray(columns, dtype=int):
        lo_lim = (col // section) * section
        hi_lim = lo_lim + section
        sources = [c for c in (col - period, col + period) if lo_lim <= c < hi_lim and not bad[c]]
        if sources:
            value = data[..., sources[0]] if len(sources) == 1 else 0.5 * (data[..., sources[0]] + data[..., sources[1]])
        else:
            near = [c for c in (col - 2, col + 2) if lo_lim <= c < hi_lim and is_ref[c] and not bad[c]]
            value = data[..., near[0]] if near else 0.0
        data[..., col] = value


def table_bad_columns(
    output: np.ndarray, odd_even: np.ndarray, mask: np.ndarray, *, width: int, scipix_n: int, refpix_r: int
) -> np.ndarray:
    """Columns of the bad reference pairs listed in a REFPIX reference DQ table.

    Each table row gives an amplifier (``OUTPUT`` 1-4), which pair of a
    reference block (``ODD_EVEN`` 1 or 2, in the readout direction) and a
    32-bit ``MASK`` whose bit ``k`` marks block ``k`` (left to right in the
    detector frame).

    Parameters
    ----------
    output, odd_even, mask : numpy.ndarray
        The table columns.
    width : int
        Row width (3200).
    scipix_n, refpix_r : int
        Normal and reference samples per block.

    Returns
    -------
    numpy.ndarray
        Sorted unique column indices (both reads of each listed pair).
    """
    section = width // NSECTIONS
    cols = []
    for out, oe, m in zip(np.asarray(output, int), np.asarray(odd_even, int), np.asarray(mask, np.uint64)):
        pair = 3 - oe if out % 2 == 0 else oe  # the readout direction alternates
        for k in range(32):
            if (int(m) >> k) & 1:
                ref = out * section + scipix_n // 2 + k * (scipix_n + refpix_r) + 2 * (pair - 1)
                cols.extend((ref, ref + 1))
    return np.unique(np.asarray(cols, dtype=int))
