"""Write the source-catalog references of the embedded set in the JWST layouts.

* ``apcorr``: FITS, ``NrcImgApcorrModel`` / ``NisImgApcorrModel`` /
  ``MirImgApcorrModel``: the ``APCORR`` table, one row per imaging configuration
  (``filter`` and ``pupil``; MIRI: ``filter`` and ``subarray``) and
  encircled-energy fraction (:data:`EE_FRACTIONS`), with the aperture ``radius``
  (detector pixels), the aperture correction ``apcorr`` and the sky annulus
  ``skyin``/``skyout``;
* ``abvegaoffset``: ASDF, ``ABVegaOffsetModel``: the ``abvega_offset`` table
  (``filter``, ``pupil`` (not MIRI), ``abvega_offset`` = AB minus Vega magnitude).

The values are synthetic but right for the demo and test scenes: the radii and
corrections are those of their stars in a resampled image
(:mod:`builtin_steps.refdata.psf`), the same for every filter since the scenes
use one profile. The AB-Vega offsets follow a smooth law of the filter's
wavelength (:func:`abvega_offset`), close to the real ones.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from astropy.io import fits

from builtin_steps.refdata.imaging_files import _EXP_TYPES, _now, filter_wavelength, primary_hdu
from builtin_steps.refdata.psf import aperture_correction, ee_radius

__all__ = ["EE_FRACTIONS", "SKY_IN", "SKY_OUT", "abvega_offset", "apcorr_rows", "write_apcorr",
           "write_abvegaoffset"]

#: Encircled-energy fractions with rows in the ``apcorr`` files (as the JWST files: 20 % to 80 %).
EE_FRACTIONS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
#: Sky annulus, detector pixels (beyond 4.5 sigma of the star, inside the scenes' star spacing).
SKY_IN, SKY_OUT = 6.0, 10.0

_APCORR_MODELS = {"NIRCAM": "NrcImgApcorrModel", "NIRISS": "NisImgApcorrModel", "MIRI": "MirImgApcorrModel"}
_VEGA_2UM_JY = 700.0  # Vega's flux density at 2 microns


def abvega_offset(filt: str, pupil: str | None) -> float:
    """Return the synthetic AB minus Vega magnitude of a filter.

    Vega's flux density is taken as 700 Jy at 2 microns, a power law of the
    wavelength of index -1.4 below and -1.75 above, so the offset
    ``2.5 log10(3631 Jy / F_Vega)`` is 0.19 at 0.7 microns, 1.79 at 2, 3.3 at
    4.4 and 4.4 at 7.7 (near the real ones).

    Parameters
    ----------
    filt, pupil : str
        FILTER and PUPIL (NIRISS images through CLEAR and a pupil-wheel filter).

    Returns
    -------
    float
        ``m_AB - m_Vega``, rounded to 1e-5.
    """
    wavelength = filter_wavelength(filt, pupil)
    vega_jy = _VEGA_2UM_JY * (2.0 / wavelength) ** (1.4 if wavelength < 2.0 else 1.75)
    return round(2.5 * float(np.log10(3631.0 / vega_jy)), 5)


def apcorr_rows() -> list[tuple[float, float, float, float, float]]:
    """Return ``(eefraction, radius, apcorr, skyin, skyout)`` for each of :data:`EE_FRACTIONS`."""
    radii = ee_radius(np.array(EE_FRACTIONS))
    return [(ee, float(r), aperture_correction(float(r), SKY_IN, SKY_OUT), SKY_IN, SKY_OUT)
            for ee, r in zip(EE_FRACTIONS, radii)]


def write_apcorr(path: str, instrument: str, filters: tuple[tuple[str, str | None], ...],
                 subarrays: tuple[str, ...], useafter: str) -> None:
    """Write an imaging ``apcorr`` file (FITS, the ``APCORR`` table) for an instrument.

    Parameters
    ----------
    path : str
        Destination (``.fits``).
    instrument : str
        ``NIRCAM``, ``NIRISS`` or ``MIRI``.
    filters : tuple of (str, str or None)
        The (FILTER, PUPIL) pairs; MIRI's pupil is None and its rows are per
        subarray instead.
    subarrays : tuple of str
        MIRI: the subarrays with rows (``FULL`` and the imager subarrays).
    useafter : str
        CRDS use-after date.
    """
    rows = apcorr_rows()
    selectors = [(f, s) for f, _ in filters for s in subarrays] if instrument == "MIRI" else \
        [(f, p or "N/A") for f, p in filters]
    table = [(a, b, *row) for a, b in selectors for row in rows]
    second = ("subarray", "17A") if instrument == "MIRI" else ("pupil", "15A")
    columns = [fits.Column("filter", "12A", array=np.array([r[0] for r in table])),
               fits.Column(second[0], second[1], array=np.array([r[1] for r in table]))]
    for index, name in enumerate(("eefraction", "radius", "apcorr", "skyin", "skyout"), start=2):
        columns.append(fits.Column(name, "E", array=np.array([r[index] for r in table], np.float32)))
    primary = primary_hdu("apcorr", _APCORR_MODELS[instrument], instrument, None, useafter,
                          "synthetic apertures of the demo stars", path)
    fits.HDUList([primary, fits.BinTableHDU.from_columns(columns, name="APCORR")]).writeto(path)


def write_abvegaoffset(path: str, instrument: str, filters: tuple[tuple[str, str | None], ...],
                       useafter: str) -> None:
    """Write an ``abvegaoffset`` file (ASDF, ``ABVegaOffsetModel``) for an instrument.

    Parameters
    ----------
    path : str
        Destination (``.asdf``).
    instrument : str
        ``NIRCAM``, ``NIRISS`` or ``MIRI`` (no ``pupil`` column).
    filters : tuple of (str, str or None)
        The (FILTER, PUPIL) pairs.
    useafter : str
        CRDS use-after date.
    """
    import asdf
    from astropy.table import Table

    columns: dict[str, Any] = {"filter": [f for f, _ in filters]}
    if instrument != "MIRI":
        columns["pupil"] = [p or "N/A" for _, p in filters]
    columns["abvega_offset"] = np.array([abvega_offset(f, p) for f, p in filters], np.float32)
    meta = {
        "author": "steppe refdata", "date": _now(), "description": "synthetic AB - Vega magnitude offsets",
        "exposure": {"p_exptype": _EXP_TYPES[instrument], "type": _EXP_TYPES[instrument].split("|")[0]},
        "filename": os.path.basename(path), "instrument": {"name": instrument},
        "model_type": "ABVegaOffsetModel", "origin": "steppe", "pedigree": "DUMMY",
        "reftype": "ABVEGAOFFSET", "telescope": "JWST", "useafter": useafter.replace(" ", "T"),
    }
    asdf.AsdfFile({"meta": meta, "abvega_offset": Table(columns)}).write_to(path)
