"""Background statistics for scene masking: sigma clipping and background levels.

Pure numpy/scipy/astropy. Two functions:

* :func:`clip_to_background` marks signal and bad values in a background mask,
  from a sigma-clipped center and width of the masked data (optionally refined
  by a Gaussian fit to their histogram, or computed from the mirrored lower
  half of the distribution);
* :func:`background_level` returns the background to remove before the noise
  fit: a single median, or a smooth 2-D mesh model
  (:func:`~builtin_steps.clean_flicker_noise.mesh_background.mesh_background`).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from builtin_steps.clean_flicker_noise.mesh_background import MeshBackgroundError, mesh_background

__all__ = ["clip_to_background", "background_level", "CLIP_SIGMA"]

log = logging.getLogger(__name__)

#: Sigma of the iterative clipping that gives the first center and width.
CLIP_SIGMA = 3.0


def _clipped_stats(values: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, float, float]:
    """Mean, median and standard deviation after 3-sigma, 5-iteration clipping."""
    from astropy.stats import sigma_clipped_stats  # imported on use (slow import)
    from astropy.utils.exceptions import AstropyUserWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, median, std = sigma_clipped_stats(values, mask=mask, sigma=CLIP_SIGMA, maxiters=5)
    return float(mean), float(median), float(std)


def _gaussian(x: np.ndarray, amp: float, mean: float, sigma: float) -> np.ndarray:
    return amp * np.exp(-0.5 * ((x - mean) / sigma) ** 2)


def _histogram_fit(values: np.ndarray, center: float, sigma: float) -> tuple[float, float] | None:
    """Center and width of a Gaussian fit to a 2000-bin histogram over +-4 sigma, or None."""
    if not (np.isfinite(center) and np.isfinite(sigma)) or sigma <= 0:
        log.error("Histogram failed; using clip center and sigma.")
        return None
    hist, edges = np.histogram(values, bins=2000, range=(center - 4.0 * sigma, center + 4.0 * sigma))
    mids = 0.5 * (edges[1:] + edges[:-1])
    peak = int(np.argmax(hist))
    start = (hist[peak], mids[peak], sigma)
    bounds = ([0, mids[0], 0], [np.inf, mids[-1], mids[-1] - mids[0]])
    from scipy.optimize import curve_fit  # imported on use (slow import)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = curve_fit(_gaussian, mids, hist, p0=start, bounds=bounds)
    except (RuntimeError, ValueError):
        log.error("Gaussian fit failed; using clip center and sigma.")
        return None
    return float(params[1]), float(params[2])


def clip_to_background(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    sigma_lower: float = 3.0,
    sigma_upper: float = 2.0,
    fit_histogram: bool = False,
    lower_half_only: bool = False,
) -> None:
    """Mark signal and low outliers as non-background, in place.

    Parameters
    ----------
    image : numpy.ndarray
        2-D image.
    mask : numpy.ndarray of bool
        Background mask (True = background), updated in place: pixels above
        ``center + sigma_upper * sigma`` (signal) and below
        ``center - sigma_lower * sigma`` (bad values) become False.
    sigma_lower, sigma_upper : float
        Clipping limits in units of the background width.
    fit_histogram : bool
        Take the center and width from a Gaussian fit to the histogram of the
        background values (started from the clipped mean and width) instead
        of the clipped median and standard deviation.
    lower_half_only : bool
        Compute the statistics from the values at or below the first center,
        mirrored about it (robust to diffuse emission in the upper tail).
    """
    if not np.any(mask):
        return
    values = image.astype(np.float64)
    mean, median, sigma = _clipped_stats(values, mask=~mask)
    center = mean if fit_histogram else median
    if lower_half_only:
        low = values[mask & (values <= center)]
        data = np.concatenate((low - center, center - low)) + center
        mean, median, sigma = _clipped_stats(data)
        center = mean if fit_histogram else median
    else:
        data = values[mask]
    if fit_histogram:
        fitted = _histogram_fit(data, center, sigma)
        if fitted is not None:
            center, sigma = fitted
    log.debug("Background center %.5g, sigma %.5g", center, sigma)
    with np.errstate(invalid="ignore"):
        mask[values < center - sigma_lower * sigma] = False
        mask[values > center + sigma_upper * sigma] = False


def background_level(
    image: np.ndarray,
    mask: np.ndarray,
    method: str | None = "median",
    box_size: tuple[int, int] | None = None,
) -> float | np.ndarray:
    """Fit the background to remove (and restore) around the noise fit.

    The mask is first refined in place with a 3-sigma clip on the mirrored
    lower half of the background distribution.

    Parameters
    ----------
    image : numpy.ndarray
        2-D image.
    mask : numpy.ndarray of bool
        Background mask (True = background), updated in place.
    method : {'median', 'model', None}
        'median': one median of the background pixels; 'model': a smooth
        mesh model (32 x 32 boxes or the largest size up to 32 dividing the
        image, sigma-clipped box medians, 5 x 5 median filter, cubic spline
        interpolation); None: 0.
    box_size : tuple of int, optional
        Box size (rows, columns) of the mesh model.

    Returns
    -------
    float or numpy.ndarray
        A scalar, or an image of the shape of ``image`` for 'model'.
    """
    if method is None:
        return 0.0
    clip_to_background(image, mask, sigma_lower=CLIP_SIGMA, sigma_upper=CLIP_SIGMA, lower_half_only=True)
    if method == "model":
        if box_size is None:
            sizes = np.arange(1, 33)
            box_size = tuple(int(sizes[n % sizes == 0][-1]) for n in image.shape)
        if image.shape[0] % box_size[0] or image.shape[1] % box_size[1]:
            log.warning(
                "Background box size %s does not divide evenly into the image shape %s.",
                list(box_size), image.shape,
            )
        try:
            return mesh_background(image, mask, box_size=(int(box_size[0]), int(box_size[1])))
        except MeshBackgroundError as exc:
            log.error("Background fit failed (%s), using median value.", exc)
    if not np.any(mask):
        return 0.0
    return float(np.nanmedian(image[mask]))
