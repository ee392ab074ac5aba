"""The photometry of the source catalog: detection, apertures, local sky, magnitudes (photutils).

The steps are those of the JWST source catalog. :func:`detect` estimates the
sky (``Background2D``, sigma-clipped medians in boxes of ``bkg_boxsize``, the
whole image when the boxes do not fit), smooths the sky-subtracted image with a
Gaussian of ``kernel_fwhm`` and finds the sources above ``snr_threshold`` times
the sky noise (``SourceFinder``, deblending with ``nlevels`` and ``contrast``);
their centroids and isophotal fluxes come from ``SourceCatalog``.
:func:`local_background` is the sigma-clipped median in a circular annulus
around each source and :func:`aperture_fluxes` the circular-aperture sums less
that background. The total flux of a point source is the largest aperture's flux
times its aperture correction; AB magnitudes are ``-2.5 log10(F / Jy) + 8.9``.
Fluxes are in the units of the image given (the step passes Jy per pixel).
Nothing here knows about data models.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["detect", "local_background", "aperture_fluxes", "ab_mag", "nearest_neighbours"]

#: SourceCatalog properties -> catalog columns.
_SEGMENT_COLUMNS = {
    "label": "label",
    "x_centroid": "xcentroid",
    "y_centroid": "ycentroid",
    "segment_flux": "isophotal_flux",
    "segment_flux_err": "isophotal_flux_err",
    "area": "isophotal_area",
    "semimajor_axis": "semimajor_sigma",
    "semiminor_axis": "semiminor_sigma",
    "ellipticity": "ellipticity",
    "orientation": "orientation",
}


def _background(data: np.ndarray, coverage: np.ndarray, boxsize: int) -> tuple[np.ndarray, np.ndarray]:
    from astropy.stats import SigmaClip
    from photutils.background import Background2D, MedianBackground

    options = {"filter_size": (3, 3), "coverage_mask": coverage, "sigma_clip": SigmaClip(sigma=3.0),
               "bkg_estimator": MedianBackground()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            bkg = Background2D(data, int(boxsize), **options)
        except ValueError:  # boxes larger than the image, or too few good pixels in them
            bkg = Background2D(data, data.shape, exclude_percentile=100.0, **options)
    return np.asarray(bkg.background), np.asarray(bkg.background_rms)


def detect(data: np.ndarray, err: np.ndarray, coverage: np.ndarray, pars: Any) -> tuple[dict, np.ndarray | None]:
    """Find the sources of an image and measure their segments.

    Parameters
    ----------
    data, err : numpy.ndarray
        The image and its error (same units).
    coverage : numpy.ndarray
        True where the image has no data (no weight, or NaN error).
    pars : object
        ``snr_threshold``, ``bkg_boxsize``, ``kernel_fwhm``, ``npixels``,
        ``connectivity``, ``nlevels``, ``contrast``, ``multithresh_mode``,
        ``deblend``, ``localbkg_width``, ``apermask_method``, ``kron_params``.

    Returns
    -------
    (dict, numpy.ndarray or None)
        Columns (``label``, ``xcentroid``, ``ycentroid``, ``isophotal_flux`` and
        ``_err``, ``isophotal_area``, ``semimajor_sigma``, ``semiminor_sigma``,
        ``ellipticity``, ``orientation``) and the segmentation image (int32,
        0 outside sources); empty and None when nothing is found.
    """
    from astropy.convolution import Gaussian2DKernel, convolve
    from astropy.stats import gaussian_fwhm_to_sigma
    from photutils.segmentation import SourceCatalog, SourceFinder

    bkg, rms = _background(data, coverage, pars.bkg_boxsize)
    sub = data - bkg
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if pars.kernel_fwhm > 0:
            smooth = convolve(sub, Gaussian2DKernel(pars.kernel_fwhm * gaussian_fwhm_to_sigma), mask=coverage)
        else:
            smooth = sub
        finder = SourceFinder(int(pars.npixels), connectivity=int(pars.connectivity), deblend=bool(pars.deblend),
                              n_levels=int(pars.nlevels), contrast=float(pars.contrast),
                              mode=pars.multithresh_mode, progress_bar=False)
        segm = finder(smooth, float(pars.snr_threshold) * rms, mask=coverage)
        if segm is None:
            return {}, None
        kron = tuple(pars.kron_params) if pars.kron_params else (2.5, 1.4, 0.0)
        cat = SourceCatalog(sub, segm, error=err, mask=coverage, convolved_data=smooth,
                            local_bkg_width=int(pars.localbkg_width),
                            aperture_mask_method=pars.apermask_method, kron_params=kron)
        columns = {name: np.asarray(getattr(cat, prop)) for prop, name in _SEGMENT_COLUMNS.items()}
    columns["label"] = columns["label"].astype(int)
    return columns, np.asarray(segm.data, np.int32)


def local_background(data: np.ndarray, positions: np.ndarray, inner: float,
                     outer: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the sky per pixel around each position and its error.

    Parameters
    ----------
    data : numpy.ndarray
        The image (NaN where unusable).
    positions : numpy.ndarray
        ``(n, 2)`` x, y positions, pixels.
    inner, outer : float
        Radii of the circular annulus, pixels (pixels whose centres fall in it).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The 3-sigma-clipped median in each annulus and its standard error
        ``sqrt(pi / 2N) * std`` (N values kept).
    """
    from astropy.stats import SigmaClip
    from photutils.aperture import CircularAnnulus

    clip = SigmaClip(sigma=3.0)
    medians, errors = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mask in CircularAnnulus(positions, inner, outer).to_mask(method="center"):
            values = mask.get_values(data)
            kept = clip(values[np.isfinite(values)], masked=False)
            medians.append(np.median(kept) if kept.size else np.nan)
            errors.append(np.sqrt(np.pi / (2.0 * kept.size)) * np.std(kept) if kept.size else np.nan)
    return np.asarray(medians, float), np.asarray(errors, float)


