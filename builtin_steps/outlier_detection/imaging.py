"""The imaging outlier test: median of the resampled exposures, blotted back and compared.

Each exposure is drizzled on its own onto the common output grid; the median
of those (pixels whose weight is below ``maskpt`` times the image's median
weight left out) is the outlier-free sky. It is interpolated back (``blot``)
onto each exposure's pixels, and a pixel is an outlier when::

    |data - blot| > snr1 * err + scale1 * deriv

or, for a pixel next to one above the first limit, ``snr2``/``scale2``;
``deriv`` is the largest absolute difference of the blotted image between
neighbouring pixels. Nothing here knows about data models.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps.outlier_detection.median import nan_median

__all__ = ["blot", "outlier_mask", "parse_pair", "nan_median"]


def parse_pair(text: str, name: str) -> tuple[float, float]:
    """Read a ``"a b"`` parameter (``snr``, ``scale``) as two floats.

    Parameters
    ----------
    text : str
        One or two numbers separated by spaces.
    name : str
        The parameter's name (for the error).

    Returns
    -------
    (float, float)

    Raises
    ------
    ValueError
        When ``text`` is not one or two numbers.
    """
    parts = str(text).replace(",", " ").split()
    values = [float(p) for p in parts]
    if len(values) == 1:
        values = values * 2
    if len(values) != 2:
        raise ValueError(f"{name} = {text!r}")
    return values[0], values[1]


def blot(median: np.ndarray, wcs_median: Any, wcs_in: Any, shape: tuple[int, int]) -> np.ndarray:
    """Interpolate the median image at each input pixel (cubic spline; NaN outside).

    Parameters
    ----------
    median : numpy.ndarray
        The median image on the output grid.
    wcs_median, wcs_in : gwcs.wcs.WCS
        The output grid's and the exposure's WCS.
    shape : (int, int)
        The exposure's ``(ny, nx)``.

    Returns
    -------
    numpy.ndarray
        Float32 blotted image.
    """
    from scipy.ndimage import map_coordinates

    from builtin_steps.resample.drizzle_images import pixel_map

    pixmap = pixel_map(wcs_in, wcs_median, shape)
    filled = np.where(np.isfinite(median), median, 0.0)
    values = map_coordinates(filled, [pixmap[..., 1].ravel(), pixmap[..., 0].ravel()], order=1,
                             mode="constant", cval=np.nan)
    known = map_coordinates(np.isfinite(median).astype(np.float32),
                            [pixmap[..., 1].ravel(), pixmap[..., 0].ravel()], order=1,
                            mode="constant", cval=0.0)
    values[known < 0.999] = np.nan
    return values.reshape(shape).astype(np.float32)


def _derivative(image: np.ndarray) -> np.ndarray:
    padded = np.pad(np.nan_to_num(image), 1, mode="edge")
    centre = padded[1:-1, 1:-1]
    diffs = [np.abs(centre - padded[1:-1, :-2]), np.abs(centre - padded[1:-1, 2:]),
             np.abs(centre - padded[:-2, 1:-1]), np.abs(centre - padded[2:, 1:-1])]
    return np.max(diffs, axis=0)


def outlier_mask(data: np.ndarray, err: np.ndarray, blotted: np.ndarray, *, snr: tuple[float, float],
                 scale: tuple[float, float], backg: float = 0.0) -> np.ndarray:
    """Return True where a pixel is an outlier.

    Parameters
    ----------
    data, err : numpy.ndarray
        The exposure's values and errors.
    blotted : numpy.ndarray
        The median blotted onto the exposure (NaN: no comparison).
    snr, scale : (float, float)
        The limits of the test and of its neighbour pass.
    backg : float
        Background added to the blotted image.

    Returns
    -------
    numpy.ndarray
        Boolean mask.
    """
    from scipy.ndimage import binary_dilation

    model = blotted + backg
    deriv = _derivative(model)
    diff = np.abs(data - model)
    sigma = np.where(np.isfinite(err), err, np.inf)
    with np.errstate(invalid="ignore"):
        first = diff > snr[0] * sigma + scale[0] * deriv
        near = binary_dilation(first, structure=np.ones((3, 3), bool))
        second = diff > snr[1] * sigma + scale[1] * deriv
    mask = first | (near & second)
    return mask & np.isfinite(model)
