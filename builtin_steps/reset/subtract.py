"""Reset kernel: subtract the per-integration, per-group reset anomaly."""

from __future__ import annotations

import numpy as np

__all__ = ["subtract_reset"]


def subtract_reset(
    data: np.ndarray,
    reset: np.ndarray,
    *,
    ngroups: int,
    nints: int,
    first_integration: int = 0,
) -> None:
    """Subtract the reset anomaly from the first ``ngroups`` groups, in place.

    Integration ``i`` of the exposure gets plane ``min(i, nints - 1)`` of the
    reference: integrations past the last one the reference covers reuse its
    last integration. NaN reference values subtract nothing.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints_data, ngroups_data, ny, nx)`` ramp; modified in place.
    reset : numpy.ndarray
        ``(nints_ref, ngroups_ref, ny, nx)`` reset correction.
    ngroups : int
        Groups to correct in each integration (at most the groups of ``data``
        and ``reset``).
    nints : int
        Integrations the reference covers (at least 1, at most ``nints_ref``).
    first_integration : int
        Exposure integration (0-based) of ``data[0]``; non-zero for a segment
        of a longer exposure.
    """
    ngroups = min(ngroups, data.shape[1], reset.shape[1])
    nints = max(1, min(nints, reset.shape[0]))
    if ngroups <= 0:
        return
    for local in range(data.shape[0]):
        plane = reset[min(first_integration + local, nints - 1), :ngroups]
        plane = np.nan_to_num(plane.astype(data.dtype, copy=False), nan=0.0)
        data[local, :ngroups] -= plane
