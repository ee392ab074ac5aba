"""Write the imaging reference files of the embedded set in the JWST layouts.

* ``distortion`` and ``filteroffset``: ASDF files as the JWST ``DistortionModel``
  (``model``: an astropy-modeling transform from detector pixels to V2/V3 in
  arcsec; ``meta.input_units`` / ``output_units``) and ``FilteroffsetModel``
  (``filters``: a list of ``{filter, pupil, column_offset, row_offset}``);
* ``flat``: FITS, ``FlatModel`` (``SCI``, ``ERR``, ``DQ``, ``DQ_DEF``);
* ``area``: FITS, ``PixelAreaModel`` (``SCI``; ``PIXAR_SR``, ``PIXAR_A2``);
* ``photom``: FITS, ``NrcImgPhotomModel`` / ``NisImgPhotomModel`` /
  ``MirImgPhotomModel`` (the ``PHOTOM`` table; ``PIXAR_SR``, ``PIXAR_A2``).

:func:`flat_truth` and :func:`photmjsr` are the synthetic values the files hold,
deterministic functions of the detector, filter and pixel position (a subarray
file is the cut-out of the full-frame truth), so tests and the demo can compute
what the files contain.
"""

from __future__ import annotations

import datetime
import os
import re
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np
from astropy.io import fits

from builtin_steps.refdata.siaf import ARCSEC2_TO_SR, aperture, distortion_transform, ideal_pixel_area

if TYPE_CHECKING:  # pragma: no cover
    from builtin_steps.refdata.imaging import PixelReadout

__all__ = [
    "flat_truth",
    "photmjsr",
    "filter_wavelength",
    "primary_hdu",
    "write_distortion",
    "write_filteroffset",
    "write_flat",
    "write_area",
    "write_photom",
]

_AUTHOR = "steppe refdata"
_DO_NOT_USE = 1
_NO_FLAT_FIELD = 1 << 18
_BLOCK_ROWS = 16
_WIDTH = 2048
_PHOTOM_MODELS = {"NIRCAM": "NrcImgPhotomModel", "NIRISS": "NisImgPhotomModel", "MIRI": "MirImgPhotomModel"}
_EXP_TYPES = {"NIRCAM": "NRC_IMAGE|NRC_TSIMAGE|", "NIRISS": "NIS_IMAGE|", "MIRI": "MIR_IMAGE|"}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _uniform(key: str, rows: slice, cols: slice) -> np.ndarray:
    """Uniform [0, 1) numbers for a full-frame region, from per-block seeds."""
    first, last = rows.start // _BLOCK_ROWS, (rows.stop - 1) // _BLOCK_ROWS
    strip = np.concatenate(
        [
            np.random.default_rng(zlib.crc32(f"{key}/{b}".encode())).random((_BLOCK_ROWS, _WIDTH))
            for b in range(first, last + 1)
        ]
    )
    offset = first * _BLOCK_ROWS
    return strip[rows.start - offset : rows.stop - offset, cols]


