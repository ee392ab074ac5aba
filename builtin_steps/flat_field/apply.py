"""Divide science arrays by a flat field, with its data quality and uncertainty.

The JWST rules for imaging flats: a flat pixel that is NaN or zero gets
``NO_FLAT_FIELD`` and ``DO_NOT_USE``; a pixel flagged ``NO_FLAT_FIELD`` gets
``DO_NOT_USE``; every ``DO_NOT_USE`` flat pixel is treated as 1 (no correction).
Then ``data /= flat``, the Poisson and read-noise variances are divided by
``flat**2``, the flat's own variance is ``VAR_FLAT = (data * flat_err / flat)**2``
(with the corrected data), ``err`` is the square root of the three variances, and
the flat's DQ is ORed into the science DQ. ``inverse`` multiplies instead (and
sets ``VAR_FLAT`` to zero). Pure numpy; the DQ bits are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FlatResult", "prepare_flat", "apply_flat"]


@dataclass
class FlatResult:
    """The arrays a flat-field correction produces.

    Attributes
    ----------
    data, err, var_poisson, var_rnoise, var_flat : numpy.ndarray
        Float32, the shape of the science data.
    dq : numpy.ndarray
        Uint32 science DQ with the flat's DQ ORed in.
    """

    data: np.ndarray
    err: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    var_flat: np.ndarray
    dq: np.ndarray


def prepare_flat(
    flat: np.ndarray, flat_dq: np.ndarray, *, do_not_use: int, no_flat_field: int
) -> tuple[np.ndarray, np.ndarray]:
    """Flag the unusable pixels of a flat and neutralise them.

    Parameters
    ----------
    flat : numpy.ndarray
        The flat (2-D).
    flat_dq : numpy.ndarray
        Its DQ.
    do_not_use, no_flat_field : int
        The DQ bit values.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        A float32 copy of the flat with 1 on ``DO_NOT_USE`` pixels, and the
        completed DQ (uint32 copy).
    """
    values = np.array(flat, dtype=np.float32, copy=True)
    dq = np.array(flat_dq, dtype=np.uint32, copy=True)
    unusable = np.isnan(values) | (values == 0)
    dq[unusable] |= np.uint32(do_not_use | no_flat_field)
    dq[(dq & np.uint32(no_flat_field)) != 0] |= np.uint32(do_not_use)
    values[(dq & np.uint32(do_not_use)) != 0] = 1.0
    return values, dq


def apply_flat(
    data: np.ndarray,
    dq: np.ndarray,
    var_poisson: np.ndarray | None,
    var_rnoise: np.ndarray | None,
    flat: np.ndarray,
    flat_dq: np.ndarray,
    flat_err: np.ndarray,
    *,
    do_not_use: int,
    no_flat_field: int,
    inverse: bool = False,
) -> FlatResult:
    """Flat-field science arrays (2-D, or 3-D with the flat broadcast over the first axis).

    Parameters
    ----------
    data, dq : numpy.ndarray
        Science data and DQ.
    var_poisson, var_rnoise : numpy.ndarray or None
        Variances (None: zeros).
    flat, flat_dq, flat_err : numpy.ndarray
        The flat, its DQ and its uncertainty, cut to the science pixels.
    do_not_use, no_flat_field : int
        The DQ bit values.
    inverse : bool
        Multiply by the flat instead (undo a correction).

    Returns
    -------
    FlatResult
        New arrays; the inputs are not modified.
    """
    values, fdq = prepare_flat(flat, flat_dq, do_not_use=do_not_use, no_flat_field=no_flat_field)
    squared = values * values
    zeros = np.zeros(data.shape, np.float32)
    vp = zeros if var_poisson is None else np.asarray(var_poisson, np.float32)
    vr = zeros if var_rnoise is None else np.asarray(var_rnoise, np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        if not inverse:
            out = (data / values).astype(np.float32)
            var_flat = (out * out / squared * np.asarray(flat_err, np.float32) ** 2).astype(np.float32)
            vp = (vp / squared).astype(np.float32)
            vr = (vr / squared).astype(np.float32)
            err = np.sqrt(vp + vr + var_flat).astype(np.float32)
        else:
            out = (data * values).astype(np.float32)
            var_flat = np.zeros(data.shape, np.float32)
            vp = (vp * squared).astype(np.float32)
            vr = (vr * squared).astype(np.float32)
            err = np.sqrt(vp + vr).astype(np.float32)
    new_dq = (np.asarray(dq, np.uint32) | fdq).astype(np.uint32)
    return FlatResult(out, err, vp, vr, var_flat, new_dq)
