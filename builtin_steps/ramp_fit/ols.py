"""Ordinary least-squares ramp fitting with optimal weighting.

:func:`fit_ramps` turns ramps (``nints, ngroups, ny, nx``) into count rates in
DN/s, per integration and combined, following the JWST ``OLS_C`` algorithm:

* each integration's ramp is split into segments of good groups
  (GROUPDQ == 0); a segment ends before any flagged group, and a group that
  carries only JUMP_DET starts the segment that follows it;
* a NaN or infinite group value counts as DO_NOT_USE (JWST 3.0's C fitter
  reads it as 0 instead, which biases the slope, and gives a rate of 0 where
  every value is NaN); a pixel left without a usable group gets a NaN rate
  and DO_NOT_USE in its DQ, as for any unusable ramp;
* one-group segments are dropped when a longer segment exists, and only the
  first one is kept otherwise;
* each segment is fitted with the optimal weights of
  :mod:`builtin_steps.ramp_fit.weights`; its read-noise variance is
  ``12 R^2 / ((n^3 - n) t^2)`` and its Poisson variance
  ``(rate + dark) / (t gain (n - 1))``, where ``rate`` is the pixel's median
  first difference (averaged over integrations) and ``R`` the per-group read
  noise;
* segments combine into an integration, and integrations into the exposure,
  as a weighted mean with weights ``1 / var_rnoise`` (the read-noise variance,
  as the JWST 3.x pipeline does: weights that do not depend on the signal
  keep the mean unbiased; a pixel without read noise falls back to
  ``1 / (var_p + var_r)``); the variances combine by inverse variance,
  ``VAR_POISSON = 1 / sum(1 / var_p)``, ``VAR_RNOISE = 1 / sum(1 / var_r)``;
  ERR is ``sqrt(VAR_POISSON + VAR_RNOISE)`` for the exposure and
  ``sqrt(1 / sum(1 / (var_p + var_r)))`` for an integration.

The fit runs in two compiled passes, pixel by pixel, without the interpreter
lock: :mod:`builtin_steps.ramp_fit.ols_clean` fits the pixels whose groups are
all good and finite (the usual case), and
:mod:`builtin_steps.ramp_fit.ols_flagged` the others.  Both repeat, operation
by operation, the numpy code of :mod:`builtin_steps.ramp_fit.segments` and of
this module (vectorised over pixels), which the tests compare them with.
Every pixel is computed independently, so any split of the rows gives
bit-identical results.
"""

from __future__ import annotations

import numpy as np

from builtin_steps._kernel_arrays import flat_memory, has_contiguous_rows
from builtin_steps.ramp_fit.segments import (
    Times,
    fit_clean,
    fit_integration,
    median_of_rows,
    median_rate,
    prepare_integration,
)
from builtin_steps.ramp_fit.weights import POWERS, slope_coefficients

__all__ = ["fit_ramps", "allocate_outputs", "output_layout"]

DO_NOT_USE = 1
SATURATED = 2
JUMP_DET = 4
NO_GAIN_VALUE = 524288
POWER_CLASSES = POWERS.size

#: Variances at or above this are reported as 0 (as the JWST pipeline does).
LARGE_VARIANCE_THRESHOLD = 1.0e6

#: Pixels per internal block: keeps temporaries small and in cache.
_BLOCK_PIXELS = 16384


