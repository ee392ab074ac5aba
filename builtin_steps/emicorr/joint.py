"""The "joint" EMI algorithm: fit the ramps and the EMI waveform together.

For one frequency with a reference waveform ``w`` (one period), a pixel
whose first read has phase ``p`` sees, in group ``g`` of integration ``i``,
``a * w(p + phi + g * dphase + i * dphase_int)`` on top of its straight ramp.
The amplitude ``a`` and phase offset ``phi`` are chosen so that, once the
waveform is subtracted, straight lines fit the ramps of quiet pixels best
(least chi squared):

* quiet pixels (group-to-group scatter below twice the median, PIXELDQ 0,
  outside quad columns 1 and 2) are summed in phase bins, one per sample of
  the reference waveform (``y``: sum of their ramps, ``n``: their number);
* for a trial offset, the waveform ``z`` of each bin is projected off a
  straight line in time; chi squared is quadratic in ``a``:
  ``A a**2 + B a`` with ``A = sum n (zz - z.P.z)`` and ``B = -2 sum (y.z -
  y.P.z)`` (``P`` the projection on lines), so ``a = -B / 2A``;
* 500 trial offsets are evaluated, the best refined by a parabola through its
  neighbours; the fitted waveform is subtracted from all four outputs.

The waveform is interpolated with a cubic spline through the reference
samples (placed at the centres of their phase bins, wrapped by one sample).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from builtin_steps.emicorr.clocks import ReadoutClock, period_in_clocks

__all__ = ["correct_joint", "waveform_spline", "best_phase"]

#: Trial phase offsets evaluated.
N_TRIAL_PHASES = 500
#: Waveform samples evaluated at once (bounds the memory of the trial loop).
_CHUNK_VALUES = 2_000_000


def waveform_spline(waveform: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Cubic spline of a one-period waveform as a function of phase in ``[0, 1)``.

    The interpolating (not-a-knot) cubic spline through the samples, wrapped by
    one sample at each end, evaluated piece by piece as polynomials.

    Parameters
    ----------
    waveform : numpy.ndarray
        ``(n,)`` samples at phases ``(k + 0.5) / n``.

    Returns
    -------
    callable
        ``f(phase) -> values`` for phases in ``[-0.5 / n, 1 + 0.5 / n]``.
    """
    n = waveform.shape[0]
    extended = np.concatenate([waveform[-1:], waveform, waveform[:1]]).astype(np.float64)
    knots = (np.arange(n + 2, dtype=np.float64) - 0.5) / n
    from scipy.interpolate import PPoly, make_interp_spline  # imported on use (slow import)

    pieces = PPoly.from_spline(make_interp_spline(knots, extended, k=3))
    breaks = pieces.x
    c3, c2, c1, c0 = pieces.c  # highest power first

    def evaluate(phase: np.ndarray) -> np.ndarray:
        index = np.clip(np.searchsorted(breaks, phase, side="right") - 1, 0, breaks.size - 2)
        dx = phase - breaks[index]
        return ((c3[index] * dx + c2[index]) * dx + c1[index]) * dx + c0[index]

    return evaluate


def best_phase(phases: np.ndarray, chisq: np.ndarray) -> float:
    """Phase of least chi squared, refined by a parabola through the best and its neighbours.

    Parameters
    ----------
    phases : numpy.ndarray
        Uniformly spaced phases in ``[0, 1)`` (periodic).
    chisq : numpy.ndarray
        Chi squared at each phase (NaN where undefined).

    Returns
    -------
    float
        The refined phase (may fall just outside ``[0, 1)``); ``phases[0]``
        when every value is NaN.
    """
    if not np.isfinite(chisq).any():
        return float(phases[0])
    best = int(np.nanargmin(chisq))
    n = chisq.shape[0]
    left, mid, right = chisq[best - 1], chisq[best], chisq[(best + 1) % n]
    curvature = left - 2.0 * mid + right
    if not (np.isfinite(left) and np.isfinite(right)) or curvature <= 0:
        return float(phases[best])
    step = float(phases[1] - phases[0]) if n > 1 else 1.0
    return float(phases[best] + 0.5 * step * (left - right) / curvature)


