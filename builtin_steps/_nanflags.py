"""Keep NaN values and the DO_NOT_USE flag of a calibrated image consistent.

After flat fielding and photometric calibration, a pixel is unusable when any of
``data``, ``err`` or the variance arrays is NaN, or its DQ has ``DO_NOT_USE``:
such a pixel gets ``DO_NOT_USE`` and NaN in every one of those arrays, as in the
JWST pipeline's products.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["VALUE_ARRAYS", "match_nans_and_flags"]

#: The arrays whose NaN values mark a pixel unusable.
VALUE_ARRAYS = ("data", "err", "var_rnoise", "var_poisson", "var_flat")


def match_nans_and_flags(model: Any, do_not_use: int) -> None:
    """Flag NaN pixels ``DO_NOT_USE`` and set flagged pixels to NaN, in place.

    Parameters
    ----------
    model : ImageModel or CubeModel
        The model; arrays that are None or of another shape than ``data`` are
        left alone.
    do_not_use : int
        The DO_NOT_USE bit value.
    """
    shape = model.data.shape
    arrays = [getattr(model, name) for name in VALUE_ARRAYS]
    arrays = [a for a in arrays if a is not None and a.shape == shape]
    invalid = np.zeros(shape, bool)
    for array in arrays:
        invalid |= np.isnan(array)
    dq = model.dq
    if dq is not None and dq.shape[-2:] == shape[-2:]:
        flagged = (dq & do_not_use).astype(bool)
        invalid |= np.broadcast_to(flagged, shape) if flagged.shape != shape else flagged
        if dq.shape == shape:
            dq[invalid] |= np.uint32(do_not_use)
    for array in arrays:
        array[invalid] = np.nan