def flat_truth(
    instrument: str, detector: str, filt: str, rows: slice, cols: slice
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the synthetic flat of a full-frame region: (flat, err, dq).

    The response is 1 plus a smooth structure of a few per cent (depending on
    the filter) times 0.5 % pixel-to-pixel scatter. About 2 pixels in 10000 are
    unusable: a third are NaN, a third zero, a third finite but flagged
    ``NO_FLAT_FIELD``.

    Parameters
    ----------
    instrument, detector, filt : str
        Upper-case names.
    rows, cols : slice
        The full-frame region (0-based, step 1).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Flat (float32), its uncertainty (float32, 0.3 % of the flat) and DQ (uint32).
    """
    key = f"{instrument}/{detector}/flat/{filt}"
    y, x = np.mgrid[rows, cols].astype(np.float64) / _WIDTH
    phase = (zlib.crc32(key.encode()) % 1000) / 1000.0 * 2 * np.pi
    smooth = 1.0 + 0.03 * np.cos(2.1 * x + phase) * np.sin(1.7 * y + 0.5) - 0.02 * ((x - 0.5) ** 2 + (y - 0.5) ** 2)
    pixels = 1.0 + 0.005 * (_uniform(key + "/pix", rows, cols) - 0.5) * np.sqrt(12.0)
    flat = (smooth * pixels).astype(np.float32)
    err = (0.003 * flat).astype(np.float32)
    dq = np.zeros(flat.shape, np.uint32)
    draw = _uniform(key + "/bad", rows, cols)
    nan, zero, flagged = draw < 7e-5, (draw >= 7e-5) & (draw < 1.4e-4), (draw >= 1.4e-4) & (draw < 2e-4)
    flat[nan] = np.nan
    dq[nan] |= _NO_FLAT_FIELD
    flat[zero] = 0.0
    dq[flagged] |= _NO_FLAT_FIELD | _DO_NOT_USE
    return flat, err, dq


def photmjsr(filt: str, pupil: str | None) -> float:
    """Return the synthetic conversion of a filter, in (MJy/sr) / (DN/s).

    Parameters
    ----------
    filt, pupil : str
        FILTER and PUPIL (NIRISS images through CLEAR and a pupil-wheel filter).

    Returns
    -------
    float
        ``0.2 * sqrt(wavelength / 2 micron)``, the wavelength read from the
        filter name (``F200W`` -> 2.00 micron).
    """
    return round(0.2 * float(np.sqrt(filter_wavelength(filt, pupil) / 2.0)), 6)


def filter_wavelength(filt: str, pupil: str | None) -> float:
    """Return the pivot wavelength (microns) read from the filter name.

    ``F200W`` -> 2.00, ``F1000W`` -> 10.0; NIRISS images through ``CLEAR`` use
    the pupil-wheel filter; 2.0 when no name gives a wavelength.
    """
    name = filt if filt.upper().startswith("F") else (pupil or "")
    digits = re.match(r"F(\d+)", name.upper())
    return int(digits.group(1)) / 100.0 if digits else 2.0


def _asdf_meta(reftype: str, model_type: str, instrument: str, detector: str, useafter: str,
               description: str, path: str) -> dict[str, Any]:
    ap = aperture(instrument, detector)
    inst: dict[str, Any] = {"name": instrument, "detector": detector}
    if ap.module:
        inst.update(module=ap.module, channel=ap.channel, p_pupil="CLEAR|F162M|F164N|GDHS0|GDHS60|WLM8|WLP8|PINHOLES|MASKIPR|FLAT|")
    return {
        "author": _AUTHOR,
        "date": _now(),
        "description": description,
        "exposure": {"p_exptype": _EXP_TYPES[instrument], "type": _EXP_TYPES[instrument].split("|")[0]},
        "filename": os.path.basename(path),
        "instrument": inst,
        "model_type": model_type,
        "origin": "steppe",
        "pedigree": "GROUND",
        "reftype": reftype.upper(),
        "subarray": {"name": "GENERIC"},
        "telescope": "JWST",
        "useafter": useafter.replace(" ", "T"),
    }


def write_distortion(path: str, instrument: str, detector: str, useafter: str) -> None:
    """Write a ``distortion`` file (ASDF, JWST ``DistortionModel`` layout).

    Parameters
    ----------
    path : str
        Destination (``.asdf``).
    instrument, detector : str
        Upper-case names.
    useafter : str
        CRDS use-after date, ``"YYYY-MM-DD hh:mm:ss"``.
    """
    import asdf

    ap = aperture(instrument, detector)
    meta = _asdf_meta(
        "distortion", "DistortionModel", instrument, detector, useafter,
        f"Imaging distortion of {ap.name} (detector pixels to V2/V3) from the SIAF coefficients "
        "shipped with pysiaf", path,
    )
    meta.update(input_units="pixel", output_units="arcsec")
    asdf.AsdfFile({"meta": meta, "model": distortion_transform(instrument, detector)}).write_to(path)


def write_filteroffset(
    path: str, instrument: str, detector: str, filters: tuple[tuple[str, str | None], ...], useafter: str
) -> None:
    """Write a ``filteroffset`` file (ASDF, JWST ``FilteroffsetModel``), all offsets zero.

    Parameters
    ----------
    path : str
        Destination (``.asdf``).
    instrument, detector : str
        Upper-case names.
    filters : tuple of (str, str or None)
        (FILTER, PUPIL) pairs; a None pupil leaves the key out (MIRI).
    useafter : str
        CRDS use-after date.
    """
    import asdf

    rows = []
    for filt, pupil in filters:
        row: dict[str, Any] = {"filter": filt}
        if pupil is not None:
            row["pupil"] = pupil
        row.update(column_offset=0.0, row_offset=0.0)
        rows.append(row)
    meta = _asdf_meta(
        "filteroffset", "FilteroffsetModel", instrument, detector, useafter,
        "Filter-dependent pointing offsets in pixels (zero in this set)", path,
    )
    meta["input_units"] = "pixel"
    asdf.AsdfFile({"meta": meta, "filters": rows}).write_to(path)


def primary_hdu(reftype: str, model_type: str, instrument: str, detector: str | None, useafter: str,
                description: str, path: str, readout: Any = None) -> fits.PrimaryHDU:
    """Return the primary HDU of a synthetic reference file: the keywords CRDS and the models read.

    ``detector`` None leaves ``DETECTOR`` out (a file for every detector of the
    instrument); ``readout`` adds the subarray keywords.
    """
    hdr = fits.Header()
    hdr["DATE"] = (_now(), "Date this file was created (UTC)")
    hdr["FILENAME"] = (os.path.basename(path), "Name of the file")
    hdr["DATAMODL"] = (model_type, "Type of data model")
    hdr["TELESCOP"] = ("JWST", "Telescope used to acquire the data")
    hdr["REFTYPE"] = (reftype.upper(), "Reference file type")
    hdr["PEDIGREE"] = ("DUMMY", "The pedigree of the reference file")
    hdr["DESCRIP"] = (description, "Description")
    hdr["AUTHOR"] = (_AUTHOR, "Author of the reference file")
    hdr["USEAFTER"] = (useafter.replace(" ", "T"), "Use after date of the reference file")
    hdr["INSTRUME"] = (instrument, "Instrument used to acquire the data")
    if detector is not None:
        hdr["DETECTOR"] = (detector, "Name of detector used to acquire the data")
    hdr["EXP_TYPE"] = (_EXP_TYPES[instrument].split("|")[0], "Type of data in the exposure")
    hdr["P_EXP_TY"] = (_EXP_TYPES[instrument], "Exposure types the file applies to")
    if readout is not None:
        hdr["SUBARRAY"] = (readout.name, "Subarray used")
        hdr["SUBSTRT1"] = (readout.xstart, "Starting pixel in axis 1 direction")
        hdr["SUBSTRT2"] = (readout.ystart, "Starting pixel in axis 2 direction")
        hdr["SUBSIZE1"] = (readout.xsize, "Number of pixels in axis 1 direction")
        hdr["SUBSIZE2"] = (readout.ysize, "Number of pixels in axis 2 direction")
    return fits.PrimaryHDU(header=hdr)


def _dq_def() -> fits.BinTableHDU:
    names = ["DO_NOT_USE", "NO_FLAT_FIELD"]
    bits = np.array([0, 18], np.int32)
    columns = [
        fits.Column("BIT", "J", array=bits),
        fits.Column("VALUE", "J", array=(np.uint32(1) << bits.astype(np.uint32)), bzero=2**31),
        fits.Column("NAME", "40A", array=np.array(names)),
        fits.Column("DESCRIPTION", "80A", array=np.array(["Bad pixel. Do not use.", "Flat field cannot be measured"])),
    ]
    return fits.BinTableHDU.from_columns(columns, name="DQ_DEF")


def write_flat(path: str, item: PixelReadout, filt: str, pupil: str | None, useafter: str) -> None:
    """Write a synthetic ``flat`` file (FITS, JWST ``FlatModel``) for one readout and filter.

    Parameters
    ----------
    path : str
        Destination (``.fits``).
    item : PixelReadout
        Instrument, detector and readout region.
    filt, pupil : str
        FILTER and PUPIL (None: no PUPIL keyword).
    useafter : str
        CRDS use-after date.
    """
    flat, err, dq = flat_truth(item.instrument, item.detector, filt, *item.readout.slices)
    primary = primary_hdu(
        "flat", "FlatModel", item.instrument, item.detector, useafter,
        f"synthetic imaging flat, {filt}", path, item.readout,
    )
    primary.header["FILTER"] = (filt, "Name of the filter element used")
    if pupil is not None:
        primary.header["PUPIL"] = (pupil, "Name of the pupil element used")
    hdus = [
        primary,
        fits.ImageHDU(flat, name="SCI"),
        fits.ImageHDU(err, name="ERR"),
        fits.ImageHDU(dq, name="DQ"),
        _dq_def(),
    ]
    fits.HDUList(hdus).writeto(path)


def _nominal_area(instrument: str, detector: str) -> tuple[float, float]:
    """(PIXAR_SR, PIXAR_A2) of a detector: its pixel area at the aperture's reference point."""
    _, nominal = ideal_pixel_area(instrument, detector, slice(0, 1), slice(0, 1))
    return nominal * ARCSEC2_TO_SR, nominal


def _area_keywords(header: fits.Header, instrument: str, detector: str) -> None:
    steradians, arcsec2 = _nominal_area(instrument, detector)
    header["PIXAR_SR"] = (steradians, "Nominal pixel area in steradians")
    header["PIXAR_A2"] = (arcsec2, "Nominal pixel area in arcsec^2")


def write_area(path: str, instrument: str, detector: str, readout: Any, useafter: str) -> None:
    """Write an ``area`` file (FITS, ``PixelAreaModel``): the SIAF pixel areas of a readout.

    Parameters
    ----------
    path : str
        Destination (``.fits``).
    instrument, detector : str
        Upper-case names.
    readout : Subarray
        The region covered (the full frame in the embedded set).
    useafter : str
        CRDS use-after date.
    """
    area, _ = ideal_pixel_area(instrument, detector, *readout.slices)
    primary = primary_hdu(
        "area", "PixelAreaModel", instrument, detector, useafter,
        "relative pixel area from the SIAF distortion", path, readout,
    )
    _area_keywords(primary.header, instrument, detector)
    fits.HDUList([primary, fits.ImageHDU(area, name="SCI")]).writeto(path)


def write_photom(
    path: str,
    instrument: str,
    detector: str,
    filters: tuple[tuple[str, str | None], ...],
    subarrays: list[str],
    useafter: str,
) -> None:
    """Write a synthetic imaging ``photom`` table (FITS) of a detector.

    Parameters
    ----------
    path : str
        Destination (``.fits``).
    instrument, detector : str
        Upper-case names.
    filters : tuple of (str, str or None)
        One row per (FILTER, PUPIL); for MIRI one row per filter and subarray
        (``subarrays`` and ``GENERIC``) instead of a pupil column.
    subarrays : list of str
        MIRI subarrays with rows.
    useafter : str
        CRDS use-after date.
    """
    if instrument == "MIRI":
        rows = [(f, s) for f, _ in filters for s in (*subarrays, "GENERIC")]
        columns = [
            fits.Column("filter", "12A", array=np.array([f for f, _ in rows])),
            fits.Column("subarray", "15A", array=np.array([s for _, s in rows])),
        ]
        values = [photmjsr(f, None) for f, _ in rows]
    else:
        columns = [
            fits.Column("filter", "12A", array=np.array([f for f, _ in filters])),
            fits.Column("pupil", "15A", array=np.array([p or "N/A" for _, p in filters])),
        ]
        values = [photmjsr(f, p) for f, p in filters]
    columns += [
        fits.Column("photmjsr", "E", array=np.array(values, np.float32)),
        fits.Column("uncertainty", "E", array=np.array(values, np.float32) * np.float32(0.01)),
    ]
    primary = primary_hdu(
        "photom", _PHOTOM_MODELS[instrument], instrument, detector, useafter,
        "synthetic imaging photometric conversions", path,
    )
    _area_keywords(primary.header, instrument, detector)
    table = fits.BinTableHDU.from_columns(columns, name="PHOTOM")
    fits.HDUList([primary, table]).writeto(path)
