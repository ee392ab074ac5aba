"""Apply the IRS2 correction to a whole ramp (science orientation in and out)."""

from __future__ import annotations

import numpy as np

from builtin_steps._common import DO_NOT_USE
from builtin_steps.refpix.irs2 import hermitian_half, subtract_reference
from builtin_steps.refpix.irs2_badref import (
    find_bad_pairs,
    interleaved_mask,
    replace_bad_columns,
    table_bad_columns,
)
from builtin_steps.refpix.irs2_layout import NSECTIONS, Irs2Layout, irs2_normal_mask
from builtin_steps.refpix.orientation import to_detector
from builtin_steps.refpix.stats import clipped_mean

__all__ = [
    "weights_from_table",
    "detector_columns",
    "flag_bad_reference",
    "replace_flagged_reference",
    "subtract_mean_offsets",
    "correct_irs2",
    "usable_pixels",
]

_BORDER = 4


def weights_from_table(table: np.ndarray, *, hermitian: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return ``alpha`` and ``beta`` (``(4, n)`` complex) from a REFPIX IRS2 table.

    Parameters
    ----------
    table : numpy.ndarray
        Structured array with columns ``ALPHA_0``..``ALPHA_3``, ``BETA_0``..``BETA_3``
        (any case) of ``2 n`` floats, real and imaginary parts alternating.
    hermitian : bool
        Return their :func:`~builtin_steps.refpix.irs2.hermitian_half` instead,
        ``(4, n // 2 + 1)`` (one amplifier at a time: the full weights are
        never all in memory).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
    """
    names = {name.lower(): name for name in table.dtype.names}

    def column(name: str) -> np.ndarray:
        # real and imaginary parts alternate: the memory layout of complex128
        weights = np.ascontiguousarray(table[names[name]], dtype=np.float64).view(np.complex128)
        return hermitian_half(weights) if hermitian else weights

    alpha = np.stack([column(f"alpha_{k}") for k in range(4)])
    beta = np.stack([column(f"beta_{k}") for k in range(4)])
    return alpha, beta


def detector_columns(image_shape: tuple[int, int], kind: str) -> tuple[int, np.ndarray]:
    """Find the IRS2 axis of a science-frame image and its detector column numbers.

    Parameters
    ----------
    image_shape : tuple of int
        ``(ny, nx)`` of the science-frame image.
    kind : str
        Orientation (see :func:`builtin_steps.refpix.orientation.orientation`).

    Returns
    -------
    (int, numpy.ndarray)
        The axis (-2 or -1) along which the detector columns run, and the
        detector column of each index along it.
    """
    probe = np.zeros(image_shape, dtype=np.int64)
    det = to_detector(probe, kind)
    det[...] = np.arange(det.shape[-1])[None, :]
    if (probe[0, :] == probe[0, 0]).all() and image_shape[0] > 1:
        return -2, probe[:, 0].copy()
    return -1, probe[0, :].copy()


def flag_bad_reference(
    det: np.ndarray, bad_columns: np.ndarray, layout: Irs2Layout, n_sigma: float
) -> np.ndarray:
    """Find intermittently bad interleaved reference pairs (detector frame).

    Parameters
    ----------
    det : numpy.ndarray
        ``(nints, ngroups, ny, 3200)`` detector-frame view of the ramp.
    bad_columns : numpy.ndarray
        ``(3200,)`` columns already flagged BAD_REF_PIXEL.
    layout : Irs2Layout
        Readout geometry.
    n_sigma : float
        Threshold (``ovr_corr_mitigation_ftr``).

    Returns
    -------
    numpy.ndarray
        ``(3200,)`` boolean: all bad columns.
    """
    return find_bad_pairs(det, bad_columns, scipix_n=layout.scipix_n, refpix_r=layout.refpix_r, n_sigma=n_sigma)


def replace_flagged_reference(det: np.ndarray, bad_columns: np.ndarray, layout: Irs2Layout) -> int:
    """Replace the flagged interleaved reference columns in place; return how many.

    Parameters
    ----------
    det : numpy.ndarray
        ``(nints, ngroups, ny, 3200)`` detector-frame view of the ramp.
    bad_columns : numpy.ndarray
        ``(3200,)`` boolean flags (only interleaved reference columns are replaced).
    layout : Irs2Layout
        Readout geometry.

    Returns
    -------
    int
    """
    is_ref = interleaved_mask(det.shape[-1], layout.scipix_n, layout.refpix_r)
    targets = np.nonzero(bad_columns & is_ref)[0]
    replace_bad_columns(det, bad_columns, targets, is_ref, scipix_n=layout.scipix_n, refpix_r=layout.refpix_r)
    return int(targets.size)


def subtract_mean_offsets(det: np.ndarray, usable: np.ndarray, *, odd_even_columns: bool, siglimit: float) -> bool:
    """Subtract each amplifier's top/bottom reference-row offset, in place.

    For each of the four amplifier sections (640 columns), the sigma-clipped
    means of the usable pixels of the 4 bottom and the 4 top rows (even and
    odd detector columns apart with ``odd_even_columns``) are averaged and
    subtracted from the section's columns, group by group.

    Parameters
    ----------
    det : numpy.ndarray
        ``(nints, ngroups, ny, 3200)`` detector-frame view of the ramp.
    usable : numpy.ndarray
        ``(ny, 3200)`` boolean: pixels without DO_NOT_USE.
    odd_even_columns : bool
        Separate offsets for even and odd columns.
    siglimit : float
        Sigma-clipping limit.

    Returns
    -------
    bool
        True when at least one offset was found.
    """
    section = det.shape[-1] // NSECTIONS
    npar = 2 if odd_even_columns else 1
    ny = det.shape[-2]
    found = False
    for k in range(1, NSECTIONS):
        cols = slice(k * section, (k + 1) * section)
        means = []
        for rows in (slice(0, _BORDER), slice(ny - _BORDER, ny)):
            block = det[..., rows, cols]
            lead = block.shape[:-2]
            values = block.reshape(lead + (_BORDER, section // npar, npar))
            values = np.moveaxis(values, -1, -3).reshape(lead + (npar, -1))
            valid = usable[rows, cols].reshape(_BORDER, section // npar, npar)
            valid = np.moveaxis(valid, -1, 0).reshape(npar, -1)
            means.append(clipped_mean(values, valid, siglimit))
        a, b = means
        offset = np.where(np.isnan(a), b, np.where(np.isnan(b), a, 0.5 * (a + b)))
        found |= bool(np.isfinite(offset).any())
        offset = np.nan_to_num(offset, nan=0.0).astype(det.dtype)
        for p in range(npar):
            det[..., :, k * section + p : (k + 1) * section : npar] -= offset[..., p, None, None]
    return found


def correct_irs2(
    det: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    layout: Irs2Layout,
    *,
    bad_columns: np.ndarray,
    dq_table: np.ndarray | None = None,
    preserve_refpix: bool = False,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run the IRS2 correction on every integration (detector frame).

    Parameters
    ----------
    det : numpy.ndarray
        ``(nints, ngroups, ny, 3200)`` detector-frame view of the ramp; the
        reference columns listed in ``dq_table`` are replaced in it.
    alpha, beta : numpy.ndarray
        ``(4, ny * row)`` complex weights, or their Hermitian halves
        ``(4, ny * row // 2 + 1)`` (:func:`weights_from_table` with ``hermitian=True``).
    layout : Irs2Layout
        Readout geometry.
    bad_columns : numpy.ndarray
        ``(3200,)`` columns flagged BAD_REF_PIXEL so far.
    dq_table : numpy.ndarray, optional
        The REFPIX file's DQ table (``OUTPUT``, ``ODD_EVEN``, ``MASK``).
    preserve_refpix : bool
        Keep the interleaved reference values and the reference output.
    out : numpy.ndarray, optional
        Array (any strides, e.g. a detector-frame view of a science-frame
        array) to write the corrected ramp into.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The corrected detector-frame ramp ``(nints, ngroups, ny, 2048)`` (or
        3200 wide; ``out`` when given) and the ``(3200,)`` mask of the columns kept.
    """
    width = det.shape[-1]
    if dq_table is not None and len(dq_table):
        names = {name.lower(): name for name in dq_table.dtype.names}
        listed = table_bad_columns(
            dq_table[names["output"]], dq_table[names["odd_even"]], dq_table[names["mask"]],
            width=width, scipix_n=layout.scipix_n, refpix_r=layout.refpix_r,
        )
        new = np.zeros(width, dtype=bool)
        new[listed] = True
        new &= ~bad_columns
        bad = bad_columns | new
        is_ref = interleaved_mask(width, layout.scipix_n, layout.refpix_r)
        replace_bad_columns(det, bad, np.nonzero(new)[0], is_ref, scipix_n=layout.scipix_n, refpix_r=layout.refpix_r)
    keep = np.ones(width, dtype=bool) if preserve_refpix else irs2_normal_mask(width, layout.scipix_n, layout.refpix_r)
    if out is None:
        out = np.empty(det.shape[:-1] + (int(keep.sum()),), dtype=np.float32)
    if alpha.shape[-1] == det.shape[-2] * layout.row:
        alpha, beta = hermitian_half(alpha), hermitian_half(beta)
    for i in range(det.shape[0]):
        subtract_reference(det[i], alpha, beta, layout, preserve_refpix=preserve_refpix, out=out[i])
    return out, keep


def usable_pixels(pixeldq: np.ndarray) -> np.ndarray:
    """Boolean mask of the pixels without DO_NOT_USE.

    Parameters
    ----------
    pixeldq : numpy.ndarray
        Pixel DQ.

    Returns
    -------
    numpy.ndarray
    """
    return (pixeldq & np.uint32(DO_NOT_USE)) == 0
