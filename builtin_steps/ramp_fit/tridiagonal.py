"""Generalised least squares of a constant under a tridiagonal covariance.

For a vector of resultant differences ``d`` with covariance ``C`` (diagonal
``alpha``, first off-diagonal ``beta``) and a set of differences to use, the
maximum-likelihood rate is ``a = (1' P d) / (1' P 1)`` with ``P = C^-1``
restricted to the used differences, its variance ``1 / (1' P 1)`` and the fit's
``chi2 = d' P d - (1' P d)**2 / (1' P 1)``.  Unused differences are decoupled
from the rest (their covariances set to zero), which is the same as removing
them from the likelihood.

Everything is computed with the LU factorisation of ``C`` in ``O(m)``
operations per ramp, vectorised over pixels (arrays ``(m, npix)``): forward
pivots ``rho_i = alpha_i - beta_{i-1}**2 / rho_{i-1}``, backward pivots
``sig_i = alpha_i - beta_i**2 / sig_{i+1}``, the diagonal of the inverse
``P_ii = 1 / (rho_i + sig_i - alpha_i)`` and its first off-diagonal
``P_{i,i+1} = -beta_i P_{i+1,i+1} / rho_i``.  Pivots are ratios of
determinants, so long ramps neither overflow nor underflow.

The effect of leaving out one difference, or two adjacent ones (Brandt 2024,
paper II, sections 3.1-3.2), follows from the same quantities: leaving out
difference ``j`` is fitting it with a free offset, which removes
``(P r)_j**2 / P_jj`` from ``chi2`` (``r = d - a 1``); the best rate and
``chi2`` then have closed forms (:func:`omit_one`, :func:`omit_two`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GlsFit", "fit_constant", "omit_one", "omit_two"]


@dataclass
class GlsFit:
    """The sums of one fit (arrays over pixels unless noted).

    Attributes
    ----------
    rate : ndarray
        Best-fit constant ``B / C`` (NaN where no difference is used).
    chisq : ndarray
        ``A - B**2 / C``.
    sum_a, sum_b, sum_c : ndarray
        ``A = d' P d``, ``B = 1' P d``, ``C = 1' P 1``.
    p_one, p_d : ndarray, shape (m, npix)
        ``P 1`` and ``P d`` (zero on unused differences).
    p_diag : ndarray, shape (m, npix)
        Diagonal of ``P``.
    p_off : ndarray, shape (m - 1, npix)
        First off-diagonal of ``P``.
    weights : ndarray, shape (m, npix)
        ``P 1 / C``: the weights of the differences in the rate.
    """

    rate: np.ndarray
    chisq: np.ndarray
    sum_a: np.ndarray
    sum_b: np.ndarray
    sum_c: np.ndarray
    p_one: np.ndarray
    p_d: np.ndarray
    p_diag: np.ndarray
    p_off: np.ndarray
    weights: np.ndarray


def _pivots(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = alpha.shape[0]
    rho = np.empty_like(alpha)
    sig = np.empty_like(alpha)
    rho[0] = alpha[0]
    for i in range(1, m):
        rho[i] = alpha[i] - beta[i - 1] ** 2 / rho[i - 1]
    sig[m - 1] = alpha[m - 1]
    for i in range(m - 2, -1, -1):
        sig[i] = alpha[i] - beta[i] ** 2 / sig[i + 1]
    return rho, sig


def _solve(rho: np.ndarray, beta: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``C x = rhs`` with the forward pivots of ``C``."""
    m = rho.shape[0]
    y = np.empty_like(rhs)
    y[0] = rhs[0]
    for i in range(1, m):
        y[i] = rhs[i] - beta[i - 1] / rho[i - 1] * y[i - 1]
    x = np.empty_like(rhs)
    x[m - 1] = y[m - 1] / rho[m - 1]
    for i in range(m - 2, -1, -1):
        x[i] = (y[i] - beta[i] * x[i + 1]) / rho[i]
    return x


