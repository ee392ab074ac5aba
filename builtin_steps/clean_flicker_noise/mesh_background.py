"""A smooth 2-D background from sigma-clipped box medians (a mesh model).

The image is divided into boxes. Each box with at most 10 % of its pixels
masked gets the median of its 3-sigma clipped (5 iterations) background
values; the other boxes are filled by inverse-distance weighting of the 10
nearest good boxes. The box grid is median filtered (5 x 5, edges padded with
missing values) and interpolated to the pixel grid with a cubic spline
(``scipy.ndimage.zoom``, ``grid_mode=True``, ``mode='reflect'``).

This follows the recipe of ``photutils.background.Background2D`` with a
``MedianBackground`` estimator, built from numpy, scipy and astropy.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["mesh_background", "MeshBackgroundError", "EXCLUDE_PERCENTILE", "FILTER_SIZE"]

#: Boxes with more than this percentage of masked pixels are not measured.
EXCLUDE_PERCENTILE = 10.0
#: Size of the median filter applied to the box grid.
FILTER_SIZE = (5, 5)
_NEIGHBORS = 10


class MeshBackgroundError(ValueError):
    """No box of the image has enough background pixels for a mesh model."""


def _boxes(array: np.ndarray, box: tuple[int, int], fill: float | bool) -> np.ndarray:
    """Pad ``array`` to whole boxes and return a ``(nby, nbx, by * bx)`` view."""
    by, bx = box
    ny, nx = array.shape
    pad = ((0, -ny % by), (0, -nx % bx))
    padded = np.pad(array, pad, constant_values=fill)
    nby, nbx = padded.shape[0] // by, padded.shape[1] // bx
    return padded.reshape(nby, by, nbx, bx).swapaxes(1, 2).reshape(nby, nbx, by * bx)


def _box_medians(image: np.ndarray, mask: np.ndarray, box: tuple[int, int]) -> np.ndarray:
    """Median of the clipped background values per box; NaN for excluded boxes."""
    values = _boxes(image.astype(np.float64), box, np.nan)
    good = _boxes(mask & np.isfinite(image), box, False)
    excluded = 100.0 * (1.0 - good.mean(axis=-1)) > EXCLUDE_PERCENTILE
    from astropy.stats import sigma_clip  # imported on use (slow import)
    from astropy.utils.exceptions import AstropyUserWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        clipped = sigma_clip(
            np.ma.array(values, mask=~good), sigma=3.0, maxiters=5, axis=-1, masked=True
        )
        medians = np.ma.median(clipped, axis=-1).filled(np.nan)
    medians[excluded] = np.nan
    return medians


def _fill_excluded(grid: np.ndarray) -> np.ndarray:
    """Fill NaN boxes by inverse-distance weighting of the nearest good boxes."""
    bad = ~np.isfinite(grid)
    if not bad.any():
        return grid
    good_yx = np.argwhere(~bad)
    if good_yx.size == 0:
        raise MeshBackgroundError("every box has more than 10% masked pixels")
    from scipy.spatial import cKDTree  # imported on use (slow import)

    tree = cKDTree(good_yx)
    k = min(_NEIGHBORS, len(good_yx))
    dist, idx = tree.query(np.argwhere(bad), k=k)
    dist = np.asarray(dist, float).reshape(-1, k)
    idx = np.asarray(idx).reshape(-1, k)
    values = grid[~bad][idx]
    weights = 1.0 / dist
    out = grid.copy()
    out[bad] = np.sum(weights * values, axis=1) / np.sum(weights, axis=1)
    return out


def _median_filter(grid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """NaN-aware median filter with NaN padding (missing values outside the grid)."""
    hy, hx = size[0] // 2, size[1] // 2
    padded = np.pad(grid, ((hy, size[0] - 1 - hy), (hx, size[1] - 1 - hx)), constant_values=np.nan)
    windows = sliding_window_view(padded, size)
    return np.nanmedian(windows.reshape(grid.shape + (-1,)), axis=-1)


def mesh_background(image: np.ndarray, mask: np.ndarray, box_size: tuple[int, int] = (32, 32)) -> np.ndarray:
    """Return a smooth background model of ``image`` from its background pixels.

    Parameters
    ----------
    image : numpy.ndarray
        2-D image.
    mask : numpy.ndarray of bool
        True for background pixels to use.
    box_size : tuple of int
        Box size (rows, columns); the image is padded to whole boxes.

    Returns
    -------
    numpy.ndarray
        float32 model of the shape of ``image``.

    Raises
    ------
    MeshBackgroundError
        If no box has enough background pixels.
    """
    ny, nx = image.shape
    box = (max(1, min(int(box_size[0]), ny)), max(1, min(int(box_size[1]), nx)))
    grid = _fill_excluded(_box_medians(image, mask, box))
    grid = _median_filter(grid, FILTER_SIZE)
    padded_shape = (grid.shape[0] * box[0], grid.shape[1] * box[1])
    if grid.shape == (1, 1):
        return np.full((ny, nx), grid[0, 0], np.float32)
    factors = (padded_shape[0] / grid.shape[0], padded_shape[1] / grid.shape[1])
    model = zoom(grid, factors, order=3, mode="reflect", grid_mode=True)
    return model[:ny, :nx].astype(np.float32)


def zoom(*args, **kwargs):  # noqa: D103 - scipy.ndimage.zoom, imported on first use (slow import)
    from scipy.ndimage import zoom as scipy_zoom

    return scipy_zoom(*args, **kwargs)
