"""Tests of the covariance of resultant differences and the tridiagonal GLS fit."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.ramp_fit.covariance import difference_covariance, read_times
from builtin_steps.ramp_fit.tridiagonal import fit_constant, omit_one, omit_two


def test_read_times_of_a_multiaccum_pattern():
    times = read_times(3, nframes=2, groupgap=1, frame_time=10.0)
    assert times == ((10.0, 20.0), (40.0, 50.0), (70.0, 80.0))


def _explicit_covariance(pattern, rate_over_gain, sigma):
    """Covariance of the differences built from every read (no shortcut)."""
    reads = np.concatenate([np.atleast_1d(np.asarray(g, float)) for g in pattern])
    cov_reads = rate_over_gain * np.minimum.outer(reads, reads) + sigma**2 * np.eye(reads.size)
    average = np.zeros((len(pattern), reads.size))
    k = 0
    for i, group in enumerate(pattern):
        n = len(np.atleast_1d(group))
        average[i, k : k + n] = 1.0 / n
        k += n
    mean_t = average @ reads
    diff = (np.eye(len(pattern))[1:] - np.eye(len(pattern))[:-1]) / np.diff(mean_t)[:, None]
    return diff @ average @ cov_reads @ average.T @ diff.T


@pytest.mark.parametrize("pattern", [
    read_times(6, nframes=1, groupgap=0, frame_time=10.7),
    read_times(5, nframes=4, groupgap=1, frame_time=2.0),
    ((1.0,), (2.0, 3.0, 4.0), (6.0, 7.0), (9.0,), (10.0, 11.0, 12.0, 13.0)),
])
def test_covariance_matches_the_read_by_read_model(pattern):
    cov = difference_covariance(pattern)
    rate_over_gain, sigma = 37.0, 6.5
    expected = _explicit_covariance(pattern, rate_over_gain, sigma)
    alpha = rate_over_gain * cov.alpha_poisson + sigma**2 * cov.alpha_read
    beta = rate_over_gain * cov.beta_poisson + sigma**2 * cov.beta_read
    np.testing.assert_allclose(np.diag(expected), alpha, rtol=1e-12)
    np.testing.assert_allclose(np.diag(expected, 1), beta, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.triu(expected, 2), 0.0, atol=1e-12)


@pytest.mark.parametrize("pattern", [((1.0,),), ((1.0,), ()), ((2.0,), (1.0,))])
def test_bad_read_patterns_are_refused(pattern):
    with pytest.raises(ValueError, match="read pattern|resultant|increase"):
        difference_covariance(pattern)


def _dense_fit(d, keep, alpha, beta):
    idx = np.flatnonzero(keep)
    full = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    inv = np.linalg.inv(full[np.ix_(idx, idx)])
    one = np.ones(idx.size)
    rate = one @ inv @ d[idx] / (one @ inv @ one)
    resid = d[idx] - rate
    return rate, resid @ inv @ resid, 1.0 / (one @ inv @ one)


def test_fit_and_omissions_match_dense_linear_algebra():
    rng = np.random.default_rng(3)
    m, npix = 8, 12
    alpha = rng.uniform(2.0, 5.0, (m, npix))
    beta = rng.uniform(-0.8, 0.8, (m - 1, npix))
    d = rng.normal(3.0, 1.0, (m, npix))
    use = rng.random((m, npix)) > 0.2
    use[:3] = True
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = fit_constant(d, use, alpha, beta)
        rate_one, chisq_one = omit_one(fit, use)
        rate_two, chisq_two = omit_two(fit, use)
    for p in range(npix):
        rate, chisq, var = _dense_fit(d[:, p], use[:, p], alpha[:, p], beta[:, p])
        assert fit.rate[p] == pytest.approx(rate, rel=1e-10)
        assert fit.chisq[p] == pytest.approx(chisq, rel=1e-9, abs=1e-9)
        assert 1.0 / fit.sum_c[p] == pytest.approx(var, rel=1e-10)
        assert fit.weights[:, p].sum() == pytest.approx(1.0)
        for j in range(m):
            keep = use[:, p].copy()
            keep[j] = False
            expected = _dense_fit(d[:, p], keep, alpha[:, p], beta[:, p])[:2]
            if not use[j, p]:
                expected = (fit.rate[p], fit.chisq[p])
            assert (rate_one[j, p], chisq_one[j, p]) == pytest.approx(expected, rel=1e-9, abs=1e-9)
        for j in range(m - 1):
            keep = use[:, p].copy()
            keep[j : j + 2] = False
            expected = _dense_fit(d[:, p], keep, alpha[:, p], beta[:, p])[:2]
            assert (rate_two[j, p], chisq_two[j, p]) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_long_ramps_do_not_overflow():
    # 400 differences with large variances: determinants would overflow, pivots do not
    m = 400
    alpha = np.full((m, 2), 1e6)
    beta = np.full((m - 1, 2), -4e5)
    d = np.full((m, 2), 7.0)
    fit = fit_constant(d, np.ones((m, 2), bool), alpha, beta)
    np.testing.assert_allclose(fit.rate, 7.0)
    assert np.all(np.isfinite(fit.sum_c)) and np.all(fit.sum_c > 0)
