"""DQ-initialisation kernel: combine the bad-pixel mask with the ramp's DQ."""

from __future__ import annotations

import numpy as np

from builtin_steps._common import DO_NOT_USE

__all__ = ["apply_mask"]


def apply_mask(
    pixeldq: np.ndarray,
    groupdq: np.ndarray,
    mask: np.ndarray,
    *,
    user_dq: np.ndarray | None = None,
    do_not_use: int = DO_NOT_USE,
) -> None:
    """OR the mask into PIXELDQ and its DO_NOT_USE bit into every group, in place.

    Parameters
    ----------
    pixeldq : numpy.ndarray
        ``(ny, nx)`` uint32 pixel DQ; modified in place.
    groupdq : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` uint8 group DQ; modified in place, so that
        pixels the mask marks DO_NOT_USE are not fitted.
    mask : numpy.ndarray
        ``(ny, nx)`` mask DQ (already cut to the science window).
    user_dq : numpy.ndarray, optional
        Extra ``(ny, nx)`` flags supplied by the user, ORed in as well.
    do_not_use : int
        Value of the DO_NOT_USE bit.
    """
    flags = mask.astype(pixeldq.dtype, copy=True)
    if user_dq is not None:
        flags |= user_dq.astype(pixeldq.dtype, copy=False)
    np.bitwise_or(pixeldq, flags, out=pixeldq)
    dnu = (flags & do_not_use).astype(groupdq.dtype)
    if dnu.any():
        np.bitwise_or(groupdq, dnu, out=groupdq)
