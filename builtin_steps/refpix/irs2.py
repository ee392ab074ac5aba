"""IRS2 reference correction: Fourier-domain subtraction of interleaved references.

For one integration in the detector frame (``ngroups x ny x 3200``):

1. the mean of each pixel over the groups is set aside (added back at the end);
2. each of the five sections is put in time order (sections 0, 2, 4 reversed),
   on a ``ny x row`` grid with zeros at the jumps and at the end-of-row pad;
3. a straight line in time, fitted per section and group to the top and bottom
   4 reference rows, is removed from every read value;
4. the reference output's gaps are filled: a cosine-weighted interpolation,
   then three rounds of a Fourier low-pass filter that keeps the read values;
5. for each amplifier ``k``, the interleaved reference reads, widened over
   each transition (:meth:`Irs2Layout.spread`), form a time series ``r_k``;
   the correction ``IFFT(beta_k * FFT(r_k) + alpha_k * FFT(refout))`` is
   subtracted from the amplifier's normal pixels (from all its values with
   ``preserve_refpix``);
6. the interleaved reference values are dropped (unless preserved).

``alpha`` and ``beta`` (4 x ``ny * row`` complex weights) come from the REFPIX
reference file.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.refpix.irs2_layout import NSECTIONS, Irs2Layout, irs2_normal_mask

__all__ = ["subtract_reference", "lowpass_filter"]

_EDGE_ROWS = 4


def _time_order(data: np.ndarray, layout: Irs2Layout) -> np.ndarray:
    """``(ngroups, ny, width)`` -> ``(5, ngroups, ny, row)`` float64 time series."""
    ngroups, ny, width = data.shape
    section = width // NSECTIONS
    sections = np.moveaxis(data.reshape(ngroups, ny, NSECTIONS, section), 2, 0)
    sections = np.array(sections, dtype=np.float64)
    sections[0::2] = sections[0::2, ..., ::-1]  # one readout direction for all
    pos_n, time_n = layout.normal()
    pos_r, time_r = layout.reference()
    out = np.zeros((NSECTIONS, ngroups, ny, layout.row))
    out[..., time_n] = sections[..., pos_n]
    out[..., time_r] = sections[..., pos_r]
    return out


def _remove_slopes(series: np.ndarray) -> None:
    """Fit and remove a line in time per section and group (top/bottom rows), in place."""
    ny, row = series.shape[-2:]
    time = np.arange(ny * row, dtype=np.float64).reshape(ny, row)
    time -= time.mean()
    rows = np.r_[0:_EDGE_ROWS, ny - _EDGE_ROWS : ny]
    y = series[..., rows, :]
    t = np.broadcast_to(time[rows], y.shape)
    used = y != 0
    n = used.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        mt = np.where(used, t, 0).sum(axis=(-2, -1)) / n
        my = np.where(used, y, 0).sum(axis=(-2, -1)) / n
        stt = np.where(used, t * t, 0).sum(axis=(-2, -1)) - n * mt * mt
        sty = np.where(used, t * y, 0).sum(axis=(-2, -1)) - n * mt * my
        slope = sty / stt
    intercept = my - slope * mt
    slope = np.nan_to_num(slope)
    intercept = np.nan_to_num(intercept)
    line = intercept[..., None, None] + slope[..., None, None] * time
    series -= np.where(series != 0, line, 0.0)


def _cosine_fill(plane: np.ndarray) -> None:
    """Fill the zeros of a ``(ny, row)`` plane by cosine-weighted interpolation, in place."""
    flat = plane.ravel()
    weights = np.sin(np.arange(1, 32) / 32.0 * np.pi)
    have = (flat != 0).astype(np.float64)
    num = convolve1d(flat, weights, mode="wrap")
    den = convolve1d(have, weights, mode="wrap")
    estimate = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
    flat += estimate * (1.0 - have)


def lowpass_filter(ny: int, layout: Irs2Layout) -> np.ndarray:
    """Return the Fourier filter used to fill the reference output's gaps.

    It is 1 up to a cut-off frequency, falls as a half cosine over 5000
    frequency bins (for the default readout) and is 0 above.

    Parameters
    ----------
    ny : int
        Rows of the detector frame (2048).
    layout : Irs2Layout
        Readout geometry.

    Returns
    -------
    numpy.ndarray
        ``(ny * row,)`` float64 filter in FFT frequency order.
    """
    block = layout.scipix_n + layout.refpix_r + 2
    elen = 110000 // block
    blen = layout.row // block * ny // 2 - elen // 2
    half = ny * layout.row // 2
    if blen < 0 or half - 2 * blen - 2 * elen < 0:
        raise ValueError(f"an IRS2 frame of {ny} rows is too short for the gap filter")
    taper = (np.cos(np.arange(elen) * np.pi / elen) + 1.0) / 2.0
    first = np.concatenate((np.ones(blen), taper, np.zeros(half - 2 * blen - 2 * elen), taper[::-1], np.ones(blen)))
    return np.concatenate((first, np.roll(first, -1)[::-1]))


def _fill_refout(refout: np.ndarray, layout: Irs2Layout) -> None:
    """Fill the gaps of the reference output's time series, in place: ``(ngroups, ny, row)``."""
    ngroups, ny, row = refout.shape
    keep = np.zeros((ny, row), dtype=bool)
    keep[:, layout.normal()[1]] = True
    keep = keep.ravel()
    filt = lowpass_filter(ny, layout)
    for g in range(ngroups):
        _cosine_fill(refout[g])
        known = refout[g].ravel().copy()
        p = known.copy()
        for _ in range(3):
            p = np.fft.ifft(np.fft.fft(p) * filt).real
            p[keep] = known[keep]
        refout[g] = p.reshape(ny, row)


