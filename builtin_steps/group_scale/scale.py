"""Group-scale kernel: correct groups averaged with a power-of-two divisor."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["scale_factor", "scale_groups"]


def scale_factor(nframes: int | None, frame_divisor: int | None) -> float | None:
    """Return the factor that rescales groups to a true frame average.

    On board, the frames of a group are summed and divided by ``FRMDIVSR``,
    which may differ from ``NFRAMES`` (e.g. NIRSpec IRS2). The data must be
    multiplied by ``frame_divisor / nframes``.

    Parameters
    ----------
    nframes : int or None
        Frames per group (``NFRAMES``).
    frame_divisor : int or None
        Divisor used on board (``FRMDIVSR``). When unknown, the divisor is
        taken as the largest power of 2 not above ``nframes``.

    Returns
    -------
    float or None
        The factor, or None when no correction is needed (the divisor equals
        ``nframes``, or ``nframes`` is unknown).
    """
    if nframes is None or nframes < 1:
        return None
    if frame_divisor is None:
        frame_divisor = 2 ** int(math.floor(math.log2(nframes)))
    if frame_divisor == nframes:
        return None
    return float(frame_divisor) / float(nframes)


def scale_groups(data: np.ndarray, factor: float) -> None:
    """Multiply every group by ``factor``, in place.

    Parameters
    ----------
    data : numpy.ndarray
        Ramp data, any shape, floating point; modified in place.
    factor : float
        Scale factor from :func:`scale_factor`.
    """
    np.multiply(data, data.dtype.type(factor), out=data)
