"""Regions of a flag image and the ellipses that stand for them.

The snowball and shower flagging describe every connected region of flagged
pixels by the ellipse of its second moments and then flag the pixels of an
enlarged copy of that ellipse.  The quantities are those of JWST (stcal 1.20,
which uses ``skimage.measure.regionprops`` and ``skimage.draw.ellipse``),
computed here with numpy and ``scipy.ndimage`` for all regions at once:

* regions are the 8-connected components of the flag image;
* the **area** of a region is its number of pixels once its holes are filled
  (background not 8-connected to the outside of the region);
* its **ellipse** is centred on the centroid of its pixels, oriented along the
  principal axis of their covariance, with full axes ``4 sqrt(eigenvalue) - 1``
  (``4 sqrt(eigenvalue)`` is the moment ellipse; the pixel is taken off);
* an ellipse is drawn on the pixels whose centres lie strictly inside the
  ellipse of half-axes ``round(major / 2)`` and ``round(minor / 2)`` around the
  rounded centre (nothing is drawn when a half-axis is 0).  Pixels exactly on
  the edge of a circle are left out; JWST decides them by the rounding of the
  ellipse's angle, so it may include some of them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Ellipse", "ellipse_pixels", "expanded_axes", "filled_areas", "fit_ellipses"]

#: 8-connectivity, for the flagged pixels and for the holes.
_EIGHT = np.ones((3, 3), dtype=bool)


class Ellipse(NamedTuple):
    """A region's moment ellipse.

    Attributes
    ----------
    x, y : float
        Centroid (column, row), in pixels.
    major, minor : float
        Full axis lengths, in pixels.
    orientation : float
        Angle of the major axis, in radians, from the row axis towards the
        column axis (the convention of ``skimage.measure.regionprops``).
    """

    x: float
    y: float
    major: float
    minor: float
    orientation: float


def filled_areas(labels: np.ndarray, count: int) -> np.ndarray:
    """Number of pixels of every labelled region, its holes included.

    Parameters
    ----------
    labels : ndarray of int, shape (ny, nx)
        8-connected regions labelled 1..`count` (0 = background).
    count : int
        Number of regions.

    Returns
    -------
    ndarray of int64, shape (count + 1,)
        Filled area of region ``k`` at index ``k`` (index 0 unused).
    """
    areas = np.bincount(labels.ravel(), minlength=count + 1).astype(np.int64)
    if count == 0:
        return areas
    # Background pixels not 8-connected to the frame edge lie in holes. Every hole
    # of a region (taken alone) holds such pixels, so only the regions next to
    # them can have holes: those are filled one by one.
    background, nback = _ndimage().label(labels == 0, structure=_EIGHT)
    if nback == 0:
        return areas
    edge = np.zeros(nback + 1, dtype=bool)
    for line in (background[0], background[-1], background[:, 0], background[:, -1]):
        edge[line] = True
    holes = (background > 0) & ~edge[background]
    if not holes.any():
        return areas
    near = np.unique(labels[_ndimage().binary_dilation(holes, structure=_EIGHT)])
    boxes = _ndimage().find_objects(labels)
    for k in near[near > 0]:
        region = labels[boxes[k - 1]] == k
        areas[k] = np.count_nonzero(_ndimage().binary_fill_holes(region, structure=_EIGHT))
    return areas


def fit_ellipses(mask: np.ndarray, min_area: float) -> list[Ellipse]:
    """The moment ellipses of the regions of `mask` with a filled area of at least `min_area`.

    Parameters
    ----------
    mask : ndarray, shape (ny, nx)
        Flag image; non-zero pixels are flagged.
    min_area : float
        Smallest filled area (pixels) of a region kept.

    Returns
    -------
    list of Ellipse
        One per region kept, in label order (row-major by first pixel).
    """
    flagged = np.asarray(mask) != 0
    if not flagged.any():
        return []
    labels, count = _ndimage().label(flagged, structure=_EIGHT)
    kept = np.flatnonzero(filled_areas(labels, count) >= min_area)
    kept = kept[kept > 0]
    if kept.size == 0:
        return []
    rows, cols = np.nonzero(flagged)
    owner = labels[rows, cols]
    n = np.bincount(owner, minlength=count + 1)[kept].astype(np.float64)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(owner, weights=values, minlength=count + 1)[kept] / n

    yc, xc = mean(rows.astype(np.float64)), mean(cols.astype(np.float64))
    centre_y, centre_x = np.zeros(count + 1), np.zeros(count + 1)
    centre_y[kept], centre_x[kept] = yc, xc
    dy, dx = rows - centre_y[owner], cols - centre_x[owner]
    var_r, var_c, cov = mean(dy * dy), mean(dx * dx), mean(dy * dx)
    half_sum = 0.5 * (var_r + var_c)
    spread = np.sqrt((0.5 * (var_r - var_c)) ** 2 + cov**2)
    major = 4.0 * np.sqrt(np.maximum(half_sum + spread, 0.0)) - 1.0
    minor = 4.0 * np.sqrt(np.maximum(half_sum - spread, 0.0)) - 1.0
    orientation = np.where(
        var_r == var_c,
        np.where(cov > 0, np.pi / 4, -np.pi / 4),
        0.5 * np.arctan2(2.0 * cov, var_r - var_c),
    )
    return [
        Ellipse(float(x), float(y), float(a), float(b), float(o))
        for x, y, a, b, o in zip(xc, yc, major, minor, orientation)
    ]


def expanded_axes(ellipse: Ellipse, factor: float, max_axis: float) -> tuple[float, float]:
    """Axes of `ellipse` enlarged by `factor`, as JWST enlarges snowballs and showers.

    Both axes grow by ``(factor - 1)`` times the minor axis (so that long, thin
    regions do not turn into huge ellipses), are capped at `max_axis` and are
    rounded to an even number of pixels.

    Parameters
    ----------
    ellipse : Ellipse
        The region's ellipse.
    factor : float
        Expansion factor (``expand_factor`` or ``extend_ellipse_expand_ratio``).
    max_axis : float
        Largest full axis length allowed (twice ``max_extended_radius``).

    Returns
    -------
    (float, float)
        The new ``(major, minor)`` full lengths.
    """
    grow = (factor - 1.0) * ellipse.minor
    major = min(ellipse.major + grow, max_axis)
    minor = min(ellipse.minor * factor, max_axis)
    return float(round(major / 2) * 2), float(round(minor / 2) * 2)


def ellipse_pixels(
    ellipse: Ellipse, shape: tuple[int, int], axes: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the pixels inside an ellipse.

    Parameters
    ----------
    ellipse : Ellipse
        Centre and orientation (and axes, unless `axes` is given).
    shape : (int, int)
        Image shape; pixels outside it are dropped.
    axes : (float, float), optional
        Full ``(major, minor)`` lengths to use instead of the ellipse's.

    Returns
    -------
    rows, cols : ndarray of intp
    """
    major, minor = axes if axes is not None else (ellipse.major, ellipse.minor)
    a, b = round(major / 2), round(minor / 2)
    empty = np.zeros(0, dtype=np.intp)
    if a == 0 or b == 0:
        return empty, empty
    yc, xc = round(ellipse.y), round(ellipse.x)
    reach = max(abs(a), abs(b))
    y0, y1 = max(yc - reach, 0), min(yc + reach + 1, shape[0])
    x0, x1 = max(xc - reach, 0), min(xc + reach + 1, shape[1])
    if y0 >= y1 or x0 >= x1:
        return empty, empty
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dr, dc = yy - yc, xx - xc
    if a == b:  # a circle: exact integer test, whatever the orientation
        inside = dr * dr + dc * dc < a * a
    else:
        angle = ellipse.orientation % np.pi
        c, s = np.cos(angle), np.sin(angle)
        inside = ((dr * c + dc * s) / a) ** 2 + ((dr * s - dc * c) / b) ** 2 < 1.0
    return yy[inside], xx[inside]


def _ndimage():
    """``scipy.ndimage``, imported on first use (a slow import)."""
    from scipy import ndimage

    return ndimage
