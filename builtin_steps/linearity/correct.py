"""Linearity kernel: polynomial correction of every unsaturated group."""

from __future__ import annotations

import numpy as np

from builtin_steps._common import NO_LIN_CORR, SATURATED

__all__ = ["prepare_coefficients", "apply_linearity"]


def prepare_coefficients(
    coeffs: np.ndarray,
    coeffs_dq: np.ndarray | None = None,
    *,
    no_lin_corr: int = NO_LIN_CORR,
    copy: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Make the coefficients safe to apply and return the DQ to OR into PIXELDQ.

    Pixels whose coefficients contain NaN, whose linear term is 0, or that the
    reference flags NO_LIN_CORR get the identity polynomial (the data pass
    unchanged) and the NO_LIN_CORR flag.

    Parameters
    ----------
    coeffs : numpy.ndarray
        ``(ncoeffs, ny, nx)`` polynomial coefficients, constant term first.
    coeffs_dq : numpy.ndarray, optional
        ``(ny, nx)`` DQ of the linearity reference.
    no_lin_corr : int
        Value of the NO_LIN_CORR bit.
    copy : bool
        If False, the inputs are updated in place when they already are
        float32 / uint32 (no full-frame copies; for arrays the caller owns).

    Returns
    -------
    coeffs : numpy.ndarray
        float32 coefficients, identity where not applicable.
    dq : numpy.ndarray
        uint32 reference DQ with NO_LIN_CORR where the correction is not applied.
    """
    c = np.array(coeffs, dtype=np.float32, copy=copy)
    if c.ndim != 3 or c.shape[0] < 2:
        raise ValueError(f"linearity coefficients must be (ncoeffs >= 2, ny, nx), got shape {c.shape}")
    dq = (
        np.zeros(c.shape[1:], dtype=np.uint32)
        if coeffs_dq is None
        else np.array(coeffs_dq, dtype=np.uint32, copy=copy)
    )
    bad = c[1] == 0
    for plane in c:
        bad |= np.isnan(plane)
    dq[bad] |= np.uint32(no_lin_corr)
    bad |= (dq & np.uint32(no_lin_corr)) != 0
    if bad.any():
        c[:, bad] = 0.0
        c[1, bad] = 1.0
    return c, dq


def apply_linearity(
    data: np.ndarray,
    groupdq: np.ndarray,
    coeffs: np.ndarray,
    *,
    zeroframe: np.ndarray | None = None,
    saturated: int = SATURATED,
) -> None:
    """Replace each unsaturated group ``x`` by ``sum_k c_k x**k``, in place.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` float32 ramp; modified in place.
    groupdq : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` group DQ; SATURATED groups are left as is.
    coeffs : numpy.ndarray
        ``(ncoeffs, ny, nx)`` coefficients from :func:`prepare_coefficients`.
    zeroframe : numpy.ndarray, optional
        ``(nints, ny, nx)``; its non-zero values are corrected too.
    saturated : int
        Value of the SATURATED bit.
    """
    nints, ngroups = data.shape[:2]
    work = np.empty(data.shape[-2:], dtype=data.dtype)
    for i in range(nints):
        for g in range(ngroups):
            plane = data[i, g]
            _horner(plane, coeffs, work)
            keep = (groupdq[i, g] & groupdq.dtype.type(saturated)) == 0
            np.copyto(plane, work, where=keep)
        if zeroframe is not None:
            plane = zeroframe[i]
            _horner(plane, coeffs, work)
            np.copyto(plane, work, where=plane != 0)


def _horner(x: np.ndarray, coeffs: np.ndarray, out: np.ndarray) -> None:
    """Evaluate the polynomial at ``x`` into ``out`` (constant term first)."""
    np.multiply(coeffs[-1], x, out=out)
    for c in coeffs[-2:0:-1]:
        out += c
        out *= x
    out += coeffs[0]