def fit_constant(
    diffs: np.ndarray, use: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> GlsFit:
    """Fit a constant to differences with a tridiagonal covariance.

    Parameters
    ----------
    diffs : ndarray, shape (m, npix)
        The differences (any value where unused).
    use : ndarray of bool, shape (m, npix)
        Differences to use.
    alpha : ndarray, shape (m, npix)
        Variances of the differences (positive where used).
    beta : ndarray, shape (m - 1, npix)
        Covariances of neighbouring differences.

    Returns
    -------
    GlsFit
        Call under ``np.errstate(divide="ignore", invalid="ignore")``: pixels
        without a used difference give NaN.
    """
    a = np.where(use, alpha, 1.0)
    b = np.where(use[1:] & use[:-1], beta, 0.0)
    rho, sig = _pivots(a, b)
    mask = use.astype(np.float64)
    d = np.where(use, diffs, 0.0)
    p_one = _solve(rho, b, mask) * mask
    p_d = _solve(rho, b, d) * mask
    sum_a = np.sum(d * p_d, axis=0)
    sum_b = np.sum(d * p_one, axis=0)
    sum_c = np.sum(p_one, axis=0)
    p_diag = 1.0 / (rho + sig - a)
    p_off = -b * p_diag[1:] / rho[:-1]
    rate = sum_b / sum_c
    return GlsFit(
        rate=rate,
        chisq=sum_a - sum_b * rate,
        sum_a=sum_a,
        sum_b=sum_b,
        sum_c=sum_c,
        p_one=p_one,
        p_d=p_d,
        p_diag=p_diag,
        p_off=p_off,
        weights=p_one / sum_c,
    )


def omit_one(fit: GlsFit, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rate and ``chi2`` of the fit leaving out each difference in turn.

    Parameters
    ----------
    fit : GlsFit
        The fit with every difference of `use`.
    use : ndarray of bool, shape (m, npix)
        The differences used by `fit`.

    Returns
    -------
    rate, chisq : ndarray, shape (m, npix)
        For a difference already unused, the values of `fit` itself.
    """
    g, h, p = fit.p_d, fit.p_one, fit.p_diag
    c = fit.sum_c - h * h / p
    b = fit.sum_b - h * g / p
    rate = b / c
    chisq = fit.sum_a - g * g / p - b * rate
    rate = np.where(use, rate, fit.rate)
    chisq = np.where(use, chisq, fit.chisq)
    return rate, chisq


def omit_two(fit: GlsFit, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rate and ``chi2`` of the fit leaving out each pair of adjacent differences.

    Parameters
    ----------
    fit : GlsFit
        The fit with every difference of `use`.
    use : ndarray of bool, shape (m, npix)
        The differences used by `fit`.

    Returns
    -------
    rate, chisq : ndarray, shape (m - 1, npix)
        Entry ``j`` leaves out differences ``j`` and ``j + 1``; where one of
        them is already unused, the values of leaving out the other one.
    """
    one_rate, one_chisq = omit_one(fit, use)
    g0, g1 = fit.p_d[:-1], fit.p_d[1:]
    h0, h1 = fit.p_one[:-1], fit.p_one[1:]
    q00, q11, q01 = fit.p_diag[:-1], fit.p_diag[1:], fit.p_off
    det = q00 * q11 - q01 * q01
    # quadratic forms with the inverse of the 2x2 block [[q00, q01], [q01, q11]]
    qgg = (q11 * g0 * g0 - 2.0 * q01 * g0 * g1 + q00 * g1 * g1) / det
    qhg = (q11 * h0 * g0 - q01 * (h0 * g1 + h1 * g0) + q00 * h1 * g1) / det
    qhh = (q11 * h0 * h0 - 2.0 * q01 * h0 * h1 + q00 * h1 * h1) / det
    c = fit.sum_c - qhh
    b = fit.sum_b - qhg
    rate = b / c
    chisq = fit.sum_a - qgg - b * rate
    both = use[:-1] & use[1:]
    only_first = use[:-1] & ~use[1:]
    rate = np.where(both, rate, np.where(only_first, one_rate[:-1], one_rate[1:]))
    chisq = np.where(both, chisq, np.where(only_first, one_chisq[:-1], one_chisq[1:]))
    return rate, chisq
