"""IRS2 reference correction: Fourier-domain subtraction of interleaved references.

For one integration in the detector frame (``ngroups x ny x 3200``), group by
group:

1. the mean of each pixel over the groups is set aside (added back at the end);
2. each of the five sections is put in time order (sections 0, 2, 4 reversed),
   on a ``ny x row`` grid with zeros at the jumps and at the end-of-row pad;
3. a straight line in time, fitted per section to the top and bottom 4
   reference rows, is removed from every read value;
4. the reference output's gaps are filled: a cosine-weighted interpolation,
   then three rounds of a Fourier low-pass filter that keeps the read values;
5. for each amplifier ``k``, the interleaved reference reads, widened over
   each transition (:meth:`Irs2Layout.spread`), form a time series ``r_k``;
   the correction ``Re IFFT(beta_k * FFT(r_k) + alpha_k * FFT(refout))`` is
   subtracted from the amplifier's normal pixels (from all its values with
   ``preserve_refpix``);
6. the interleaved reference values are dropped (unless preserved).

``alpha`` and ``beta`` (4 x ``ny * row`` complex weights) come from the REFPIX
reference file. Every time series is real, so only the real part of each
inverse transform is needed: it is computed with real transforms of half the
length, each weight ``w`` replaced by its Hermitian part
``(w[f] + conj(w[-f])) / 2`` on the non-negative frequencies (the same
numbers as the complex transforms, in double precision, at a quarter of the
work). The groups are corrected one at a time, so the work arrays are those of
one group.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.refpix.irs2_layout import NSECTIONS, Irs2Layout, irs2_normal_mask

__all__ = ["subtract_reference", "lowpass_filter", "hermitian_half"]

_EDGE_ROWS = 4


def hermitian_half(weights: np.ndarray) -> np.ndarray:
    """Return the Hermitian part of frequency weights on the non-negative frequencies.

    For a real series ``x`` and weights ``w`` (complex, FFT order, length
    ``n``), ``Re(ifft(w * fft(x)))`` equals ``irfft(h * rfft(x), n)`` with
    ``h`` the returned array.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(..., n)`` weights in FFT frequency order (``n`` even or odd).

    Returns
    -------
    numpy.ndarray
        ``(..., n // 2 + 1)`` complex128 weights.
    """
    n = weights.shape[-1]
    index = np.arange(n // 2 + 1)
    mirror = weights[..., (-index) % n]
    return 0.5 * (weights[..., index] + np.conj(mirror))


def _rfft(x: np.ndarray) -> np.ndarray:
    from scipy import fft

    return fft.rfft(x, overwrite_x=True)


def _irfft(x: np.ndarray, n: int) -> np.ndarray:
    from scipy import fft

    return fft.irfft(x, n, overwrite_x=True)


def _time_of_position(layout: Irs2Layout, section: int) -> np.ndarray:
    """Time position of each read position of a section: ``(section,)`` integers."""
    times = np.empty(section, dtype=np.intp)
    pos_n, time_n = layout.normal()
    pos_r, time_r = layout.reference()
    times[pos_n] = time_n
    times[pos_r] = time_r
    return times


def _placement(width: int, layout: Irs2Layout, preserve_refpix: bool) -> list[tuple]:
    """Where the values of each section go.

    Returns, for each section ``k``, ``(k, columns, times, out_columns, kept)``:
    its detector columns (within the row), their time positions, the output
    columns of the values kept, and which of ``columns`` are kept. Sections 0,
    2 and 4 are read right to left.
    """
    section = width // NSECTIONS
    time_of_pos = _time_of_position(layout, section)
    normal = irs2_normal_mask(width, layout.scipix_n, layout.refpix_r)
    places = []
    start = 0
    for k in range(NSECTIONS):
        local = np.arange(section)
        read = local if k % 2 == 1 else section - 1 - local
        kept = np.ones(section, dtype=bool) if preserve_refpix else normal[k * section : (k + 1) * section]
        count = int(kept.sum())
        places.append((k, k * section + local, time_of_pos[read], np.arange(start, start + count), kept))
        start += count
    return places


def _remove_slopes(series: np.ndarray) -> None:
    """Fit and remove a line in time per section (top/bottom rows), in place: ``(..., ny, row)``."""
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
    for index in np.ndindex(series.shape[:-2]):
        plane = series[index]
        line = intercept[index] + slope[index] * time
        plane -= np.where(plane != 0, line, 0.0)


def _cosine_fill(plane: np.ndarray) -> None:
    """Fill the zeros of a ``(ny, row)`` plane by cosine-weighted interpolation, in place."""
    flat = plane.reshape(-1)
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


def _fill_refout(refout: np.ndarray, keep: np.ndarray, filt: np.ndarray) -> None:
    """Fill the gaps of one group's reference-output time series ``(ny, row)``, in place."""
    _cosine_fill(refout)
    flat = refout.reshape(-1)
    known = flat[keep]
    p = flat.copy()
    for _ in range(3):
        p = _irfft(_rfft(p) * filt, flat.size)
        p[keep] = known
    flat[:] = p


def subtract_reference(
    data: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    layout: Irs2Layout,
    *,
    preserve_refpix: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Correct one integration of an IRS2 readout.

    Parameters
    ----------
    data : numpy.ndarray
        ``(ngroups, ny, 3200)`` detector-frame values of one integration (any
        strides; not modified).
    alpha, beta : numpy.ndarray
        ``(4, ny * row)`` complex weights of the reference output and of the
        interleaved reference pixels, per amplifier (FFT frequency order), or
        their :func:`hermitian_half` ``(4, ny * row // 2 + 1)``.
    layout : Irs2Layout
        Readout geometry.
    preserve_refpix : bool
        Keep (and correct) the interleaved reference values and the reference
        output section instead of dropping them.
    out : numpy.ndarray, optional
        ``(ngroups, ny, 2048)`` (``(ngroups, ny, 3200)`` with
        ``preserve_refpix``) array (any strides) to write the result into.

    Returns
    -------
    numpy.ndarray
        ``(ngroups, ny, 2048)`` float32 corrected image (``(ngroups, ny, 3200)``
        with ``preserve_refpix``): ``out`` when given.
    """
    ngroups, ny, width = data.shape
    nsamples = ny * layout.row
    half = nsamples // 2 + 1
    if alpha.shape[-1] not in (nsamples, half) or beta.shape[-1] not in (nsamples, half):
        raise ValueError(f"alpha/beta hold {alpha.shape[-1]} weights per amplifier, expected {nsamples}")
    alpha_h = alpha if alpha.shape[-1] == half else hermitian_half(alpha)
    beta_h = beta if beta.shape[-1] == half else hermitian_half(beta)
    filt = lowpass_filter(ny, layout)[:half]  # symmetric: its own Hermitian part
    places = _placement(width, layout, preserve_refpix)
    shape = (ngroups, ny, sum(int(kept.sum()) for *_, kept in places))
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    elif out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, expected {shape}")
    # the offset is restored to the image pixels (and, when kept, to the reference output)
    restored = irs2_normal_mask(width, layout.scipix_n, layout.refpix_r)
    restored[: width // NSECTIONS] = True

    offset = data.sum(axis=0, dtype=np.float64) / ngroups
    keep_refout = np.zeros((ny, layout.row), dtype=bool)
    keep_refout[:, layout.normal()[1]] = True
    keep_refout = keep_refout.reshape(-1)
    targets, sources = layout.spread()
    corrected = layout.all_times() if preserve_refpix else layout.normal()[1]
    series = np.empty((NSECTIONS, ny, layout.row))
    refs = np.zeros((ny, layout.row))
    for g in range(ngroups):
        series[:] = 0.0
        for k, columns, times, _, _ in places:
            series[k][:, times] = data[g][:, columns] - offset[:, columns]
        _remove_slopes(series)
        _fill_refout(series[0], keep_refout, filt)
        refout_ft = _rfft(series[0].reshape(-1).copy())
        for k in range(1, NSECTIONS):
            refs[:, targets] = series[k][:, sources]
            spectrum = _rfft(refs.reshape(-1).copy())
            spectrum *= beta_h[k - 1]
            spectrum += alpha_h[k - 1] * refout_ft
            correction = _irfft(spectrum, nsamples).reshape(ny, layout.row)
            series[k][:, corrected] -= correction[:, corrected]
        for k, columns, times, out_columns, kept in places:
            if out_columns.size == 0:
                continue
            columns, times = columns[kept], times[kept]
            values = series[k][:, times]
            add = restored[columns]
            values[:, add] += offset[:, columns[add]]
            out[g][:, out_columns] = values
    return out


def convolve1d(*args, **kwargs):  # noqa: D103 - scipy.ndimage.convolve1d, imported on first use (slow import)
    from scipy.ndimage import convolve1d as scipy_convolve1d

    return scipy_convolve1d(*args, **kwargs)
