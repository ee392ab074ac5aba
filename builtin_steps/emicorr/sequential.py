"""The "sequential" EMI algorithm: remove the ramps, then phase-fold the residuals.

For each frequency, in turn:

1. every integration's ramps are flattened: a straight line fitted to the
   inner groups (all but the first and last) is removed, then a per-pixel
   bias (median of the inner groups); the four outputs are averaged (one
   value per quad column; quad columns 1 and 2, bad reference columns, are
   replaced by the mean of columns 0 and 3) and each frame's median removed;
2. the residuals of the first integrations are folded at the EMI period by
   their read-time phase (:class:`~builtin_steps.emicorr.clocks.ReadoutClock`)
   and averaged in ``nbins`` phase bins (3-sigma clipped means): the measured
   waveform;
3. with a reference waveform, it is aligned to the measured one by circular
   cross-correlation and, with ``scale_reference``, scaled to its amplitude;
   without one the measured waveform is used;
4. the waveform, looked up at every read's phase, is subtracted from all four
   outputs of every integration.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from builtin_steps.emicorr.cases import EmiCase
from builtin_steps.emicorr.clocks import ReadoutClock, period_in_clocks

__all__ = [
    "correct_sequential",
    "integrations_to_phase",
    "flatten_integration",
    "phase_binned_waveform",
    "align_reference",
    "nearest_rebin",
]

#: Largest number of phase bins (a request above 501 gives 500, as in JWST).
_MAX_BINS = 501
_CLIP_SIGMA = 3.0
_CLIP_ITERS = 5


def integrations_to_phase(
    nints: int,
    ngroups: int,
    period: float,
    frameclocks: int,
    *,
    nints_to_phase: int | None,
    use_n_cycles: int | None,
) -> int:
    """Number of leading integrations whose residuals are phase-folded.

    Parameters
    ----------
    nints, ngroups : int
        Shape of the exposure.
    period : float
        EMI period in clocks.
    frameclocks : int
        Reset-frame clocks of the subarray.
    nints_to_phase : int or None
        The user's choice; None to derive it from ``use_n_cycles``.
    use_n_cycles : int or None
        Cycles of the EMI wave to cover; None (with ``nints_to_phase`` None)
        uses every integration.

    Returns
    -------
    int
        Between 1 and ``nints``.
    """
    if nints_to_phase is None:
        if use_n_cycles is None:
            count = nints
        else:
            count = math.ceil(use_n_cycles * period / (frameclocks * ngroups))
    else:
        count = nints_to_phase
    return max(1, min(int(count), nints))


def flatten_integration(ramp: np.ndarray) -> np.ndarray:
    """Remove the ramps and bias of one integration; average the four outputs.

    Parameters
    ----------
    ramp : numpy.ndarray
        ``(ngroups, ny, nx)`` one integration, ``nx`` a multiple of 4 and at
        least 16, ``ngroups >= 3``.

    Returns
    -------
    numpy.ndarray
        ``(ngroups, ny, nx // 4)`` float64 residuals, each frame's median
        removed.
    """
    ngroups, ny, nx = ramp.shape
    values = ramp.astype(np.float64)
    inner = values[1 : ngroups - 1]
    nin = inner.shape[0]
    if nin >= 2:
        t = np.arange(nin, dtype=np.float64) - (nin - 1) / 2.0
        slope = np.tensordot(t, inner, axes=(0, 0)) / np.sum(t * t)
    else:
        slope = np.zeros((ny, nx))
    values -= slope[None] * np.arange(ngroups, dtype=np.float64)[:, None, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels stay NaN
        inner = values[1 : ngroups - 1]
        bias = np.nanmin(inner, axis=0) if nin <= 2 else np.nanmedian(inner, axis=0)
        values -= bias[None]
        quad = values.reshape(ngroups, ny, nx // 4, 4).mean(axis=-1)
        quad[..., 1] = quad[..., 2] = 0.5 * (quad[..., 0] + quad[..., 3])
        quad -= np.nanmedian(quad, axis=(1, 2), keepdims=True)
    return quad


def _clipped_mean(values: np.ndarray) -> float:
    """Mean after iterative 3-sigma clipping about the median (5 iterations at most)."""
    for _ in range(_CLIP_ITERS):
        if values.size == 0:
            return math.nan
        keep = np.abs(values - np.median(values)) <= _CLIP_SIGMA * values.std()
        if keep.all():
            break
        values = values[keep]
    return float(values.mean()) if values.size else math.nan


def phase_binned_waveform(phases: np.ndarray, values: np.ndarray, nbins: int) -> np.ndarray:
    """Clipped mean of ``values`` in ``nbins`` equal phase bins, median removed.

    Bin ``b`` holds the phases in ``(b / nbins, (b + 1) / nbins]``.

    Parameters
    ----------
    phases, values : numpy.ndarray
        Same shape; phases in ``[0, 1)``.
    nbins : int
        Number of bins.

    Returns
    -------
    numpy.ndarray
        ``(nbins,)``; NaN for empty bins.
    """
    bins = np.ceil(phases.ravel() * nbins).astype(np.int64) - 1
    flat = values.ravel()
    usable = (bins >= 0) & (bins < nbins) & np.isfinite(flat)
    bins, flat = bins[usable], flat[usable]
    order = np.argsort(bins, kind="stable")
    bins, flat = bins[order], flat[order]
    edges = np.searchsorted(bins, np.arange(nbins + 1))
    wave = np.array([_clipped_mean(flat[lo:hi]) for lo, hi in zip(edges[:-1], edges[1:])])
    if np.isfinite(wave).any():
        wave -= np.nanmedian(wave)
    return wave


def nearest_rebin(values: np.ndarray, length: float) -> np.ndarray:
    """Resample a 1-D array to ``length`` samples by nearest lower index.

    Parameters
    ----------
    values : numpy.ndarray
        ``(n,)``.
    length : float
        New length (may be fractional: ``ceil(length)`` samples are returned).

    Returns
    -------
    numpy.ndarray
        ``values[floor(i * n / length)]`` for ``i = 0, 1, ...``.
    """
    n = values.shape[0]
    index = np.arange(0, n, n / length).astype(np.int64)
    return values[np.minimum(index, n - 1)]


def align_reference(
    reference: np.ndarray, measured: np.ndarray, period: float, *, scale: bool
) -> np.ndarray:
    """Shift a reference waveform to the phase of a measured one (and scale it).

    Parameters
    ----------
    reference : numpy.ndarray
        ``(nref,)`` reference waveform over one period.
    measured : numpy.ndarray
        ``(nbins,)`` measured waveform (NaN for empty bins).
    period : float
        Period in clocks: the look-up table returned has ``ceil(period)`` entries.
    scale : bool
        Scale the reference by the slope of a straight-line fit of the
        measured waveform against it.

    Returns
    -------
    numpy.ndarray
        Look-up table: waveform value per clock of phase.
    """
    nref = reference.shape[0]
    target = np.nan_to_num(nearest_rebin(measured, nref)[:nref], nan=0.0)
    r0 = reference - reference.mean()
    t0 = target - target.mean()
    norm = math.sqrt(float(np.sum(r0 * r0) * np.sum(t0 * t0)))
    # correlation[i] = sum_k r0[k - i] t0[k]: the Pearson coefficient of np.roll(reference, i)
    correlation = np.fft.irfft(np.conj(np.fft.rfft(r0)) * np.fft.rfft(t0), n=nref)
    shift = int(np.argmax(correlation / norm)) if norm > 0 else 0
    table = nearest_rebin(np.roll(reference, shift), period)
    if not scale:
        return table
    measured_table = nearest_rebin(measured, period)
    both = np.isfinite(measured_table) & np.isfinite(table)
    x, y = table[both], measured_table[both]
    if x.size < 2 or np.ptp(x) == 0:
        return table * 0.0
    xc = x - x.mean()
    return table * (np.sum(xc * (y - y.mean())) / np.sum(xc * xc))


def correct_sequential(
    data: np.ndarray,
    case: EmiCase,
    clock: ReadoutClock,
    *,
    nints_to_phase: int | None = None,
    use_n_cycles: int | None = 3,
    nbins: int | None = None,
    scale_reference: bool = True,
    last_column_delay: float = 0.0,
    log: Callable[[str], None] | None = None,
) -> dict[str, np.ndarray]:
    """Fit and subtract the EMI waveform of each frequency in turn, in place.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` ramp, ``nx`` a multiple of 4 (at least
        16), ``ngroups >= 3``; modified in place.
    case : EmiCase
        Frequencies (with or without reference waveforms) and clocks.
    clock : ReadoutClock
        Readout timing of the data.
    nints_to_phase, use_n_cycles : int or None
        See :func:`integrations_to_phase`.
    nbins : int or None
        Phase bins of the measured waveform; default half the period in clocks.
    scale_reference : bool
        Scale reference waveforms to the measured amplitude.
    last_column_delay : float
        Extra read delay of the last quad column (clocks).
    log : callable, optional
        Receives progress messages.

    Returns
    -------
    dict of str to numpy.ndarray
        Frequency name -> measured (binned) waveform.
    """
    nints, ngroups, ny, nx = data.shape
    nx4 = nx // 4
    times = clock.frame_times(nx4, last_column_delay=last_column_delay)
    measured: dict[str, np.ndarray] = {}
    for number, freq in enumerate(case.frequencies, start=1):
        period = period_in_clocks(freq.frequency)
        count = integrations_to_phase(
            nints, ngroups, period, case.frameclocks,
            nints_to_phase=nints_to_phase, use_n_cycles=use_n_cycles,
        )
        bins = int(period / 2.0) if nbins is None else int(nbins)
        bins = 500 if bins > _MAX_BINS else max(bins, 1)
        if log:
            log(
                f"Correcting {freq.frequency} Hz ({number} of {len(case.frequencies)}): "
                f"{bins} phase bins from {count} integration(s)"
            )
        residuals = np.stack([flatten_integration(data[i]) for i in range(count)])
        phases = np.stack(
            [clock.phases(times, period, integration=i, ngroups=ngroups) for i in range(count)]
        )
        wave = phase_binned_waveform(phases, residuals, bins)
        measured[freq.name] = wave
        if freq.waveform is not None:
            table = align_reference(freq.waveform, wave, period, scale=scale_reference)
        else:
            table = nearest_rebin(wave, period)
        table = np.where(np.isfinite(table), table, 0.0)
        for i in range(nints):
            index = (clock.phases(times, period, integration=i, ngroups=ngroups) * period).astype(
                np.int64
            )
            noise = table[np.minimum(index, table.shape[0] - 1)].astype(data.dtype)
            for output in range(4):
                data[i, :, :, output::4] -= noise
    return measured
