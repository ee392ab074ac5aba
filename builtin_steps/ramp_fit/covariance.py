"""Covariance of resultant differences for likelihood ramp fitting.

Brandt (2024, PASP 136, 045004, "Optimal fitting and debiasing for detectors
read out up-the-ramp") fits a ramp from the differences of its resultants
(groups), ``d_i = (r_{i+1} - r_i) / dt_i`` with ``dt_i`` the difference of the
resultants' mean read times.  A resultant averages ``N_i`` reads taken at times
``t_ik``; its mean time is ``tbar_i`` and its variance-weighted time
``tau_i = sum_k (2 N_i + 1 - 2 k) t_ik / N_i**2`` (``k = 1 .. N_i``, reads in
time order).  For a count rate ``a`` (DN/s), a gain ``g`` (e-/DN) and a noise
``sigma`` (DN) on every read, the covariance of the differences is tridiagonal:

* ``Var(d_i) = (a / g) * (tau_i + tau_{i+1} - 2 tbar_i) / dt_i**2
  + sigma**2 * (1 / N_i + 1 / N_{i+1}) / dt_i**2``
* ``Cov(d_i, d_{i+1}) = (a / g) * (tbar_{i+1} - tau_{i+1}) / (dt_i dt_{i+1})
  - sigma**2 / (N_{i+1} dt_i dt_{i+1})``

(equations 27-29 of the paper).  This module computes the four
rate-independent factors once per exposure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DifferenceCovariance", "read_times", "difference_covariance"]


@dataclass(frozen=True)
class DifferenceCovariance:
    """The rate-independent factors of the covariance of resultant differences.

    Attributes
    ----------
    delta_t : ndarray, shape (ngroups - 1,)
        Differences of the resultants' mean read times (s).
    nreads : ndarray of int, shape (ngroups,)
        Reads averaged in each resultant.
    alpha_poisson, alpha_read : ndarray, shape (ngroups - 1,)
        Diagonal factors: the variance of ``d_i`` is
        ``rate / gain * alpha_poisson + sigma**2 * alpha_read``.
    beta_poisson, beta_read : ndarray, shape (ngroups - 2,)
        First off-diagonal factors, combined the same way.
    """

    delta_t: np.ndarray
    nreads: np.ndarray
    alpha_poisson: np.ndarray
    alpha_read: np.ndarray
    beta_poisson: np.ndarray
    beta_read: np.ndarray

    @property
    def ndiffs(self) -> int:
        """int: number of resultant differences."""
        return int(self.delta_t.size)


def read_times(
    ngroups: int, nframes: int, groupgap: int, frame_time: float
) -> tuple[tuple[float, ...], ...]:
    """Times of the reads averaged into each group of an evenly spaced ramp.

    Group ``k`` (zero-based) averages frames ``1 .. nframes`` after
    ``k * (nframes + groupgap)`` frames, each frame ``frame_time`` long, as
    the JWST MULTIACCUM patterns do.

    Parameters
    ----------
    ngroups, nframes, groupgap : int
        Groups per integration, frames averaged per group, frames dropped
        between groups.
    frame_time : float
        Seconds per frame.

    Returns
    -------
    tuple of tuple of float
        One tuple of read times (s) per group.
    """
    frames = np.arange(1, nframes + 1, dtype=np.float64)
    period = nframes + groupgap
    return tuple(
        tuple(float(t) for t in (frames + k * period) * frame_time) for k in range(ngroups)
    )


def difference_covariance(pattern: Sequence[Sequence[float]]) -> DifferenceCovariance:
    """Tabulate the covariance factors of a read pattern.

    Parameters
    ----------
    pattern : sequence of sequence of float
        Read times (s) of every resultant, in time order (a single number is
        a one-read resultant).

    Returns
    -------
    DifferenceCovariance

    Raises
    ------
    ValueError
        If there are fewer than two resultants, a resultant has no read, or
        the mean times do not increase.
    """
    groups = [np.sort(np.atleast_1d(np.asarray(times, dtype=np.float64))) for times in pattern]
    if len(groups) < 2:
        raise ValueError(f"a read pattern needs at least 2 resultants; got {len(groups)}")
    if any(g.size == 0 for g in groups):
        raise ValueError("every resultant of a read pattern needs at least one read time")
    nreads = np.array([g.size for g in groups])
    mean_t = np.array([g.mean() for g in groups])
    tau = np.array(
        [np.sum((2 * g.size + 1 - 2 * np.arange(1, g.size + 1)) * g) / g.size**2 for g in groups]
    )
    delta_t = np.diff(mean_t)
    if not np.all(delta_t > 0):
        raise ValueError(
            f"the mean read times of the resultants must increase; got {mean_t.tolist()}"
        )
    n = nreads.astype(np.float64)
    return DifferenceCovariance(
        delta_t=delta_t,
        nreads=nreads,
        alpha_poisson=(tau[:-1] + tau[1:] - 2.0 * mean_t[:-1]) / delta_t**2,
        alpha_read=(1.0 / n[:-1] + 1.0 / n[1:]) / delta_t**2,
        beta_poisson=(mean_t[1:-1] - tau[1:-1]) / (delta_t[1:] * delta_t[:-1]),
        beta_read=-1.0 / (n[1:-1] * delta_t[1:] * delta_t[:-1]),
    )