def subtract_reference(
    data: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    layout: Irs2Layout,
    *,
    preserve_refpix: bool = False,
) -> np.ndarray:
    """Correct one integration of an IRS2 readout.

    Parameters
    ----------
    data : numpy.ndarray
        ``(ngroups, ny, 3200)`` detector-frame values of one integration.
    alpha, beta : numpy.ndarray
        ``(4, ny * row)`` complex weights of the reference output and of the
        interleaved reference pixels, per amplifier.
    layout : Irs2Layout
        Readout geometry.
    preserve_refpix : bool
        Keep (and correct) the interleaved reference values and the reference
        output section instead of dropping them.

    Returns
    -------
    numpy.ndarray
        ``(ngroups, ny, 2048)`` float32 corrected image (``(ngroups, ny, 3200)``
        with ``preserve_refpix``).
    """
    ngroups, ny, width = data.shape
    nsamples = ny * layout.row
    if alpha.shape[-1] != nsamples or beta.shape[-1] != nsamples:
        raise ValueError(f"alpha/beta hold {alpha.shape[-1]} weights per amplifier, expected {nsamples}")
    offset = data.mean(axis=0, dtype=np.float64)
    series = _time_order(data - offset, layout)
    _remove_slopes(series)
    _fill_refout(series[0], layout)
    targets, sources = layout.spread()
    keep = layout.all_times() if preserve_refpix else layout.normal()[1]
    refout_ft = np.fft.fft(series[0].reshape(ngroups, nsamples), axis=-1)
    for k in range(1, NSECTIONS):
        refs = np.zeros((ngroups, ny, layout.row))
        refs[..., targets] = series[k][..., sources]
        spectrum = np.fft.fft(refs.reshape(ngroups, nsamples), axis=-1) * beta[k - 1]
        spectrum += alpha[k - 1] * refout_ft
        correction = np.fft.ifft(spectrum, axis=-1).real.reshape(ngroups, ny, layout.row)
        series[k][..., keep] -= correction[..., keep]
    sections = series[..., keep]  # (5, ngroups, ny, 512 or 640)
    flip = slice(0, None, 2) if preserve_refpix else slice(2, None, 2)
    sections[flip] = sections[flip, ..., ::-1]
    if preserve_refpix:
        out = np.moveaxis(sections, 0, 2).reshape(ngroups, ny, width)
        normal = irs2_normal_mask(width, layout.scipix_n, layout.refpix_r)
        normal[: width // NSECTIONS] = True  # the reference output gets its offset back too
        out[..., normal] += offset[..., normal]
        return out.astype(np.float32)
    out = np.moveaxis(sections[1:], 0, 2).reshape(ngroups, ny, -1)
    out += offset[..., irs2_normal_mask(width, layout.scipix_n, layout.refpix_r)]
    return out.astype(np.float32)


def convolve1d(*args, **kwargs):  # noqa: D103 - scipy.ndimage.convolve1d, imported on first use (slow import)
    from scipy.ndimage import convolve1d as scipy_convolve1d

    return scipy_convolve1d(*args, **kwargs)
