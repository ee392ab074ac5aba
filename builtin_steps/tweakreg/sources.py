"""Point-source finding for tweakreg: background, threshold and a star finder (photutils).

The background and its noise come from a sigma-clipped ``Background2D`` mesh
(``bkg_boxsize``, shrunk to the image); stars are found above
``snr_threshold`` times the noise with photutils' ``IRAFStarFinder`` or
``DAOStarFinder`` (or image segmentation), and the ``brightest`` are kept.
Nothing here knows about data models.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["background", "find_stars"]


def background(data: np.ndarray, mask: np.ndarray, boxsize: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the background and its noise (both 2-D) of an image.

    Parameters
    ----------
    data : numpy.ndarray
        The image.
    mask : numpy.ndarray
        True where pixels are unusable.
    boxsize : int
        Mesh box size, pixels (at most the image's smaller side).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Background and background RMS.
    """
    from astropy.stats import SigmaClip
    from photutils.background import Background2D, MedianBackground

    box = int(max(4, min(boxsize, *data.shape)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bkg = Background2D(data, box, mask=mask, sigma_clip=SigmaClip(sigma=3.0),
                           bkg_estimator=MedianBackground(), filter_size=1)
    return np.asarray(bkg.background), np.asarray(bkg.background_rms)


def find_stars(data: np.ndarray, mask: np.ndarray, pars: Any) -> np.ndarray:
    """Find point sources; return their (x, y, flux), brightest first.

    Parameters
    ----------
    data : numpy.ndarray
        The image (2-D).
    mask : numpy.ndarray
        True where pixels are unusable.
    pars : object
        With the tweakreg parameters ``starfinder``, ``snr_threshold``,
        ``kernel_fwhm``, ``bkg_boxsize``, ``minsep_fwhm``, ``sigma_radius``,
        ``sharplo``, ``sharphi``, ``roundlo``, ``roundhi``, ``brightest``,
        ``peakmax``, ``npixels``, ``connectivity``, ``nlevels``, ``contrast``,
        ``deblend``.

    Returns
    -------
    numpy.ndarray
        ``(n, 3)`` float64: 0-based x, y and the flux above the background.
    """
    from photutils.detection import DAOStarFinder, IRAFStarFinder

    data = np.where(mask | ~np.isfinite(data), np.nan, data).astype(np.float64)
    mask = ~np.isfinite(data)
    bkg, rms = background(np.nan_to_num(data), mask, pars.bkg_boxsize)
    sub = np.where(mask, 0.0, data - bkg)
    threshold = float(pars.snr_threshold) * float(np.nanmedian(rms[~mask])) if (~mask).any() else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if pars.starfinder == "segmentation":
            return _segmentation(sub, mask, threshold, pars)
        common = dict(
            threshold=threshold, fwhm=float(pars.kernel_fwhm), sigma_radius=float(pars.sigma_radius),
            sharpness_range=(float(pars.sharplo), float(pars.sharphi)),
            roundness_range=(float(pars.roundlo), float(pars.roundhi)),
            n_brightest=pars.brightest, peak_max=pars.peakmax, exclude_border=True,
        )
        if pars.starfinder == "dao":
            finder = DAOStarFinder(min_separation=float(pars.minsep_fwhm) * float(pars.kernel_fwhm), **common)
        else:
            finder = IRAFStarFinder(min_separation=float(pars.minsep_fwhm) * float(pars.kernel_fwhm), **common)
        table = finder(sub, mask=mask)
    if table is None or len(table) == 0:
        return np.zeros((0, 3))
    out = np.column_stack([np.asarray(table["x_centroid"], float), np.asarray(table["y_centroid"], float),
                           np.asarray(table["flux"], float)])
    return out[np.argsort(-out[:, 2])]


def _segmentation(sub: np.ndarray, mask: np.ndarray, threshold: float, pars: Any) -> np.ndarray:
    from photutils.segmentation import SourceCatalog, SourceFinder

    finder = SourceFinder(int(pars.npixels), connectivity=int(pars.connectivity),
                          deblend=bool(pars.deblend), n_levels=int(pars.nlevels),
                          contrast=float(pars.contrast), mode=pars.multithresh_mode, progress_bar=False)
    segm = finder(sub, threshold, mask=mask)
    if segm is None:
        return np.zeros((0, 3))
    cat = SourceCatalog(sub, segm, mask=mask)
    out = np.column_stack([np.asarray(cat.x_centroid, float), np.asarray(cat.y_centroid, float),
                           np.asarray(cat.segment_flux, float)])
    out = out[np.all(np.isfinite(out), axis=1)]
    out = out[np.argsort(-out[:, 2])]
    return out[: pars.brightest] if pars.brightest else out
