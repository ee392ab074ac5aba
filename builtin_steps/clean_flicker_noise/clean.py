"""Clean images and ramps: background, per-image noise fit, reassembly.

A ramp is cleaned group difference by group difference: each difference
(group j+1 - group j) is cleaned and added to the already cleaned group j, so
the first group is kept and the noise removed from each later read. Rate
images and per-integration rate cubes are cleaned directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from builtin_steps.clean_flicker_noise.background import background_level, clip_to_background
from builtin_steps.clean_flicker_noise.fft_clean import fft_clean
from builtin_steps.clean_flicker_noise.median_clean import median_clean

__all__ = ["CleanSettings", "clean_image", "clean_data"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleanSettings:
    """How one image is cleaned.

    Attributes
    ----------
    fit_method : {'median', 'fft'}
        Noise fit.
    background_method : {'median', 'model', None}
        Background removed before, and restored after, the noise fit.
    background_box_size : tuple of int or None
        Box size of the 'model' background.
    n_sigma : float
        Clip limit for more signal in the background-subtracted image (0: none).
    axis_to_correct : int
        ``abs(SLOWAXIS)`` (1 for MIRI): median stripes run along this axis.
    fit_by_channel : bool
        Median fit per detector channel.
    detector : str
        Detector name (for 'fft').
    """

    fit_method: str = "median"
    background_method: str | None = "median"
    background_box_size: tuple[int, int] | None = None
    n_sigma: float = 2.0
    axis_to_correct: int = 2
    fit_by_channel: bool = False
    detector: str = ""


def clean_image(
    image: np.ndarray, mask: np.ndarray, settings: CleanSettings, flat: np.ndarray | None = None
) -> tuple[np.ndarray | None, np.ndarray | float | None]:
    """Fit and remove the 1/f noise of one image.

    Parameters
    ----------
    image : numpy.ndarray
        2-D image (not modified).
    mask : numpy.ndarray of bool
        Background mask; refined in place (NaNs, background clip).
    settings : CleanSettings
        Fit settings.
    flat : numpy.ndarray, optional
        Flat to divide by before the fits and multiply back after.

    Returns
    -------
    cleaned : numpy.ndarray or None
        Cleaned float32 image (NaNs kept), or None when no background pixel is left.
    background : numpy.ndarray, float or None
        The background that was removed and restored (in flat-fielded units).
    """
    work = image.astype(np.float32)
    if flat is not None:
        work /= flat
    nan_pix = np.isnan(work)
    work[nan_pix] = 0.0
    mask[nan_pix] = False
    if not np.any(mask):
        return None, None
    if settings.background_method is None:
        background: np.ndarray | float = 0.0
        bkg_sub = work
    else:
        background = background_level(
            work, mask, settings.background_method, settings.background_box_size
        )
        bkg_sub = work - background
        if settings.n_sigma > 0:
            clip_to_background(
                bkg_sub, mask, sigma_lower=settings.n_sigma, sigma_upper=settings.n_sigma,
                lower_half_only=True,
            )
    if settings.fit_method == "fft":
        cleaned = fft_clean(bkg_sub, mask, settings.detector)
    else:
        cleaned = median_clean(
            bkg_sub, mask, settings.axis_to_correct, fit_by_channel=settings.fit_by_channel
        )
    cleaned = (cleaned + background).astype(np.float32)
    if flat is not None:
        cleaned *= flat
    cleaned[nan_pix] = np.nan
    return cleaned, background


def clean_data(
    data: np.ndarray,
    background_mask: np.ndarray,
    settings: CleanSettings,
    *,
    groupdq: np.ndarray | None = None,
    flat: np.ndarray | None = None,
    keep_background: bool = False,
    unusable: int = 1 | 4,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Clean a rate image, rate cube or ramp.

    Parameters
    ----------
    data : numpy.ndarray
        ``(ny, nx)``, ``(nints, ny, nx)`` or ``(nints, ngroups, ny, nx)``.
    background_mask : numpy.ndarray of bool
        ``(ny, nx)`` or ``(nints, ny, nx)`` scene mask.
    settings : CleanSettings
        Fit settings.
    groupdq : numpy.ndarray of int, optional
        Group DQ of a ramp: pixels with ``unusable`` bits in the later group
        of a difference are left out of its fit.
    flat : numpy.ndarray, optional
        Flat image (see :func:`clean_image`).
    keep_background : bool
        Also return the fitted backgrounds, shape of ``data``.
    unusable : int
        Group DQ bits (DO_NOT_USE | JUMP_DET) excluded from the fits.

    Returns
    -------
    cleaned : numpy.ndarray
        The cleaned data (a new array; images without background pixels are
        left as they were).
    background : numpy.ndarray or None
        The backgrounds, when asked.
    """
    original = np.asarray(data)
    cleaned = original.astype(np.float32, copy=True)
    background = np.zeros(cleaned.shape, np.float32) if keep_background else None
    ndim = original.ndim
    nints = 1 if ndim == 2 else original.shape[0]
    ngroups = original.shape[1] - 1 if ndim == 4 else 1
    for i in range(nints):
        for j in range(ngroups):
            mask = (background_mask[i] if background_mask.ndim == 3 else background_mask).copy()
            if ndim == 2:
                image, where = original, np.s_[...]
            elif ndim == 3:
                image, where = original[i], np.s_[i]
            else:
                image, where = original[i, j + 1] - original[i, j], np.s_[i, j + 1]
                if groupdq is not None:
                    mask &= (groupdq[i, j + 1] & unusable) == 0
            result, bkg = clean_image(image, mask, settings, flat)
            if result is None:
                log.warning(
                    "No usable data in integration %d, group %d. Skipping correction for this image.",
                    i + 1, j + 1,
                )
                continue
            if ndim == 4:
                cleaned[where] = cleaned[i, j] + result
            else:
                cleaned[where] = result
            if background is not None:
                background[where] = bkg
    return cleaned, background