def fit_ramps(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    group_time: float,
    frame_time: float,
    nframes: int = 1,
    suppress_one_group: bool = True,
    zeroframe: np.ndarray | None = None,
    dark_current: np.ndarray | None = None,
    out: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Fit slopes to ramps with optimally weighted least squares.

    Parameters
    ----------
    data : ndarray, shape (nints, ngroups, ny, nx)
        Ramp values in DN (float32).
    groupdq : ndarray of uint8, same shape as `data`
        Group flags (DO_NOT_USE, SATURATED, JUMP_DET, ...).
    pixeldq : ndarray of uint32, shape (ny, nx)
        Pixel flags, copied into the output DQ.
    gain : ndarray, shape (ny, nx)
        Gain in electrons/DN; pixels with a non-positive or NaN gain get
        NO_GAIN_VALUE and DO_NOT_USE.
    readnoise : ndarray, shape (ny, nx)
        Read noise of a difference of two frames, in DN (the CRDS
        ``readnoise`` reference); one group's read noise is
        ``readnoise / sqrt(2 * nframes)``.
    group_time, frame_time : float
        Group and frame times in seconds.
    nframes : int, optional
        Frames averaged per group.
    suppress_one_group : bool, optional
        When True, an integration with a single good group gets no slope
        (all its groups are treated as DO_NOT_USE).  When False, a single
        good first group gives ``data / ((nframes + 1) * frame_time / 2)``,
        and a ZEROFRAME value (if given and non-zero) is used for
        integrations without any good group.
    zeroframe : ndarray, shape (nints, ny, nx), optional
        ZEROFRAME values in DN.
    dark_current : ndarray, shape (ny, nx), optional
        Average dark current in DN/s added to the median rate in the Poisson
        variance (alone where that rate is not positive), as JWST does.
    out : dict of str to ndarray, optional
        Arrays to write the results into, as returned by
        :func:`allocate_outputs` (or views of rows of such arrays: each
        integration's rows must be contiguous); they are returned.

    Returns
    -------
    dict of str to ndarray
        ``rate``, ``rate_dq``, ``rate_var_poisson``, ``rate_var_rnoise``,
        ``rate_err`` with shape (ny, nx) and ``ints``, ``ints_dq``,
        ``ints_var_poisson``, ``ints_var_rnoise``, ``ints_err`` with shape
        (nints, ny, nx).  Data are float32 (DN/s and (DN/s)^2), DQ uint32.
        Pixels without a valid slope are NaN with zero variances.
    """
    nints, ngroups, ny, nx = data.shape
    npix = ny * nx
    table = slope_coefficients(ngroups, group_time).reshape(-1)
    given = out
    out = _allocate(nints, npix) if given is None else _flat_views(given, nints, ny, nx)

    flat_data = data.reshape(nints, ngroups, npix)
    flat_gdq = groupdq.reshape(nints, ngroups, npix)
    flat_pdq = pixeldq.reshape(npix)
    flat_gain = np.asarray(gain, dtype=np.float32).reshape(npix)
    flat_rn = np.asarray(readnoise, dtype=np.float32).reshape(npix)
    flat_zf = None if zeroframe is None else zeroframe.reshape(nints, npix)
    flat_dark = None if dark_current is None else np.asarray(dark_current).reshape(npix)

    times = Times(group_time, frame_time, nframes)
    suppress = bool(suppress_one_group) and ngroups > 1

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Pass 1: the pixels whose groups are all good (the usual case); the
        # others are returned for pass 2, the general segment logic.
        flagged = _fit_clean_compiled(flat_data, flat_gdq, flat_pdq, flat_gain, flat_rn, flat_dark,
                                      table, ngroups, times, out)
        if flagged.size:
            _fit_flagged_compiled(flagged, flat_data, flat_gdq, flat_pdq, flat_gain, flat_rn, flat_zf,
                                  flat_dark, table, times, suppress, out)
    if given is not None:
        return given
    return {
        name: arr.reshape(arr.shape[:-1] + (ny, nx)) for name, arr in out.items()
    }


def _fit_clean_compiled(data, gdq, pdq, gain, rn, dark, table, ngroups, times, out):
    """Run :func:`~builtin_steps.ramp_fit.ols_clean.fit_clean_pixels`; return the other pixels."""
    from builtin_steps.ramp_fit.ols_clean import fit_clean_pixels
    from builtin_steps.ramp_fit.weights import SNR_EDGES

    npix = data.shape[-1]
    dirty = np.empty(npix, dtype=np.bool_)
    coef = np.ascontiguousarray(table.reshape(-1, POWER_CLASSES, max(ngroups, 1))[ngroups])
    has_dark = dark is not None
    dark_arr = np.ascontiguousarray(dark) if has_dark else np.zeros(1, np.float32)
    n = float(ngroups)
    exact = (ngroups - 1) % 2 == 0
    data_planes, data_at = _planes(data, writeable=False)
    gdq_planes, gdq_at = _planes(gdq, writeable=False)
    names = ("ints", "ints_dq", "ints_var_poisson", "ints_var_rnoise", "ints_err")
    ints = [_planes(out[name], writeable=True) for name in names]
    fit_clean_pixels(
        data_planes, data_at, gdq_planes, gdq_at, np.ascontiguousarray(pdq), np.ascontiguousarray(gain),
        np.ascontiguousarray(rn), dark_arr, has_dark, coef, SNR_EDGES, float(times.group),
        float(np.sqrt(2.0 * times.nframes)), n**3 - n, exact,
        out["rate"], out["rate_dq"], out["rate_var_poisson"], out["rate_var_rnoise"], out["rate_err"],
        *(planes for planes, _ in ints), np.stack([starts for _, starts in ints]), dirty,
    )
    return np.flatnonzero(dirty)


def _fit_flagged_compiled(flagged, data, gdq, pdq, gain, rn, zeroframe, dark, table, times, suppress, out):
    """Fit the pixels `flagged` with :func:`~builtin_steps.ramp_fit.ols_flagged.fit_flagged_pixels`.

    The arguments are those of :func:`_fit_flagged_numpy`, which gives the
    same results with numpy.
    """
    from builtin_steps.ramp_fit.ols_flagged import fit_flagged_pixels
    from builtin_steps.ramp_fit.weights import SNR_EDGES

    has_zeroframe = zeroframe is not None
    if not has_zeroframe:
        zeroframe = np.zeros((data.shape[0], 1), np.float32)
    data_planes, data_at = _planes(data, writeable=False)
    gdq_planes, gdq_at = _planes(gdq, writeable=False)
    zf_planes, zf_at = _planes(zeroframe, writeable=False)
    dark_arr = np.zeros(1, np.float32) if dark is None else np.ascontiguousarray(dark)
    durations = (times.group, times.one_group, times.frame)
    # numpy divides a ramp's values by a Python float in this type (float32 for float32 values)
    data_times = np.array(durations, dtype=np.result_type(data.dtype, 1.0))
    names = ("ints", "ints_dq", "ints_var_poisson", "ints_var_rnoise", "ints_err")
    ints = [_planes(out[name], writeable=True) for name in names]
    fit_flagged_pixels(
        flagged, data_planes, data_at, gdq_planes, gdq_at, zf_planes, zf_at, has_zeroframe,
        np.ascontiguousarray(pdq), np.ascontiguousarray(gain), np.ascontiguousarray(rn), dark_arr,
        dark is not None, table, SNR_EDGES, np.array(durations), data_times,
        float(np.sqrt(2.0 * times.nframes)), suppress,
        out["rate"], out["rate_dq"], out["rate_var_poisson"], out["rate_var_rnoise"], out["rate_err"],
        *(planes for planes, _ in ints), np.stack([starts for _, starts in ints]),
    )


def _fit_flagged_numpy(flagged, data, gdq, pdq, gain, rn, zeroframe, dark, table, times, suppress, out):
    """Fit the pixels `flagged` with numpy, in blocks (the reference of the compiled pass 2).

    Parameters
    ----------
    flagged : ndarray of int64
        Indices of the pixels to fit (on the last axis of the arrays).
    data, gdq : ndarray, shape (nints, ngroups, npix)
        Ramp values and group flags.
    pdq, gain, rn : ndarray, shape (npix,)
        Pixel flags, gain (float32) and read noise (float32).
    zeroframe : ndarray, shape (nints, npix), or None
        ZEROFRAME values.
    dark : ndarray, shape (npix,), or None
        Dark current.
    table : ndarray
        Flattened slope coefficients.
    times : Times
        Exposure timings.
    suppress : bool
        Whether a ramp with a single good group has no slope.
    out : dict of str to ndarray
        Flat output arrays (``(npix,)`` or ``(nints, npix)``), written at `flagged`.
    """
    nints = data.shape[0]

    def inputs(index):
        return (
            data[:, :, index],
            gdq[:, :, index],
            pdq[index],
            gain[index],
            rn[index],
            None if zeroframe is None else zeroframe[:, index],
            None if dark is None else dark[index],
        )

    for lo in range(0, flagged.size, _BLOCK_PIXELS):
        index = flagged[lo : lo + _BLOCK_PIXELS]
        block = _nonfinite_as_do_not_use(inputs(index))
        part = _allocate(nints, index.size)
        _finish(part, block[2], block[3], _flagged_integrations(block, table, times, suppress))
        for name, arr in out.items():
            arr[..., index] = part[name]


def _planes(arr: np.ndarray, *, writeable: bool) -> tuple[np.ndarray, np.ndarray]:
    """A one-dimensional view holding the planes of `arr` and where each plane starts.

    Parameters
    ----------
    arr : ndarray, shape (..., npix)
        The array. One whose rows are not contiguous is copied first (an
        input; the outputs are checked by :func:`_flat_views`).
    writeable : bool
        Whether the view may be written to.

    Returns
    -------
    flat : ndarray, 1-D, contiguous
        The memory from the first to the last element of `arr`
        (:func:`~builtin_steps._kernel_arrays.flat_memory`), so that ``arr[j]``
        is ``flat[starts[j] : starts[j] + npix]`` for every index ``j`` of the
        leading axes.
    starts : ndarray of int64, shape ``arr.shape[:-1]``
        The index in `flat` of the first element of each plane.
    """
    flat, strides = flat_memory(arr, writeable=writeable)
    lead = arr.shape[:-1]
    starts = np.zeros(lead, dtype=np.int64)
    for axis, stride in enumerate(strides[:-1]):
        steps = np.arange(lead[axis], dtype=np.int64) * stride
        starts += steps.reshape((-1,) + (1,) * (len(lead) - axis - 1))
    return flat, starts


def allocate_outputs(nints: int, ny: int, nx: int) -> dict[str, np.ndarray]:
    """Allocate the result arrays of :func:`fit_ramps` (uninitialised).

    Parameters
    ----------
    nints, ny, nx : int
        Number of integrations and image shape.

    Returns
    -------
    dict of str to ndarray
        The names :func:`fit_ramps` returns, ``(ny, nx)`` for the exposure's
        rate and ``(nints, ny, nx)`` for the per-integration ones.
    """
    return {
        name: arr.reshape(arr.shape[:-1] + (ny, nx))
        for name, arr in _allocate(nints, ny * nx).items()
    }


def _flat_views(out: dict[str, np.ndarray], nints: int, ny: int, nx: int) -> dict[str, np.ndarray]:
    """Views of given output arrays with the pixel axes merged (never copies)."""
    views = {}
    for name, template in _allocate(nints, 0).items():
        arr = out.get(name)
        wanted = template.shape[:-1] + (ny, nx)
        if arr is None or arr.shape != wanted or arr.dtype != template.dtype:
            got = "missing" if arr is None else f"{arr.dtype} {arr.shape}"
            raise ValueError(
                f"fit_ramps: out[{name!r}] must be a {template.dtype} array of shape {wanted}; "
                f"got {got}. Make the outputs with allocate_outputs."
            )
        problem = (
            f"fit_ramps: out[{name!r}] must have contiguous rows in each integration "
            "(a slice of rows of an array from allocate_outputs)."
        )
        try:
            views[name] = arr.reshape(template.shape[:-1] + (ny * nx,), copy=False)
        except ValueError as exc:
            raise ValueError(problem) from exc
        if not has_contiguous_rows(views[name]):
            raise ValueError(problem)
    return views


def _nonfinite_as_do_not_use(block):
    """The block with DO_NOT_USE added to the group flags of NaN and infinite values."""
    data, gdq = block[0], block[1]
    bad = ~np.isfinite(data)
    if not bad.any():
        return block
    return (data, gdq | np.where(bad, DO_NOT_USE, 0).astype(gdq.dtype), *block[2:])


def _flag(condition, bits):
    """``bits`` where ``condition`` holds, else 0, as uint32."""
    return np.where(condition, bits, 0).astype(np.uint32)


def output_layout() -> list[tuple[str, bool, np.dtype]]:
    """The outputs of :func:`fit_ramps`: ``(name, per_integration, dtype)`` of each, in order.

    ``rate*`` are one image each, ``ints*`` (per integration) one image per
    integration.
    """
    layout = []
    for prefix, per_integration in (("rate", False), ("ints", True)):
        layout.append((prefix, per_integration, np.dtype(np.float32)))
        layout.append((f"{prefix}_dq", per_integration, np.dtype(np.uint32)))
        for var in ("var_poisson", "var_rnoise", "err"):
            layout.append((f"{prefix}_{var}", per_integration, np.dtype(np.float32)))
    return layout


def _allocate(nints: int, npix: int) -> dict[str, np.ndarray]:
    return {
        name: np.empty((nints, npix) if per_integration else (npix,), dtype=dtype)
        for name, per_integration, dtype in output_layout()
    }


def _pixel_terms(pdq, gain, rn, dark, times):
    """Pixel DQ with bad gains flagged, float64 gain, per-group read noise, dark."""
    gain = gain.astype(np.float64)
    bad_gain = ~(gain > 0.0)
    pixeldq = pdq.astype(np.uint32) | _flag(bad_gain, NO_GAIN_VALUE | DO_NOT_USE)
    rn_group = rn.astype(np.float64) / np.sqrt(2.0 * times.nframes)
    dark = np.zeros(gain.shape) if dark is None else np.nan_to_num(dark.astype(np.float64))
    return pixeldq, gain, rn_group, dark


def _clean_integrations(block, table, times):
    """Per-integration fits of pixels without any group flag (fast path).

    Yields ``(dq, any_sat, inv_p, inv_r, inv_e, inv_w, num)`` per integration.
    """
    data, _gdq, pdq, gain, rn, _zframe, dark = block
    nints, ngroups, npix = data.shape
    pixeldq, gain, rn_group, dark = _pixel_terms(pdq, gain, rn, dark, times)
    mrate = np.zeros(npix)
    # An even number of differences takes the mean of the two middle ones,
    # which can cancel: form those differences in float64.  With an odd
    # number, the median is one difference, exact to float32 rounding.
    exact = (ngroups - 1) % 2 == 0
    for i in range(nints):
        values = data[i].astype(np.float64) if exact else data[i]
        mrate += median_of_rows(np.diff(values, axis=0)) / times.group
    mrate /= nints
    no_sat = np.zeros(npix, dtype=bool)
    for i in range(nints):
        terms = fit_clean(data[i], gain, rn_group, dark, mrate, table, times)
        yield (pixeldq, no_sat) + terms


def _flagged_integrations(block, table, times, suppress):
    """Per-integration fits of pixels with flagged groups (general path).

    Yields ``(dq, any_sat, inv_p, inv_r, inv_e, inv_w, num)`` per integration.
    """
    data, gdq, pdq, gain, rn, zframe, dark = block
    nints, ngroups, npix = data.shape
    pixeldq, gain, rn_group, dark = _pixel_terms(pdq, gain, rn, dark, times)
    prepared = [
        prepare_integration(data[i], gdq[i], None if zframe is None else zframe[i], suppress)
        for i in range(nints)
    ]
    mrate = np.zeros(npix)
    for prep in prepared:
        mrate += median_rate(prep, times)
    mrate /= nints
    for prep in prepared:
        terms = fit_integration(prep, gain, rn_group, dark, mrate, table, times)
        dq = pixeldq | np.where(prep.jump, JUMP_DET, 0).astype(np.uint32)
        dq |= np.where(prep.no_data, DO_NOT_USE, 0).astype(np.uint32)
        dq |= np.where(prep.all_sat, SATURATED, 0).astype(np.uint32)
        yield (dq, prep.any_sat) + terms


def _finish(out, pdq, gain, integrations):
    """Store the integrations and combine them into the exposure's rate.

    `integrations` yields ``(dq, any_sat, inv_p, inv_r, inv_e, inv_w, num)``: the
    integration's DQ, whether any group was saturated, the inverse-variance
    sums of its segments (Poisson, read noise, total, and the weights of the
    mean) and the weighted sum of the segment slopes.
    """
    npix = pdq.shape[-1]
    sums = {k: np.zeros(npix) for k in ("p", "r", "w", "num")}
    rate_dq = pdq.astype(np.uint32) | _flag(~(gain > 0), NO_GAIN_VALUE | DO_NOT_USE)
    n_dnu = np.zeros(npix, dtype=np.int32)
    n_sat = np.zeros(npix, dtype=np.int32)
    any_sat = np.zeros(npix, dtype=bool)
    nints = 0
    for i, (dq, sat, inv_p, inv_r, inv_e, inv_w, num) in enumerate(integrations):
        nints += 1
        invalid = (dq & (DO_NOT_USE | SATURATED)) != 0
        n_dnu += (dq & DO_NOT_USE) != 0
        n_sat += (dq & SATURATED) != 0
        any_sat |= sat
        rate_dq |= dq & JUMP_DET
        _store_integration(out, i, dq | np.where(sat, SATURATED, 0).astype(np.uint32),
                           invalid, inv_p, inv_r, inv_e, inv_w, num)
        sums["p"] += np.where(inv_p > 0.0, inv_p, 0.0)
        sums["r"] += inv_r
        sums["w"] += inv_w
        sums["num"] += num

    rate_dq |= np.where(n_dnu == nints, DO_NOT_USE, 0).astype(np.uint32)
    rate_dq |= np.where(n_sat == nints, SATURATED, 0).astype(np.uint32)
    invalid = (rate_dq & (DO_NOT_USE | SATURATED)) != 0
    var_p = np.where(sums["p"] > 0.0, 1.0 / sums["p"], 0.0)
    var_p = np.where((var_p >= LARGE_VARIANCE_THRESHOLD) | (var_p < 0.0), 0.0, var_p)
    var_r = np.where(sums["r"] > 0.0, 1.0 / sums["r"], 0.0)
    var_r = np.where(var_r >= LARGE_VARIANCE_THRESHOLD, 0.0, var_r)
    err = np.sqrt(var_p + var_r)
    slope = sums["num"] / sums["w"]
    out["rate"][...] = np.where(invalid, np.nan, slope)
    out["rate_var_poisson"][...] = np.where(invalid, 0.0, var_p)
    out["rate_var_rnoise"][...] = np.where(invalid, 0.0, var_r)
    out["rate_err"][...] = np.where(invalid, 0.0, err)
    out["rate_dq"][...] = rate_dq | np.where(any_sat, SATURATED, 0).astype(np.uint32)


def _store_integration(out, i, dq, invalid, inv_p, inv_r, inv_e, inv_w, num):
    """Write one integration's slope, variances and DQ into the outputs."""
    var_p = np.where(inv_p > 0.0, 1.0 / inv_p, 0.0)
    var_p = np.where(var_p >= LARGE_VARIANCE_THRESHOLD, 0.0, var_p)
    var_r = np.where(inv_r > 0.0, 1.0 / inv_r, np.inf)
    var_r = np.where(var_r >= LARGE_VARIANCE_THRESHOLD, 0.0, var_r)
    var_e = 1.0 / inv_e
    err = np.where(var_e > LARGE_VARIANCE_THRESHOLD, 0.0, np.sqrt(var_e))
    no_fit = ~(inv_e > 0.0)
    invalid = invalid | no_fit
    out["ints"][i] = np.where(invalid, np.nan, num / inv_w)
    out["ints_var_poisson"][i] = np.where(invalid, 0.0, var_p)
    out["ints_var_rnoise"][i] = np.where(invalid, 0.0, var_r)
    out["ints_err"][i] = np.where(invalid, 0.0, err)
    out["ints_dq"][i] = dq | np.where(no_fit, DO_NOT_USE, 0).astype(np.uint32)


def warm_up() -> None:
    """Load the compiled fits for the array types the ramp-fit step passes them.

    Called on tiny ramps of one and two integrations, with a flagged group in
    every row (so that both passes run), whole and as bands of rows (the step
    fits a full frame band by band), so that a later call on real data finds
    the kernels ready; see :func:`builtin_steps._jit.warm_up_in_background`.
    """
    for nints in (1, 2):
        ramp = np.broadcast_to(np.arange(4, dtype=np.float32)[:, None, None], (nints, 4, 3, 2)).copy()
        flags = np.zeros(ramp.shape, np.uint8)
        flags[:, 2, :, 0] = JUMP_DET
        pixels = np.zeros((3, 2), np.uint32)
        ones = np.ones((3, 2), np.float32)
        out = allocate_outputs(nints, 3, 2)
        fit_ramps(ramp, flags, pixels, ones, ones, group_time=1.0, frame_time=1.0, out=out)
        band = {name: arr[..., 1:, :] for name, arr in out.items()}
        fit_ramps(ramp[:, :, 1:], flags[:, :, 1:], pixels[1:], ones[1:], ones[1:],
                  group_time=1.0, frame_time=1.0, out=band)
