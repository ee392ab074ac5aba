"""Likelihood-based ramp fitting (``algorithm='LIKELY'``), pure numpy.

:func:`fit_likely` implements the algorithm of Brandt (2024, PASP 136,
045004 and 045005) as the JWST calibration pipeline runs it:

* each integration's ramp becomes resultant differences
  ``d_i = (r_{i+1} - r_i) / dt_i`` (DN/s); a difference is used only when both
  of its groups have no GROUPDQ flag at all;
* the covariance of the differences (read noise of every read, the CRDS
  two-read noise over ``sqrt(2)``, and Poisson noise of the count rate) is the
  tridiagonal matrix of :mod:`builtin_steps.ramp_fit.covariance`, evaluated at
  a guessed rate: the median of the usable differences (at least 0);
* optionally, jumps are found inside the fit (paper II): the difference, or
  pair of adjacent differences when the shared resultant has several reads,
  whose omission improves ``chi2`` most is dropped when the improvement
  exceeds ``rejection_threshold**2`` (20.25 by default) for one difference or
  the matching chi-square quantile with two degrees of freedom (23.8 by
  default) for two; this repeats on the ramps that changed, while more than
  three differences remain; the group after each dropped difference is
  flagged JUMP_DET in the output DQ;
* the rate is refitted with the covariance at the rate found (at least 0) plus
  the average dark current; ``VAR_POISSON`` and ``VAR_RNOISE`` are
  ``w' C_poisson w`` and ``w' C_read w`` for the fit's weights ``w``;
* integrations combine into the exposure's rate with weights
  ``1 / (var_poisson * s + var_rnoise)``, where ``s`` rescales each
  integration's Poisson variance to the combined rate (two iterations from
  the median rate), and the variances propagate with the squared weights.

The Python loops run over groups, integrations, iterations of the jump search
and blocks of pixels; every pixel is computed independently, so any split of
the rows gives bit-identical results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from builtin_steps.ramp_fit.covariance import DifferenceCovariance, difference_covariance
from builtin_steps.ramp_fit.ols import allocate_outputs
from builtin_steps.ramp_fit.segments import nan_median
from builtin_steps.ramp_fit.tridiagonal import fit_constant, omit_one, omit_two

__all__ = ["fit_likely", "jump_thresholds", "LIKELY_MIN_NGROUPS"]

DO_NOT_USE = 1
SATURATED = 2
JUMP_DET = 4
NO_GAIN_VALUE = 524288

#: Fewest groups the likelihood fit accepts (the step falls back to OLS_C below).
LIKELY_MIN_NGROUPS = 4

#: ``chi2`` improvements that drop one difference, or two adjacent ones, by default.
DEFAULT_THRESHOLDS = (20.25, 23.8)

_BLOCK_PIXELS = 8192


def jump_thresholds(rejection_threshold: float | None) -> tuple[float, float]:
    """``chi2`` improvements needed to drop one or two differences.

    Parameters
    ----------
    rejection_threshold : float or None
        A jump threshold in sigma; None gives :data:`DEFAULT_THRESHOLDS`.

    Returns
    -------
    tuple of float
        ``threshold**2`` and the chi-square (two degrees of freedom) quantile
        of the same two-sided Gaussian tail probability (``threshold**2 + 10``
        when that quantile is infinite).
    """
    if rejection_threshold is None:
        return DEFAULT_THRESHOLDS
    one = float(rejection_threshold) ** 2
    from scipy import special, stats  # imported on use: scipy.stats is slow to import

    two = float(stats.chi2.isf(special.erfc(rejection_threshold / np.sqrt(2.0)), 2))
    return one, (two if np.isfinite(two) else one + 10.0)


def fit_likely(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    read_pattern: Sequence[Sequence[float]],
    dark_current: np.ndarray | None = None,
    detect_jumps: bool = True,
    rejection_threshold: float | None = None,
    out: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Fit count rates to ramps by maximum likelihood on resultant differences.

    Parameters
    ----------
    data : ndarray, shape (nints, ngroups, ny, nx)
        Ramp values in DN; ``ngroups`` must be at least 4.
    groupdq : ndarray of uint8, same shape as `data`
        Group flags; any flag excludes both differences touching the group.
    pixeldq : ndarray of uint32, shape (ny, nx)
        Pixel flags, copied into the output DQ (DO_NOT_USE pixels get NaN).
    gain : ndarray, shape (ny, nx)
        Gain in e-/DN; a non-positive or NaN gain gives NO_GAIN_VALUE and
        DO_NOT_USE.
    readnoise : ndarray, shape (ny, nx)
        Noise of a two-read difference in DN (the CRDS ``readnoise``).
    read_pattern : sequence of sequence of float
        Read times (s) of every group, e.g. from
        :func:`builtin_steps.ramp_fit.covariance.read_times`.
    dark_current : ndarray, shape (ny, nx), optional
        Average dark current (DN/s) added to the rate of the covariance.
    detect_jumps : bool, optional
        Search for jumps inside the fit (as the JWST pipeline does).
    rejection_threshold : float, optional
        Jump threshold in sigma (see :func:`jump_thresholds`).
    out : dict of str to ndarray, optional
        Arrays from :func:`builtin_steps.ramp_fit.ols.allocate_outputs` (or
        views of rows of them) to write into.

    Returns
    -------
    dict of str to ndarray
        The names and shapes of :func:`builtin_steps.ramp_fit.ols.fit_ramps`.

    Raises
    ------
    ValueError
        If there are fewer than 4 groups or the read pattern does not match.
    """
    nints, ngroups, ny, nx = data.shape
    if ngroups < LIKELY_MIN_NGROUPS:
        raise ValueError(
            f"fit_likely: the likelihood fit needs at least {LIKELY_MIN_NGROUPS} groups; "
            f"got {ngroups}"
        )
    if len(read_pattern) != ngroups:
        raise ValueError(
            f"fit_likely: read_pattern has {len(read_pattern)} resultants; the data have "
            f"{ngroups} groups"
        )
    cov = difference_covariance(read_pattern)
    thresholds = jump_thresholds(rejection_threshold) if detect_jumps else None
    result = allocate_outputs(nints, ny, nx) if out is None else out
    npix = ny * nx
    flat = {
        "data": data.reshape(nints, ngroups, npix),
        "gdq": groupdq.reshape(nints, ngroups, npix),
        "pdq": pixeldq.reshape(npix),
        "gain": np.asarray(gain).reshape(npix),
        "rn": np.asarray(readnoise).reshape(npix),
        "dark": None if dark_current is None else np.asarray(dark_current).reshape(npix),
    }
    rows_per_block = max(1, _BLOCK_PIXELS // max(nx, 1))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for lo in range(0, ny, rows_per_block):
            hi = min(ny, lo + rows_per_block)
            sl = slice(lo * nx, hi * nx)
            block = {k: (None if v is None else v[..., sl]) for k, v in flat.items()}
            products = _fit_block(block, cov, thresholds)
            for name, values in products.items():
                target = result[name][..., lo:hi, :]
                target[...] = values.reshape(values.shape[:-1] + (hi - lo, nx))
    return result


def _fit_block(block: dict, cov: DifferenceCovariance, thresholds) -> dict[str, np.ndarray]:
    """Fit every integration of a block of pixels and combine them."""
    nints = block["data"].shape[0]
    gain = block["gain"].astype(np.float64)
    bad_gain = ~(gain > 0.0)
    pixeldq = block["pdq"].astype(np.uint32) | np.where(
        bad_gain, NO_GAIN_VALUE | DO_NOT_USE, 0
    ).astype(np.uint32)
    read_var = (block["rn"].astype(np.float64) / np.sqrt(2.0)) ** 2
    dark = np.zeros(gain.shape) if block["dark"] is None else np.nan_to_num(
        block["dark"].astype(np.float64)
    )
    skip = bad_gain | ((pixeldq & DO_NOT_USE) != 0)
    ints = []
    for i in range(nints):
        ints.append(
            _fit_integration(block["data"][i], block["gdq"][i], pixeldq, skip, gain, read_var,
                             dark, cov, thresholds)
        )
    return _combine(ints, pixeldq)


def _covariance(rate, gain, read_var, cov):
    """Diagonal and off-diagonal of the covariance, and their Poisson and read parts."""
    per_gain = (rate / gain)[None, :]
    alpha_p = per_gain * cov.alpha_poisson[:, None]
    alpha_r = read_var[None, :] * cov.alpha_read[:, None]
    beta_p = per_gain * cov.beta_poisson[:, None]
    beta_r = read_var[None, :] * cov.beta_read[:, None]
    return alpha_p + alpha_r, beta_p + beta_r, (alpha_p, alpha_r, beta_p, beta_r)


def _fit_integration(values, gdq, pixeldq, skip, gain, read_var, dark, cov, thresholds):
    """One integration: differences, optional jump search, final fit, DQ."""
    diffs = np.diff(values.astype(np.float64), axis=0) / cov.delta_t[:, None]
    flagged = gdq != 0
    use = ~flagged[1:] & ~flagged[:-1] & np.isfinite(diffs) & ~skip[None, :]
    median = nan_median(np.where(use, diffs, np.nan))
    guess = np.where(median > 0.0, median, 0.0)
    if thresholds is not None:
        found = use.copy()
        rate = _mask_jumps(diffs, found, gain, read_var, guess, cov, thresholds)
        new_jump = (use & ~found).any(axis=0)
        use = found
    else:
        alpha, beta, _ = _covariance(guess, gain, read_var, cov)
        rate = fit_constant(diffs, use, alpha, beta).rate
        new_jump = np.zeros(use.shape[1], dtype=bool)
    guess = np.where(rate > 0.0, rate, 0.0) + dark
    alpha, beta, (alpha_p, alpha_r, beta_p, beta_r) = _covariance(guess, gain, read_var, cov)
    final = fit_constant(diffs, use, alpha, beta)
    w = final.weights
    var_p = np.sum(w * w * alpha_p, axis=0) + 2.0 * np.sum(w[1:] * w[:-1] * beta_p, axis=0)
    var_r = np.sum(w * w * alpha_r, axis=0) + 2.0 * np.sum(w[1:] * w[:-1] * beta_r, axis=0)

    sat = (gdq & SATURATED) != 0
    unusable = ((gdq & (DO_NOT_USE | SATURATED)) != 0).all(axis=0)
    no_fit = ~(final.sum_c > 0.0)
    dq = pixeldq.copy()
    dq |= np.where(((gdq & JUMP_DET) != 0).any(axis=0) | new_jump, JUMP_DET, 0).astype(np.uint32)
    dq |= np.where(sat.all(axis=0), SATURATED | DO_NOT_USE, 0).astype(np.uint32)
    dq |= np.where(unusable | no_fit, DO_NOT_USE, 0).astype(np.uint32)
    return final.rate, var_p, var_r, dq, sat.any(axis=0)


def _mask_jumps(diffs, use, gain, read_var, guess, cov, thresholds):
    """Drop the differences hit by jumps from `use` (in place); return the rates."""
    t_one, t_two = thresholds
    alpha, beta, _ = _covariance(guess, gain, read_var, cov)
    two_allowed = (cov.nreads[1:-1] > 1)[:, None]
    rate = None
    active = np.arange(diffs.shape[1])
    for _ in range(diffs.shape[0]):
        if active.size == 0:
            break
        u = use[:, active]
        fit = fit_constant(diffs[:, active], u, alpha[:, active], beta[:, active])
        if rate is None:
            rate = fit.rate.copy()
        rate_one, chisq_one = omit_one(fit, u)
        rate_two, chisq_two = omit_two(fit, u)
        gain_one = _finite_or_lowest(fit.chisq - chisq_one)
        gain_two = np.where(two_allowed, _finite_or_lowest(fit.chisq - chisq_two), -np.inf)
        cols = np.arange(active.size)
        j_one = np.argmax(gain_one, axis=0)
        j_two = np.argmax(gain_two, axis=0)
        best_one = gain_one[j_one, cols]
        best_two = gain_two[j_two, cols]
        one_better = best_one - t_one > best_two - t_two
        drop_one = one_better & (best_one > t_one)
        drop_two = ~one_better & (best_two > t_two)
        dropped = drop_one | drop_two
        if not dropped.any():
            break
        rate[active[drop_one]] = rate_one[j_one, cols][drop_one]
        rate[active[drop_two]] = rate_two[j_two, cols][drop_two]
        use[j_one[drop_one], active[drop_one]] = False
        use[j_two[drop_two], active[drop_two]] = False
        use[j_two[drop_two] + 1, active[drop_two]] = False
        active = active[dropped]
        active = active[use[:, active].sum(axis=0) > 3]
    return rate


def _finite_or_lowest(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, -np.inf)


def _combine(ints, pixeldq):
    """Per-integration arrays and the exposure's rate from the integrations' fits."""
    nints = len(ints)
    rate = np.stack([r for r, *_ in ints])
    var_p = np.stack([v for _, v, *_ in ints])
    var_r = np.stack([v for _, _, v, *_ in ints])
    dq = np.stack([d for *_, d, _ in ints])
    any_sat = np.stack([s for *_, s in ints])
    invalid = ((dq & (DO_NOT_USE | SATURATED)) != 0) | ~np.isfinite(rate)
    dq = dq | np.where(~np.isfinite(rate), DO_NOT_USE, 0).astype(np.uint32)
    out = {
        "ints": np.where(invalid, np.nan, rate),
        "ints_var_poisson": np.where(invalid, 0.0, var_p),
        "ints_var_rnoise": np.where(invalid, 0.0, var_r),
        "ints_err": np.where(invalid, 0.0, np.sqrt(var_p + var_r)),
        "ints_dq": dq | np.where(any_sat, SATURATED, 0).astype(np.uint32),
    }
    valid = ~invalid
    values = np.where(valid, rate, 0.0)
    slope = nan_median(np.where(valid, rate, np.nan))
    scaled_p = var_p
    weight = np.zeros_like(values)
    for _ in range(2):
        scale = slope[None, :] / values
        scale = np.where(np.isfinite(scale) & (scale >= 0.0), scale, 0.0)
        scaled_p = var_p * scale
        den = scaled_p + var_r
        weight = np.where(valid & (den > 0.0), 1.0 / den, 0.0)
        weight = weight / np.sum(weight, axis=0)
        slope = np.sum(weight * values, axis=0)
    if nints == 1:
        total_p, total_r, slope = var_p[0], var_r[0], rate[0]
    else:
        total_p = np.sum(np.where(valid, scaled_p, 0.0) * weight**2, axis=0)
        total_r = np.sum(np.where(valid, var_r, 0.0) * weight**2, axis=0)

    rate_dq = pixeldq | np.bitwise_or.reduce(dq & JUMP_DET, axis=0)
    rate_dq |= np.where(((dq & DO_NOT_USE) != 0).all(axis=0), DO_NOT_USE, 0).astype(np.uint32)
    rate_dq |= np.where(((dq & SATURATED) != 0).all(axis=0), SATURATED, 0).astype(np.uint32)
    bad = ((rate_dq & (DO_NOT_USE | SATURATED)) != 0) | ~np.isfinite(slope)
    rate_dq |= np.where(~np.isfinite(slope), DO_NOT_USE, 0).astype(np.uint32)
    out.update(
        rate=np.where(bad, np.nan, slope),
        rate_var_poisson=np.where(bad, 0.0, total_p),
        rate_var_rnoise=np.where(bad, 0.0, total_r),
        rate_err=np.where(bad, 0.0, np.sqrt(total_p + total_r)),
        rate_dq=rate_dq | np.where(any_sat.any(axis=0), SATURATED, 0).astype(np.uint32),
    )
    return out