def aperture_fluxes(data: np.ndarray, err: np.ndarray, positions: np.ndarray, radii: np.ndarray,
                    sky: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return the flux and error in circular apertures, less the local sky.

    Parameters
    ----------
    data, err : numpy.ndarray
        The image and its error (NaN pixels are left out of the sums).
    positions : numpy.ndarray
        ``(n, 2)`` x, y positions, pixels.
    radii : numpy.ndarray
        Aperture radii, pixels.
    sky : numpy.ndarray
        Sky per pixel of each source (:func:`local_background`).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        For each radius, the fluxes (exact pixel overlap, sum less ``sky`` times
        the aperture's area) and their errors.
    """
    from photutils.aperture import CircularAperture, aperture_photometry

    bad = ~np.isfinite(data) | ~np.isfinite(err)
    apertures = [CircularAperture(positions, float(r)) for r in radii]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = aperture_photometry(np.where(bad, 0.0, data), apertures, error=np.where(bad, 0.0, err),
                                    mask=bad)
    result = []
    for index, aperture in enumerate(apertures):
        flux = np.asarray(table[f"aperture_sum_{index}"], float) - sky * aperture.area
        result.append((flux, np.asarray(table[f"aperture_sum_err_{index}"], float)))
    return result


def ab_mag(flux_jy: np.ndarray, flux_err: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """AB magnitudes of fluxes in Jy and their errors (NaN where the flux is negative).

    Parameters
    ----------
    flux_jy : numpy.ndarray
        Fluxes, Jy.
    flux_err : numpy.ndarray, optional
        Their errors.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``-2.5 log10(F) + 8.9`` and ``2.5 log10(1 + err / F)``.
    """
    flux = np.asarray(flux_jy, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = -2.5 * np.log10(flux) + 8.9
        if flux_err is None or np.all(np.isnan(flux_err)):
            mag_err = np.full_like(mag, np.nan)
        else:
            mag_err = 2.5 * np.log10(1.0 + np.asarray(flux_err, float) / flux)
    negative = flux < 0
    mag[negative] = np.nan
    mag_err[negative] = np.nan
    return mag, mag_err


def nearest_neighbours(x: np.ndarray, y: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label of and distance (pixels) to each source's nearest neighbour (-1 and NaN if alone).

    Parameters
    ----------
    x, y : numpy.ndarray
        Positions, pixels.
    labels : numpy.ndarray
        The sources' labels.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
    """
    from scipy.spatial import cKDTree

    points = np.column_stack([x, y])
    finite = np.isfinite(points).all(axis=1)
    nn_label = np.full(len(x), -1, int)
    nn_dist = np.full(len(x), np.nan)
    if finite.sum() < 2:
        return nn_label, nn_dist
    index = np.flatnonzero(finite)
    dist, nearest = cKDTree(points[finite]).query(points[finite], k=2)
    nn_label[index] = np.asarray(labels)[index[nearest[:, 1]]]
    nn_dist[index] = dist[:, 1]
    return nn_label, nn_dist
