"""Average background exposures into one background image, with sigma clipping.

Each background is placed on the target's pixels by their detector windows
(``SUBSTRT``/``SUBSIZE``; pixels the background does not cover are NaN), a
per-integration cube is first collapsed by a sigma-clipped mean over its
integrations, then the stack of backgrounds is sigma clipped pixel by pixel
(centre: median, spread: standard deviation, ``sigma`` on both sides, until no
value changes or ``maxiters`` passes) and averaged. The error is the square
root of the summed variances of the kept values over their number; the DQ is the
OR of the backgrounds' DQ. Pure numpy.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Window", "sigma_clip_mask", "clipped_mean", "place", "average_background"]


@dataclass(frozen=True)
class Window:
    """A detector window: first column and row (0-based, full frame) and size."""

    x0: int
    y0: int
    nx: int
    ny: int

    def overlaps(self, other: Window) -> bool:
        """Tell whether two windows share pixels.

        Parameters
        ----------
        other : Window

        Returns
        -------
        bool
        """
        return not (
            self.x0 + self.nx <= other.x0
            or other.x0 + other.nx <= self.x0
            or self.y0 + self.ny <= other.y0
            or other.y0 + other.ny <= self.y0
        )


def sigma_clip_mask(stack: np.ndarray, sigma: float, maxiters: int | None) -> np.ndarray:
    """Return the mask of the values a sigma clip along the first axis rejects.

    Parameters
    ----------
    stack : numpy.ndarray
        Values, the clipped axis first; NaN and inf are always rejected.
    sigma : float
        Rejection threshold in standard deviations (both sides).
    maxiters : int or None
        Largest number of passes; None: until nothing changes.

    Returns
    -------
    numpy.ndarray
        Boolean, True for rejected values.
    """
    mask = ~np.isfinite(stack)
    passes = 0
    while maxiters is None or passes < maxiters:
        passes += 1
        kept = np.where(mask, np.nan, stack)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            centre = np.nanmedian(kept, axis=0)
            spread = np.nanstd(kept, axis=0)
        with np.errstate(invalid="ignore"):
            new = mask | (np.abs(stack - centre) > sigma * spread)
        if np.array_equal(new, mask):
            break
        mask = new
    return mask


def clipped_mean(stack: np.ndarray, sigma: float, maxiters: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Return the sigma-clipped mean along the first axis and the rejection mask.

    Parameters
    ----------
    stack : numpy.ndarray
        Values, the averaged axis first.
    sigma, maxiters
        See :func:`sigma_clip_mask`.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The mean (NaN where every value is rejected) and the mask.
    """
    mask = sigma_clip_mask(stack, sigma, maxiters)
    kept = np.where(mask, 0.0, stack)
    count = (~mask).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = kept.sum(axis=0) / count
    return np.where(count > 0, mean, np.nan), mask


def place(array: np.ndarray, source: Window, target: Window, fill: float | int) -> np.ndarray:
    """Return ``array`` (on ``source``'s pixels) on ``target``'s pixels, ``fill`` elsewhere.

    Parameters
    ----------
    array : numpy.ndarray
        2-D or 3-D (the last two axes are the window's rows and columns).
    source, target : Window
        Where the array lies and where it is wanted.
    fill : float or int
        Value of the target pixels the source does not cover.

    Returns
    -------
    numpy.ndarray
    """
    out = np.full((*array.shape[:-2], target.ny, target.nx), fill, dtype=array.dtype)
    x0, x1 = max(source.x0, target.x0), min(source.x0 + source.nx, target.x0 + target.nx)
    y0, y1 = max(source.y0, target.y0), min(source.y0 + source.ny, target.y0 + target.ny)
    if x1 <= x0 or y1 <= y0:
        return out
    out[..., y0 - target.y0 : y1 - target.y0, x0 - target.x0 : x1 - target.x0] = array[
        ..., y0 - source.y0 : y1 - source.y0, x0 - source.x0 : x1 - source.x0
    ]
    return out


def average_background(
    target: Window,
    backgrounds: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, Window]],
    sigma: float,
    maxiters: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average background exposures on the target's pixels.

    Parameters
    ----------
    target : Window
        The target exposure's window.
    backgrounds : sequence of (data, err, dq, Window)
        Each background's arrays (2-D, or 3-D per integration) and window.
    sigma, maxiters
        See :func:`sigma_clip_mask`.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Background (float32), its error (float32) and DQ (uint32), on the
        target's ``(ny, nx)`` pixels.
    """
    shape = (target.ny, target.nx)
    values = np.full((len(backgrounds), *shape), np.nan)
    variances = np.full((len(backgrounds), *shape), np.nan)
    dq = np.zeros(shape, np.uint32)
    for index, (data, err, flags, window) in enumerate(backgrounds):
        if not window.overlaps(target):
            continue
        data = place(np.asarray(data, np.float64), window, target, np.nan)
        var = place(np.asarray(err, np.float64) ** 2, window, target, np.nan)
        flags = place(np.asarray(flags, np.uint32), window, target, 0)
        if data.ndim == 3:
            data, _ = clipped_mean(data, sigma, maxiters)
            var, _ = clipped_mean(var, sigma, maxiters)
            flags = np.bitwise_or.reduce(flags, axis=0)
        values[index], variances[index] = data, var
        dq |= flags
    mean, mask = clipped_mean(values, sigma, maxiters)
    kept_var = np.where(mask, 0.0, variances)
    count = (~mask).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.sqrt(np.nansum(kept_var, axis=0)) / count
    err = np.where(count > 0, err, np.nan)
    return mean.astype(np.float32), err.astype(np.float32), dq
