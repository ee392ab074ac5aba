"""Gain-scale kernel: multiply rates by the gain factor of the reference file."""

from __future__ import annotations

import numpy as np

__all__ = ["apply_gain_factor"]


def apply_gain_factor(
    factor: float,
    data: np.ndarray,
    err: np.ndarray | None = None,
    var_poisson: np.ndarray | None = None,
    var_rnoise: np.ndarray | None = None,
) -> None:
    """Scale a rate product by ``factor``, in place.

    ``data`` and ``err`` scale with the factor, the variances with its square.

    Parameters
    ----------
    factor : float
        Gain factor (``GAINFACT`` of the gain reference file).
    data : numpy.ndarray
        Rates; modified in place.
    err, var_poisson, var_rnoise : numpy.ndarray, optional
        Uncertainty arrays; modified in place when given.
    """
    np.multiply(data, data.dtype.type(factor), out=data)
    if err is not None:
        np.multiply(err, err.dtype.type(factor), out=err)
    for var in (var_poisson, var_rnoise):
        if var is not None:
            np.multiply(var, var.dtype.type(factor * factor), out=var)
