"""The photometry of the source catalog: detection, apertures, corrections, magnitudes (photutils).

:func:`measure` subtracts the ``Background2D`` sky, detects sources in the
image smoothed by a Gaussian of ``kernel_fwhm`` above ``snr_threshold`` times
the sky noise (``SourceFinder``: ``npixels``, deblending with ``nlevels`` and
``contrast``), measures centroids and isophotal fluxes (``SourceCatalog``) and
circular-aperture fluxes at the radii enclosing ``aperture_ee1..3`` per cent of
a star's light; the total flux is the largest aperture's times its aperture
correction. Fluxes are in Jy (surface brightness in MJy/sr times the pixel's
solid angle); AB magnitudes ``-2.5 log10(F / 3631 Jy)``, Vega magnitudes the AB
ones minus the filter's AB-Vega offset. Nothing here knows about data models.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ApertureSet", "gaussian_apertures", "measure", "ab_mag"]


@dataclass
class ApertureSet:
    """Aperture radii (pixels) of the encircled-energy fractions and the total-flux correction.

    Attributes
    ----------
    ee : tuple of int
        Encircled-energy percentages.
    radii : tuple of float
        Their radii, pixels.
    apcorr : float
        Total flux over the flux within the largest aperture.
    sky_in, sky_out : float
        Local sky annulus, pixels.
    """

    ee: tuple[int, ...]
    radii: tuple[float, ...]
    apcorr: float
    sky_in: float
    sky_out: float


def gaussian_apertures(sigma: float, ee: tuple[int, ...]) -> ApertureSet:
    """Apertures of a circular Gaussian star of width ``sigma`` pixels.

    Parameters
    ----------
    sigma : float
        Gaussian sigma, pixels.
    ee : tuple of int
        Encircled-energy percentages (0 < ee < 100).

    Returns
    -------
    ApertureSet
    """
    radii = tuple(float(sigma * np.sqrt(-2.0 * np.log(1.0 - e / 100.0))) for e in ee)
    return ApertureSet(tuple(ee), radii, 100.0 / max(ee), 6.0 * sigma, 9.0 * sigma)


def ab_mag(flux_jy: np.ndarray) -> np.ndarray:
    """AB magnitudes of fluxes in Jy (NaN where the flux is not positive)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(flux_jy > 0, -2.5 * np.log10(flux_jy / 3631.0), np.nan)


def measure(data: np.ndarray, err: np.ndarray, mask: np.ndarray, pixel_sr: float, apertures: ApertureSet,
            pars: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Detect and measure the sources of an image.

    Parameters
    ----------
    data, err : numpy.ndarray
        Surface brightness (MJy/sr) and its error.
    mask : numpy.ndarray
        True where pixels are unusable.
    pixel_sr : float
        Solid angle of a pixel, steradians.
    apertures : ApertureSet
        The apertures.
    pars : object
        The step's parameters (``snr_threshold``, ``bkg_boxsize``,
        ``kernel_fwhm``, ``npixels``, ``connectivity``, ``nlevels``,
        ``contrast``, ``multithresh_mode``, ``deblend``).

    Returns
    -------
    (dict, numpy.ndarray)
        Catalog columns (``label``, ``xcentroid``, ``ycentroid``,
        ``isophotal_flux``, ``aper<ee>_flux`` and ``_err``, ``aper_total_flux``
        and ``_err``, in Jy) and the segmentation image (int32, 0: no source).
    """
    from astropy.convolution import convolve
    from photutils.aperture import ApertureStats, CircularAnnulus, CircularAperture, aperture_photometry
    from photutils.segmentation import SourceCatalog, SourceFinder, make_2dgaussian_kernel

    from builtin_steps.tweakreg.sources import background

    mask = mask | ~np.isfinite(data)
    bkg, rms = background(np.where(mask, 0.0, data), mask, pars.bkg_boxsize)
    sub = np.where(mask, 0.0, data - bkg)
    size = int(2 * round(1.5 * pars.kernel_fwhm) + 1)
    kernel = make_2dgaussian_kernel(pars.kernel_fwhm, size=max(size, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        smooth = convolve(sub, kernel, mask=mask, normalize_kernel=True)
        finder = SourceFinder(int(pars.npixels), connectivity=int(pars.connectivity), deblend=bool(pars.deblend),
                              n_levels=int(pars.nlevels), contrast=float(pars.contrast),
                              mode=pars.multithresh_mode, progress_bar=False)
        segm = finder(smooth, float(pars.snr_threshold) * rms, mask=mask)
    if segm is None:
        return {}, np.zeros(data.shape, np.int32)
    to_jy = pixel_sr * 1.0e6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cat = SourceCatalog(sub, segm, error=err, mask=mask, convolved_data=smooth)
        x, y = np.asarray(cat.x_centroid, float), np.asarray(cat.y_centroid, float)
        positions = np.column_stack([x, y])
        annulus = CircularAnnulus(positions, apertures.sky_in, apertures.sky_out)
        local = ApertureStats(sub, annulus, mask=mask).median
        columns: dict[str, np.ndarray] = {
            "label": np.asarray(cat.label, int), "xcentroid": x, "ycentroid": y,
            "isophotal_flux": np.asarray(cat.segment_flux, float) * to_jy,
            "isophotal_flux_err": np.asarray(cat.segment_flux_err, float) * to_jy,
        }
        err_ok = np.where(np.isfinite(err), err, 0.0)
        for ee, radius in zip(apertures.ee, apertures.radii):
            aperture = CircularAperture(positions, radius)
            phot = aperture_photometry(sub, aperture, error=err_ok, mask=mask)
            flux = (np.asarray(phot["aperture_sum"], float) - np.nan_to_num(local) * aperture.area) * to_jy
            columns[f"aper{ee}_flux"] = flux
            columns[f"aper{ee}_flux_err"] = np.asarray(phot["aperture_sum_err"], float) * to_jy
    last = max(apertures.ee)
    columns["aper_total_flux"] = columns[f"aper{last}_flux"] * apertures.apcorr
    columns["aper_total_flux_err"] = columns[f"aper{last}_flux_err"] * apertures.apcorr
    return columns, np.asarray(segm.data, np.int32)
