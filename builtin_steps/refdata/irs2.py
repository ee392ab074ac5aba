"""NIRSpec IRS2 images of the synthetic detector: the 2048 rows spread over 3200.

In the IRS2 readout each detector row (a science-orientation column of NIRSpec)
holds 3200 values: the reference output and, between groups of normal pixels,
interleaved reference pixels. The mask and superbias of an IRS2 readout, and
the demo's raw IRS2 ramps, carry values at those positions too.
:func:`normal_rows` finds, for a detector, which of the 3200 science rows are
normal pixels; :func:`expand` places a 2048-row image on them.
"""

from __future__ import annotations

import numpy as np

from builtin_steps.refpix.irs2_apply import detector_columns
from builtin_steps.refpix.irs2_layout import IRS2_WIDTH, irs2_normal_mask
from builtin_steps.refpix.orientation import orientation

__all__ = ["IRS2_SHAPE", "NRS_NORMAL", "NRS_REFERENCE", "normal_rows", "expand"]

#: Science-orientation shape of an IRS2 full frame (rows, columns).
IRS2_SHAPE = (IRS2_WIDTH, 2048)

#: Normal and reference samples per IRS2 block (``NRS_NORM``, ``NRS_REF``).
NRS_NORMAL = 16
NRS_REFERENCE = 4


def normal_rows(detector: str) -> np.ndarray:
    """Boolean mask of the 3200 science rows that hold normal (image) pixels.

    Parameters
    ----------
    detector : str
        ``"NRS1"`` or ``"NRS2"``.

    Returns
    -------
    numpy.ndarray
        ``(3200,)`` boolean, 2048 True values.
    """
    axis, columns = detector_columns(IRS2_SHAPE, orientation(detector))
    if axis != -2:  # pragma: no cover - NIRSpec detectors read along science rows
        raise ValueError(f"detector {detector!r} has no IRS2 axis along the science rows")
    return irs2_normal_mask(IRS2_WIDTH, NRS_NORMAL, NRS_REFERENCE)[columns]


def expand(image: np.ndarray, detector: str, fill: np.ndarray | float) -> np.ndarray:
    """Place a ``(..., 2048, 2048)`` image on the normal rows of an IRS2 frame.

    Parameters
    ----------
    image : numpy.ndarray
        The normal pixels, science orientation.
    detector : str
        ``"NRS1"`` or ``"NRS2"``.
    fill : numpy.ndarray or float
        Values of the reference rows: a scalar, or an array of shape
        ``(..., 1152, 2048)`` (the reference rows in order).

    Returns
    -------
    numpy.ndarray
        ``(..., 3200, 2048)``, the dtype of ``image``.
    """
    rows = normal_rows(detector)
    out = np.empty(image.shape[:-2] + IRS2_SHAPE, dtype=image.dtype)
    out[..., rows, :] = image
    out[..., ~rows, :] = fill
    return out
