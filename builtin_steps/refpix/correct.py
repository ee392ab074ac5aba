"""Reference-pixel correction of near-infrared ramps.

Full frame (and subarrays read through four outputs): in the detector frame,
for each of the four 512-column amplifiers, the sigma-clipped means of the top
and bottom reference rows (separately for even and odd columns) are averaged
and subtracted from the amplifier's columns, group by group; then the running
median of the left and right reference columns is subtracted from each row,
scaled by ``side_gain``.

Subarrays read through one output: the sigma-clipped means of the reference
pixels inside the subarray (PIXELDQ REFERENCE_PIXEL, not DO_NOT_USE), even and
odd detector columns apart, are subtracted from the matching columns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from builtin_steps._common import DO_NOT_USE, REFERENCE_PIXEL, Window
from builtin_steps.refpix.orientation import FULL_SIZE, detector_coordinates, orientation, to_detector
from builtin_steps.refpix.sirs import SirsKernels, sirs_side_signal
from builtin_steps.refpix.stats import clipped_mean, running_median

__all__ = ["RefpixOptions", "correct_nir", "correct_full_frame", "correct_one_output"]

_NAMP = 4
_AMP_WIDTH = FULL_SIZE // _NAMP
_BORDER = 4


@dataclass(frozen=True)
class RefpixOptions:
    """Options of the near-infrared reference-pixel correction.

    Attributes
    ----------
    odd_even_columns : bool
        Separate top/bottom reference values for even and odd columns.
    use_side_ref_pixels : bool
        Subtract the smoothed side reference signal from each row.
    side_smoothing_length : int
        Height of the running-median window on the side reference pixels.
    side_gain : float
        Factor applied to the side reference signal.
    siglimit : float
        Sigma-clipping limit (both sides) of the reference-pixel means.
    sirs : SirsKernels or None
        Kernels of the SIRS side correction, which replaces the running
        median on full frames when given.
    """

    odd_even_columns: bool = True
    use_side_ref_pixels: bool = True
    side_smoothing_length: int = 11
    side_gain: float = 1.0
    siglimit: float = 3.0
    sirs: SirsKernels | None = None


def correct_nir(
    data: np.ndarray,
    pixeldq: np.ndarray,
    *,
    detector: str | None,
    window: Window,
    noutputs: int | None,
    options: RefpixOptions,
    zeroframe: np.ndarray | None = None,
) -> str:
    """Apply the reference-pixel correction to a near-infrared ramp, in place.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` float32 ramp in science orientation.
    pixeldq : numpy.ndarray
        ``(ny, nx)`` pixel DQ (reference pixels flagged REFERENCE_PIXEL).
    detector : str or None
        Detector name, which fixes the orientation.
    window : Window
        Subarray window (1-based); a full frame is ``Window(1, 1, 2048, 2048)``.
    noutputs : int or None
        Number of readout outputs used (``NOUTPUTS``).
    options : RefpixOptions
        Algorithm options.
    zeroframe : numpy.ndarray, optional
        ``(nints, ny, nx)`` zero frame, corrected the same way (zeros stay 0).

    Returns
    -------
    str
        ``"ok"``; ``"no_reference_pixels"`` when the data contain no usable
        reference pixel (nothing changed); ``"does_not_fit"`` when the window
        lies outside the detector (nothing changed).
    """
    ny, nx = data.shape[-2:]
    r0, c0 = window.ystart - 1, window.xstart - 1
    if r0 < 0 or c0 < 0 or r0 + ny > FULL_SIZE or c0 + nx > FULL_SIZE:
        return "does_not_fit"
    kind = orientation(detector)
    full = (ny, nx) == (FULL_SIZE, FULL_SIZE)
    targets = [data]
    if zeroframe is not None:
        targets.append(zeroframe[:, None])
    found = False
    for k, target in enumerate(targets):
        zeros = target == 0 if k == 1 else None
        if full:
            found |= correct_full_frame(target, pixeldq, kind, options)
        elif noutputs == 4:
            found |= _four_output_subarray(target, pixeldq, kind, r0, c0, options)
        else:
            found |= correct_one_output(
                target, pixeldq, kind, r0, c0, options.odd_even_columns, options.siglimit
            )
        if zeros is not None:
            target[zeros] = 0
    return "ok" if found else "no_reference_pixels"


def correct_full_frame(data: np.ndarray, pixeldq: np.ndarray, kind: str, options: RefpixOptions) -> bool:
    """Correct a full-frame ramp in place.

    Statistics are taken on detector-frame views; the corrections are
    subtracted in the science frame as row or column vectors, so that every
    pass over the cube runs on contiguous memory.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, 2048, 2048)`` ramp in science orientation.
    pixeldq : numpy.ndarray
        ``(2048, 2048)`` pixel DQ in science orientation.
    kind : str
        Orientation (see :func:`builtin_steps.refpix.orientation.orientation`).
    options : RefpixOptions
        Algorithm options.

    Returns
    -------
    bool
        True when at least one usable reference value was found.
    """
    det = to_detector(data, kind)
    usable = to_detector((pixeldq & np.uint32(DO_NOT_USE)) == 0, kind)
    per_column, found = _top_bottom(det, usable, options.odd_even_columns, options.siglimit)
    _subtract_detector_vector(data, per_column, kind, along="columns")
    if options.use_side_ref_pixels and options.sirs is not None:
        signal = sirs_side_signal(det, options.sirs)  # (..., amp, rows)
        for amp in range(signal.shape[-2]):
            cols = slice(amp * _AMP_WIDTH, (amp + 1) * _AMP_WIDTH)
            det[..., :, cols] -= signal[..., amp, :, None].astype(data.dtype)
    elif options.use_side_ref_pixels:
        per_row, side_found = _side(det, usable, options)
        _subtract_detector_vector(data, per_row, kind, along="rows")
        found |= side_found
    return found


def _subtract_detector_vector(data: np.ndarray, vector: np.ndarray, kind: str, *, along: str) -> None:
    """Subtract one value per detector column (or row) from a science-frame cube."""
    transposed = kind in ("swap", "swap_rot180")
    reversed_ = {
        "columns": kind in ("flipx", "rot180", "swap_rot180"),
        "rows": kind in ("flipy", "rot180", "swap_rot180"),
    }[along]
    if reversed_:
        vector = vector[..., ::-1]
    vector = np.ascontiguousarray(vector, dtype=data.dtype)
    # a detector column is a science column, or a science row when transposed
    science_columns = (along == "columns") != transposed
    data -= vector[..., None, :] if science_columns else vector[..., :, None]


def _top_bottom(
    det: np.ndarray, usable: np.ndarray, odd_even: bool, siglimit: float = 3.0
) -> tuple[np.ndarray, bool]:
    lead = det.shape[:-2]
    npar = 2 if odd_even else 1
    signals = []
    for rows in (slice(FULL_SIZE - _BORDER, FULL_SIZE), slice(0, _BORDER)):
        block = det[..., rows, :]
        ok = usable[rows, :]
        # (..., rows, amp, colpair, parity) -> (..., amp, parity, samples)
        shape = lead + (_BORDER, _NAMP, _AMP_WIDTH // npar, npar)
        b = np.moveaxis(block.reshape(shape), (-4, -2), (-2, -1)).reshape(lead + (_NAMP, npar, -1))
        m = np.moveaxis(ok.reshape(shape[-4:]), (-4, -2), (-2, -1)).reshape((_NAMP, npar, -1))
        signals.append(clipped_mean(b, m, siglimit))
    signal = _nan_average(*signals)  # (..., amp, parity)
    offsets = np.nan_to_num(signal, nan=0.0)
    per_column = np.broadcast_to(offsets[..., :, None, :], lead + (_NAMP, _AMP_WIDTH // npar, npar))
    return per_column.reshape(lead + (FULL_SIZE,)), bool(np.isfinite(signal).any())


def _side(det: np.ndarray, usable: np.ndarray, options: RefpixOptions) -> tuple[np.ndarray, bool]:
    sides = []
    for cols in (slice(0, _BORDER), slice(FULL_SIZE - _BORDER, FULL_SIZE)):
        sides.append(running_median(det[..., :, cols], usable[:, cols], options.side_smoothing_length))
    combined = _nan_average(*sides)
    found = bool(np.isfinite(combined).any())
    return np.nan_to_num(combined, nan=0.0) * options.side_gain, found


def _nan_average(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean of a and b; the other where one is NaN; NaN where both are."""
    out = np.where(np.isnan(a), b, np.where(np.isnan(b), a, 0.5 * (a + b)))
    return out


def correct_one_output(
    data: np.ndarray,
    pixeldq: np.ndarray,
    kind: str,
    row0: int,
    col0: int,
    odd_even_columns: bool,
    siglimit: float = 3.0,
) -> bool:
    """Correct a subarray read through one output, in place.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` ramp in science orientation.
    pixeldq : numpy.ndarray
        ``(ny, nx)`` pixel DQ.
    kind : str
        Orientation (see :func:`builtin_steps.refpix.orientation.orientation`).
    row0, col0 : int
        0-based position of the subarray on the full detector.
    odd_even_columns : bool
        Separate values for even and odd detector columns.
    siglimit : float
        Sigma-clipping limit of the reference-pixel means.

    Returns
    -------
    bool
        False when the subarray holds no usable reference pixel (unchanged).
    """
    ny, nx = data.shape[-2:]
    ref = (pixeldq & np.uint32(REFERENCE_PIXEL)) != 0
    ref &= (pixeldq & np.uint32(DO_NOT_USE)) == 0
    if not ref.any():
        return False
    if not odd_even_columns:
        idx = np.nonzero(ref)
        value = clipped_mean(data[..., idx[0], idx[1]], np.ones(idx[0].size, bool), siglimit)
        data -= np.nan_to_num(value, nan=0.0).astype(data.dtype)[..., None, None]
        return True
    # detector-column parity is constant along science rows or along science
    # columns (the orientation may transpose), so each parity is a stride-2 view
    transposed = kind in ("swap", "swap_rot180")
    if transposed:
        _, det_cols = detector_coordinates(np.arange(ny) + row0, np.full(ny, col0), kind)
    else:
        _, det_cols = detector_coordinates(np.full(nx, row0), np.arange(nx) + col0, kind)
    parity_of = det_cols % 2
    for parity in (0, 1):
        first = int(np.argmax(parity_of == parity))
        if parity_of[first] != parity:
            continue
        lines = slice(first, None, 2)
        sel = (lines, slice(None)) if transposed else (slice(None), lines)
        idx = np.nonzero(ref[sel])
        if idx[0].size == 0:
            continue
        view = data[(Ellipsis, *sel)]
        value = clipped_mean(view[..., idx[0], idx[1]], np.ones(idx[0].size, bool), siglimit)
        view -= np.nan_to_num(value, nan=0.0).astype(data.dtype)[..., None, None]
    return True


def _four_output_subarray(data, pixeldq, kind, row0, col0, options) -> bool:
    """Embed each group in a full frame and apply the full-frame correction (no SIRS)."""
    options = replace(options, sirs=None)
    ny, nx = data.shape[-2:]
    frame_dq = np.zeros((FULL_SIZE, FULL_SIZE), dtype=np.uint32)
    border = np.uint32(DO_NOT_USE | REFERENCE_PIXEL)
    frame_dq[:_BORDER, :] = border
    frame_dq[-_BORDER:, :] = border
    frame_dq[:, :_BORDER] = border
    frame_dq[:, -_BORDER:] = border
    inner = (slice(row0, row0 + ny), slice(col0, col0 + nx))
    frame_dq[inner] = pixeldq
    frame = np.zeros((1, 1, FULL_SIZE, FULL_SIZE), dtype=np.float32)
    found = False
    for i in range(data.shape[0]):
        for g in range(data.shape[1]):
            frame[...] = 0
            frame[0, 0][inner] = data[i, g]
            found |= correct_full_frame(frame, frame_dq, kind, options)
            data[i, g] = frame[0, 0][inner]
    return found
