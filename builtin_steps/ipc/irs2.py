"""NIRSpec IRS2 readouts: which rows of the image are normal (not interleaved reference) pixels.

An IRS2 image (science orientation) has more than 2048 rows: a reference
output of ``512 + 512 // n * r`` rows comes first, then each of the four
outputs reads ``n`` normal pixels, ``r`` reference pixels, ``n`` normal
pixels and so on, starting with ``n // 2`` normal pixels. When the normal
pixels of one output are not a whole number of ``n``-blocks, the outputs read
in alternating directions. NRS2 images are flipped along that axis.
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_irs2", "irs2_normal_mask"]

_NORMAL_SIZE = 2048
_OUTPUTS = 4


def is_irs2(shape: tuple[int, ...]) -> bool:
    """Tell whether an image of this shape holds IRS2 interleaved reference pixels.

    Parameters
    ----------
    shape : tuple of int
        ``(..., ny, nx)``.

    Returns
    -------
    bool
        True when an image axis is longer than 2048 pixels.
    """
    return max(shape[-2], shape[-1]) > _NORMAL_SIZE


def _interleaved(length: int, first: int, nrs_normal: int, nrs_reference: int) -> np.ndarray:
    """True where the pattern of one readout direction has a reference pixel."""
    offset = np.arange(length) - first - nrs_normal // 2
    return (offset >= 0) & (offset % (nrs_normal + nrs_reference) < nrs_reference)


def irs2_normal_mask(length: int, nrs_normal: int = 16, nrs_reference: int = 4) -> np.ndarray:
    """Return the mask of the normal pixels along the IRS2 axis.

    Parameters
    ----------
    length : int
        Length of the IRS2 axis (e.g. 3200).
    nrs_normal : int
        Normal pixels read between two groups of reference pixels (``NRS_NORM``).
    nrs_reference : int
        Reference pixels in each group (``NRS_REF``).

    Returns
    -------
    numpy.ndarray
        Boolean ``(length,)``: True for the normal pixels, in detector order
        (reverse it for NRS2).

    Raises
    ------
    ValueError
        If ``nrs_normal`` or ``nrs_reference`` is not positive, or the axis is
        too short for the reference output.
    """
    if nrs_normal < 1 or nrs_reference < 1:
        raise ValueError(
            f"IRS2 parameters NRS_NORM={nrs_normal} and NRS_REF={nrs_reference} must both be >= 1"
        )
    refout = 512 + 512 // nrs_normal * nrs_reference
    if length <= refout:
        raise ValueError(
            f"an IRS2 axis of {length} pixels is too short for a reference output of {refout} pixels"
        )
    per_output = (length - refout) // _OUTPUTS
    blocks = per_output // (nrs_normal + nrs_reference)
    normal_per_output = per_output - blocks * nrs_reference
    mask = np.ones(length, dtype=bool)
    mask[:refout] = False
    if normal_per_output % nrs_normal == 0:
        mask[refout:] &= ~_interleaved(length - refout, 0, nrs_normal, nrs_reference)
        return mask
    pattern = ~_interleaved(per_output, 0, nrs_normal, nrs_reference)
    for output in range(_OUTPUTS):
        start = refout + output * per_output
        mask[start : start + per_output] = pattern if output % 2 == 0 else pattern[::-1]
    return mask
