"""The columns of the source catalog, in the JWST order, from an image in Jy per pixel.

:func:`catalog_columns` runs the detection and the aperture photometry of
:mod:`builtin_steps.source_catalog.photometry` and assembles, per source:
``label``, ``xcentroid``, ``ycentroid``; the local sky ``aper_bkg_flux`` and its
error; ``aper<ee>_flux`` for the three apertures and ``aper_total_flux`` (the
largest aperture's flux times its aperture correction), each with ``_err``; the
same as AB (``_abmag``) and Vega (``_vegamag`` = AB minus the offset) magnitudes;
the concentration indices ``CI_<b>_<a>`` (flux ratios of the apertures),
``is_extended`` (both CI above their star thresholds), ``nn_label``,
``nn_dist``; the isophotal flux and magnitudes and the segment's shape.
Nothing here knows about data models.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps.source_catalog.photometry import (
    ab_mag,
    aperture_fluxes,
    detect,
    local_background,
    nearest_neighbours,
)
from builtin_steps.source_catalog.references import ApertureParams

__all__ = ["catalog_columns"]

_SHAPE = ("isophotal_area", "semimajor_sigma", "semiminor_sigma", "ellipticity", "orientation")


def _magnitudes(columns: dict[str, np.ndarray], stems: list[str], offset: float) -> None:
    for kind, shift in (("abmag", 0.0), ("vegamag", offset)):
        for stem in stems:
            mag, mag_err = ab_mag(columns[f"{stem}_flux"], columns[f"{stem}_flux_err"])
            columns[f"{stem}_{kind}"] = mag - shift
            columns[f"{stem}_{kind}_err"] = mag_err


def catalog_columns(data: np.ndarray, err: np.ndarray, coverage: np.ndarray, apertures: ApertureParams,
                    abvega_offset: float, ci_thresholds: tuple[float, float],
                    pars: Any) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Detect the sources of an image and return the catalog columns and segmentation map.

    Parameters
    ----------
    data, err : numpy.ndarray
        The image and its error, Jy per pixel (NaN where unusable).
    coverage : numpy.ndarray
        True where the image has no data.
    apertures : ApertureParams
        Radii (pixels of this image), corrections and sky annulus.
    abvega_offset : float
        AB minus Vega magnitude of the filter.
    ci_thresholds : (float, float)
        Star thresholds of the first two concentration indices.
    pars : object
        Detection parameters (see :func:`~builtin_steps.source_catalog.photometry.detect`).

    Returns
    -------
    (dict, numpy.ndarray or None)
        Column name -> values (fluxes in Jy, positions in pixels, 0-based), in
        the catalog's order, and the segmentation image; ``({}, None)`` when no
        source is found.
    """
    found, segm = detect(data, err, coverage, pars)
    if segm is None or not len(found.get("label", ())):
        return {}, None
    x, y = found["xcentroid"], found["ycentroid"]
    positions = np.column_stack([x, y])
    positions[~np.isfinite(positions)] = -1000.0  # off the image: NaN fluxes, as the JWST catalog
    sky, sky_err = local_background(data, positions, apertures.bkg_inner, apertures.bkg_outer)
    columns: dict[str, np.ndarray] = {"label": found["label"], "xcentroid": x, "ycentroid": y,
                                      "aper_bkg_flux": sky, "aper_bkg_flux_err": sky_err}
    stems = []
    for ee, (flux, flux_err) in zip(apertures.ee, aperture_fluxes(data, err, positions, np.array(apertures.radii),
                                                                  sky)):
        columns[f"aper{ee}_flux"], columns[f"aper{ee}_flux_err"] = flux, flux_err
        stems.append(f"aper{ee}")
    last = stems[-1]
    columns["aper_total_flux"] = columns[f"{last}_flux"] * apertures.corrections[-1]
    columns["aper_total_flux_err"] = columns[f"{last}_flux_err"] * apertures.corrections[-1]
    stems.append("aper_total")
    _magnitudes(columns, stems, abvega_offset)
    fluxes = [columns[f"{s}_flux"] for s in stems[:3]]
    with np.errstate(divide="ignore", invalid="ignore"):
        ci = [fluxes[b] / fluxes[a] for a, b in ((0, 1), (1, 2), (0, 2))]
    for (a, b), value in zip(((0, 1), (1, 2), (0, 2)), ci):
        columns[f"CI_{apertures.ee[b]}_{apertures.ee[a]}"] = value
    with np.errstate(invalid="ignore"):
        columns["is_extended"] = (ci[0] > ci_thresholds[0]) & (ci[1] > ci_thresholds[1])
    columns["nn_label"], columns["nn_dist"] = nearest_neighbours(x, y, found["label"])
    columns["isophotal_flux"] = found["isophotal_flux"]
    columns["isophotal_flux_err"] = found["isophotal_flux_err"]
    _magnitudes(columns, ["isophotal"], abvega_offset)  # isophotal_abmag, ..._vegamag
    for name in _SHAPE:
        columns[name] = found[name]
    return columns, segm
