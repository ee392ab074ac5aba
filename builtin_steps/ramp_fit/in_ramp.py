"""The rate products in the memory of the ramp they are fitted from.

When the fit is the ramp's last use (``calwebb_detector1`` returns only the
rates), the products can live in the ramp's own planes: the fit takes the ramp
in bands of rows, and once a band is fitted the ramp's rows of that band are
never read again, so the band's results are copied over them (every product
plane over its own ramp plane, the same rows). No new memory is touched for the
products, and the ramp's memory is not given back only to be asked for again.
The ``5 * (1 + nints)`` product images (rate: 5 images; per integration: 5
cubes of ``nints`` images) fit in the ``nints * ngroups`` planes of the ramp
from 10 groups for one integration, 8 for two, 7 for three, ...; the products
of a smaller ramp are allocated as usual.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.ramp_fit.ols import output_layout

__all__ = ["products_in_ramp"]


def products_in_ramp(data: np.ndarray) -> dict[str, np.ndarray] | None:
    """The outputs of :func:`~builtin_steps.ramp_fit.ols.fit_ramps` as views of `data`'s planes.

    Parameters
    ----------
    data : ndarray, shape (nints, ngroups, ny, nx)
        The ramp, C-contiguous float32. It must not be read again after the
        fit: the products overwrite it, band by band, as they are written.

    Returns
    -------
    dict of str to ndarray or None
        The arrays :func:`~builtin_steps.ramp_fit.ols.allocate_outputs` would
        make, each over consecutive planes of `data`; None when `data` is not
        a C-contiguous array of 4-byte values or has fewer planes than the
        products need.
    """
    if data.ndim != 4 or not data.flags.c_contiguous or data.itemsize != 4:
        return None
    nints, ngroups, ny, nx = data.shape
    layout = output_layout()
    if sum(nints if per_integration else 1 for _, per_integration, _ in layout) > nints * ngroups:
        return None
    stack = data.reshape(nints * ngroups, ny, nx)
    products = {}
    first = 0
    for name, per_integration, dtype in layout:
        planes = nints if per_integration else 1
        view = stack[first : first + planes].view(dtype)
        products[name] = view if per_integration else view[0]
        first += planes
    return products