def _phase_sums(
    data: np.ndarray, pixeldq: np.ndarray, phase: np.ndarray, nbins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sum the ramps of quiet pixels by phase bin: ``y (nints, nbins, ngroups)``, ``n (nints, nbins)``."""
    nints, ngroups, ny, nx = data.shape
    spread = np.std(data, axis=1)
    with np.errstate(invalid="ignore"):
        limit = 2.0 * np.nanmedian(spread) if np.isfinite(spread).any() else np.nan
        quiet = (spread < limit) & (pixeldq == 0)[None]
    columns = np.arange(nx)
    usable_columns = (columns // 4 != 1) & (columns // 4 != 2)
    bin_of = np.minimum((phase * nbins).astype(np.int64), nbins - 1)
    bins = np.repeat(bin_of, 4, axis=1)[:, usable_columns].ravel()
    group_offsets = (np.arange(ngroups) * nbins)[:, None]
    sums = np.zeros((nints, nbins, ngroups))
    counts = np.zeros((nints, nbins))
    for i in range(nints):
        ok = quiet[i][:, usable_columns].ravel()
        values = data[i][:, :, usable_columns].reshape(ngroups, -1)
        values = np.where(ok[None] & np.isfinite(values), values, 0.0)
        flat = np.bincount(
            (group_offsets + bins[None]).ravel(), weights=values.ravel(), minlength=ngroups * nbins
        )
        sums[i] = flat.reshape(ngroups, nbins).T
        counts[i] = np.bincount(bins, weights=ok.astype(np.float64), minlength=nbins)
    return sums, counts


def _quadratic_terms(
    spline: Callable[[np.ndarray], np.ndarray],
    template: np.ndarray,
    sums: np.ndarray,
    counts: np.ndarray,
    trials: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``A`` and ``B`` of chi squared ``A a**2 + B a`` for every trial offset and integration.

    Returns two ``(ntrials, nints)`` arrays.
    """
    ngroups = template.shape[1]
    t = np.arange(ngroups, dtype=np.float64)
    s_t, s_tt = t.sum(), (t * t).sum()
    delta = ngroups * s_tt - s_t * s_t
    s_y = sums.sum(axis=2)
    s_ty = sums @ t
    a_terms = np.empty((trials.size, sums.shape[0]))
    b_terms = np.empty_like(a_terms)
    step = max(1, _CHUNK_VALUES // template.size)
    for lo in range(0, trials.size, step):
        chunk = trials[lo : lo + step]
        z = spline((template[None] + chunk[:, None, None]) % 1.0)  # (trials, bins, groups)
        s_z = z.sum(axis=2)
        s_tz = z @ t
        s_zz = (z * z).sum(axis=2)
        coef_a = (-s_tt * s_z**2 + 2 * s_t * s_z * s_tz - ngroups * s_tz**2) / delta + s_zz
        a_terms[lo : lo + chunk.size] = coef_a @ counts.T
        b = (s_tt * s_z - s_t * s_tz) @ s_y.T + (ngroups * s_tz - s_t * s_z) @ s_ty.T
        b_terms[lo : lo + chunk.size] = 2.0 / delta * b - 2.0 * np.einsum("kpg,ipg->ki", z, sums)
    return a_terms, b_terms


def _trial_index(trials: np.ndarray, phase: float | np.ndarray) -> np.ndarray:
    """Index of the first trial offset at or after ``phase`` (cyclically)."""
    phase = np.atleast_1d(np.asarray(phase, dtype=np.float64))
    return np.argmin((trials[None, :] - phase[:, None]) % 1.0, axis=1)


def _fit(
    a_terms: np.ndarray, b_terms: np.ndarray, trials: np.ndarray, offsets: np.ndarray, ints: np.ndarray
) -> tuple[float, float]:
    """Best phase offset and amplitude over the integrations ``ints``."""
    total_a = np.zeros(trials.size)
    total_b = np.zeros(trials.size)
    for i in ints:
        index = _trial_index(trials, trials + offsets[i])
        total_a += a_terms[index, i]
        total_b += b_terms[index, i]
    with np.errstate(divide="ignore", invalid="ignore"):
        defined = ~np.isclose(total_a, 0.0, atol=1e-8) & np.isfinite(total_a) & np.isfinite(total_b)
        chisq = np.where(defined, -(total_b**2) / (4.0 * total_a), np.nan)
    phase = best_phase(trials, chisq)
    a_best = sum(a_terms[_trial_index(trials, phase + offsets[i])[0], i] for i in ints)
    b_best = sum(b_terms[_trial_index(trials, phase + offsets[i])[0], i] for i in ints)
    if math.isclose(a_best, 0.0, abs_tol=1e-8) or not (math.isfinite(a_best) and math.isfinite(b_best)):
        return phase, 0.0
    return phase, -b_best / (2.0 * a_best)


def correct_joint(
    data: np.ndarray,
    pixeldq: np.ndarray,
    waveform: np.ndarray,
    frequency: float,
    clock: ReadoutClock,
    *,
    fit_ints_separately: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit one EMI frequency jointly with the ramps and subtract it, in place.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` ramp, ``nx`` a multiple of 4 (at least
        16), ``ngroups >= 3``; modified in place.
    pixeldq : numpy.ndarray
        ``(ny, nx)``: pixels with any flag are not used in the fit.
    waveform : numpy.ndarray
        Reference waveform over one period.
    frequency : float
        Hz.
    clock : ReadoutClock
        Readout timing of the data.
    fit_ints_separately : bool
        Fit an amplitude and phase per integration instead of one for all.

    Returns
    -------
    amplitudes, phases : numpy.ndarray
        ``(nints,)`` fitted amplitude (in units of the reference waveform)
        and phase offset of each integration.
    """
    nints, ngroups, ny, nx = data.shape
    period = period_in_clocks(frequency)
    phase = (clock.frame_times(nx // 4) / period) % 1.0
    dphase = (clock.frame_clocks / period) % 1.0
    dphase_int = dphase * ngroups + clock.reset_clocks / period
    nbins = waveform.shape[0]
    spline = waveform_spline(np.asarray(waveform, dtype=np.float64))
    centres = (np.arange(nbins, dtype=np.float64) + 0.5) / nbins
    template = (centres[:, None] + np.arange(ngroups) * dphase) % 1.0
    sums, counts = _phase_sums(data, pixeldq, phase, nbins)
    trials = np.arange(N_TRIAL_PHASES, dtype=np.float64) / N_TRIAL_PHASES
    a_terms, b_terms = _quadratic_terms(spline, template, sums, counts, trials)
    offsets = np.arange(nints) * dphase_int
    if fit_ints_separately:
        fits = [_fit(a_terms, b_terms, trials, offsets, np.array([i])) for i in range(nints)]
        phases = np.array([p + offsets[i] for i, (p, _) in enumerate(fits)])
        amplitudes = np.array([a for _, a in fits])
    else:
        best, amplitude = _fit(a_terms, b_terms, trials, offsets, np.arange(nints))
        phases = (best + offsets) % 1.0
        amplitudes = np.full(nints, amplitude)
    group_phase = np.arange(ngroups)[:, None, None] * dphase
    for i in range(nints):
        emi = amplitudes[i] * spline((phase[None] + group_phase + phases[i]) % 1.0)
        emi = emi.astype(data.dtype)
        for output in range(4):
            data[i, :, :, output::4] -= emi
    return amplitudes, phases
