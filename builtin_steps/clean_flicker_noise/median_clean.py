"""1/f noise as stripes: masked medians along the detector's fast-read direction."""

from __future__ import annotations

import numpy as np

__all__ = ["median_clean", "NIR_FULL_SIZE", "NIR_CHANNELS"]

#: Size of a full-frame near-infrared detector along either axis.
NIR_FULL_SIZE = 2048
#: Output channels (amplifiers) of a full-frame near-infrared detector.
NIR_CHANNELS = 4


def median_clean(
    image: np.ndarray, mask: np.ndarray, axis_to_correct: int, *, fit_by_channel: bool = False
) -> np.ndarray:
    """Remove the median stripe of the background pixels along one axis.

    Parameters
    ----------
    image : numpy.ndarray
        2-D image (background already subtracted).
    mask : numpy.ndarray of bool
        True for background pixels used in the medians.
    axis_to_correct : {1, 2}
        The detector slow axis in the JWST convention (``abs(SLOWAXIS)``; 1 for
        MIRI): the median is taken along array axis ``axis_to_correct - 1``,
        giving one stripe value per line of the other axis. Lines without any
        background pixel get 0.
    fit_by_channel : bool
        Take the medians separately over each of the four 512-pixel channels
        along the median axis (only when that axis is 2048 pixels long).

    Returns
    -------
    numpy.ndarray
        The cleaned image (a new array).
    """
    axis = int(axis_to_correct) - 1
    if axis not in (0, 1):
        raise ValueError(f"axis_to_correct must be 1 or 2, got {axis_to_correct}")
    length = image.shape[axis]
    nchan = NIR_CHANNELS if fit_by_channel and length == NIR_FULL_SIZE else 1
    size = length // nchan
    work = np.moveaxis(image, axis, -1)
    wmask = np.moveaxis(mask, axis, -1)
    lines = work.shape[0]
    values = np.where(wmask, work, np.nan).reshape(lines, nchan, size)
    good = wmask.reshape(lines, nchan, size).any(axis=-1)
    stripes = np.zeros((lines, nchan), dtype=np.float64)
    if good.any():
        stripes[good] = np.nanmedian(values[good], axis=-1)
    cleaned = work - np.repeat(stripes, size, axis=-1).astype(work.dtype)
    return np.ascontiguousarray(np.moveaxis(cleaned, -1, axis))
