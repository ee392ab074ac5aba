"""Superbias kernel: subtract the bias image and propagate its DQ."""

from __future__ import annotations

import numpy as np

__all__ = ["subtract_superbias"]


def subtract_superbias(
    data: np.ndarray,
    pixeldq: np.ndarray,
    bias: np.ndarray,
    bias_dq: np.ndarray | None = None,
    *,
    zeroframe: np.ndarray | None = None,
) -> None:
    """Subtract ``bias`` from every group (and the zero frame), in place.

    NaN bias values are treated as 0 (nothing subtracted), as in JWST.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` ramp; modified in place.
    pixeldq : numpy.ndarray
        ``(ny, nx)`` pixel DQ; the bias DQ is ORed in place.
    bias : numpy.ndarray
        ``(ny, nx)`` superbias.
    bias_dq : numpy.ndarray, optional
        ``(ny, nx)`` DQ of the superbias.
    zeroframe : numpy.ndarray, optional
        ``(nints, ny, nx)`` zero frame; non-zero values get the bias removed.
    """
    bias = bias.astype(data.dtype, copy=False)
    if np.isnan(bias).any():
        bias = np.nan_to_num(bias, nan=0.0, copy=True)
    np.subtract(data, bias, out=data)
    if bias_dq is not None:
        np.bitwise_or(pixeldq, bias_dq.astype(pixeldq.dtype, copy=False), out=pixeldq)
    if zeroframe is not None:
        np.subtract(zeroframe, bias.astype(zeroframe.dtype, copy=False), out=zeroframe, where=zeroframe != 0)
