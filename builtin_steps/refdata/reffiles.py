"""Write synthetic calibration reference files in the JWST FITS layout.

Each writer takes a :class:`~builtin_steps.refdata.detector.DetectorTruth` for
the readout region and writes one file with the extensions, data types and
primary-header keywords of the JWST reference file of that type (``DATAMODL``,
``REFTYPE``, ``USEAFTER``, ``INSTRUME``, ``DETECTOR``, ``SUBARRAY``,
``SUBSTRT1/2``, ``SUBSIZE1/2``, ...), so that JWST tools and steppe read them
alike.

Arrays are stored uncompressed, float32 and uint32 as in the JWST files, so any
FITS reader opens them; a full-frame set takes about 400 MB.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable

import numpy as np
from astropy.io import fits

from builtin_steps.refdata.detector import DetectorTruth
from builtin_steps.refdata.layout import Subarray

__all__ = ["WRITERS", "DQ_FLAGS", "write_reference_file"]

# JWST pixel DQ bits used by the synthetic set: name -> (bit, description).
DQ_FLAGS: dict[str, tuple[int, str]] = {
    "DO_NOT_USE": (0, "Bad pixel. Do not use."),
    "SATURATED": (1, "Pixel saturated during exposure"),
    "DEAD": (10, "Dead pixel"),
    "HOT": (11, "Hot pixel"),
    "WARM": (12, "Warm pixel"),
    "NO_LIN_CORR": (20, "Linearity correction not available"),
    "NO_SAT_CHECK": (21, "Saturation check not available"),
    "REFERENCE_PIXEL": (31, "Pixel is a reference pixel"),
}

_AUTHOR = "steppe refdata (synthetic)"
# What a writer returns: DATAMODL, DESCRIP and the extensions.
_Written = tuple[str, str, list[fits.ImageHDU | fits.BinTableHDU]]
_FAST_SLOW = {"NRCA": (-1, 2), "NRCB": (1, -2), "NIS": (-2, -1)}


def _flag(name: str) -> int:
    return 1 << DQ_FLAGS[name][0]


def _dq_def() -> fits.BinTableHDU:
    names = list(DQ_FLAGS)
    bits = np.array([DQ_FLAGS[n][0] for n in names], np.int32)
    columns = [
        fits.Column("BIT", "J", array=bits),
        fits.Column("VALUE", "J", array=(np.uint32(1) << bits.astype(np.uint32)), bzero=2**31),
        fits.Column("NAME", "40A", array=np.array(names)),
        fits.Column("DESCRIPTION", "80A", array=np.array([DQ_FLAGS[n][1] for n in names])),
    ]
    return fits.BinTableHDU.from_columns(columns, name="DQ_DEF")


def _image(data: np.ndarray, name: str, *, unit: str | None = None) -> fits.ImageHDU:
    """One image extension, with its unit."""
    hdu = fits.ImageHDU(data, name=name)
    if unit is not None:
        hdu.header["BUNIT"] = (unit, "physical units of the array values")
    return hdu


def _primary(
    reftype: str,
    datamodel: str,
    description: str,
    truth: DetectorTruth,
    readout: Subarray,
    useafter: str,
    filename: str,
) -> fits.PrimaryHDU:
    hdr = fits.Header()
    hdr["DATE"] = (
        datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "Date this file was created (UTC)",
    )
    hdr["FILENAME"] = (filename, "Name of the file")
    hdr["DATAMODL"] = (datamodel, "Type of data model")
    hdr["TELESCOP"] = ("JWST", "Telescope used to acquire the data")
    hdr["REFTYPE"] = (reftype.upper(), "Reference file type")
    hdr["PEDIGREE"] = ("DUMMY", "The pedigree of the reference file")
    hdr["DESCRIP"] = (description, "Description")
    hdr["AUTHOR"] = (_AUTHOR, "Author of the reference file")
    hdr["USEAFTER"] = (useafter.replace(" ", "T"), "Use after date of the reference file")
    hdr["INSTRUME"] = (truth.instrument, "Instrument used to acquire the data")
    hdr["DETECTOR"] = (truth.detector, "Name of detector used to acquire the data")
    hdr["SUBARRAY"] = (readout.name, "Subarray used")
    hdr["SUBSTRT1"] = (readout.xstart, "Starting pixel in axis 1 direction")
    hdr["SUBSTRT2"] = (readout.ystart, "Starting pixel in axis 2 direction")
    hdr["SUBSIZE1"] = (readout.xsize, "Number of pixels in axis 1 direction")
    hdr["SUBSIZE2"] = (readout.ysize, "Number of pixels in axis 2 direction")
    fast, slow = next(v for k, v in _FAST_SLOW.items() if truth.detector.startswith(k))
    hdr["FASTAXIS"] = (fast, "Fast readout axis direction")
    hdr["SLOWAXIS"] = (slow, "Slow readout axis direction")
    return fits.PrimaryHDU(header=hdr)


def _mask(truth: DetectorTruth, readout: Subarray, scale: float) -> _Written:
    dq = np.zeros(truth.shape, np.uint32)
    dq[truth.reference_pixels] |= _flag("REFERENCE_PIXEL")
    dq[truth.dead] |= _flag("DEAD") | _flag("DO_NOT_USE")
    dq[truth.hot] |= _flag("HOT")
    return "MaskModel", "synthetic bad-pixel mask", [_image(dq, "DQ"), _dq_def()]


def _saturation(truth: DetectorTruth, readout: Subarray, scale: float) -> _Written:
    dq = np.zeros(truth.shape, np.uint32)
    dq[truth.reference_pixels] |= _flag("NO_SAT_CHECK")
    hdus = [
        _image(truth.saturation, "SCI", unit="DN"),
        _image(dq, "DQ"),
        _dq_def(),
    ]
    return "SaturationModel", "synthetic saturation (raw DN)", hdus


def _superbias(truth: DetectorTruth, readout: Subarray, scale: float) -> _Written:
    err = np.full(truth.shape, 1.0, np.float32)
    hdus = [
        _image(truth.bias, "SCI", unit="DN"),
        _image(np.zeros(truth.shape, np.uint32), "DQ"),
        _image(err, "ERR", unit="DN"),
        _dq_def(),
    ]
    return "SuperBiasModel", "synthetic superbias", hdus


def _linearity(truth: DetectorTruth, readout: Subarray, scale: float) -> _Written:
    dq = np.zeros(truth.shape, np.uint32)
    dq[truth.dead] |= _flag("NO_LIN_CORR")
    hdus = [_image(truth.linearity, "COEFFS"), _image(dq, "DQ"), _dq_def()]
    return "LinearityModel", "synthetic linearity (polynomial correction)", hdus


def _dark(truth: DetectorTruth, readout: Subarray, scale: float) -> _Written:
    times = readout.frame_time * np.arange(1, readout.dark_frames + 1, dtype=np.float32)
    cube = (times[:, None, None] * truth.dark_signal_rate[None]).astype(np.float32)
    dq = np.zeros(truth.shape, np.uint32)
    dq[truth.hot] |= _flag("HOT")
    dq[truth.warm] |= _flag("WARM")
    hdus = [
        _image(cube, "SCI", unit="DN"),
        _image(dq, "DQ"),
        _dq_def(),
    ]
    return "DarkModel", "synthetic dark (noise-free)", hdus


def _gain(truth: DetectorTruth, readout: Subarray, scale: float) -> _Written:
    gain = (truth.gain * np.float32(scale)).astype(np.float32)
    return "GainModel", "synthetic gain (e-/DN)", [
        _image(gain, "SCI", unit="ELECTRONS/DN")
    ]


def _readnoise(truth: DetectorTruth, readout: Subarray, scale: float) -> _Written:
    noise = (truth.readnoise * np.float32(scale)).astype(np.float32)
    return "ReadnoiseModel", "synthetic read noise (CDS, DN)", [
        _image(noise, "SCI", unit="DN")
    ]


#: Reference type -> writer(truth, readout, scale) -> (DATAMODL, DESCRIP, HDUs).
WRITERS: dict[str, Callable[[DetectorTruth, Subarray, float], _Written]] = {
    "mask": _mask,
    "saturation": _saturation,
    "superbias": _superbias,
    "linearity": _linearity,
    "dark": _dark,
    "gain": _gain,
    "readnoise": _readnoise,
}


def write_reference_file(
    path: str,
    reftype: str,
    truth: DetectorTruth,
    readout: Subarray,
    useafter: str,
    *,
    scale: float = 1.0,
) -> None:
    """Write one synthetic reference file.

    Parameters
    ----------
    path : str
        Destination; its basename is recorded as ``FILENAME``.
    reftype : str
        One of ``mask``, ``saturation``, ``superbias``, ``linearity``, ``dark``,
        ``gain``, ``readnoise``.
    truth : DetectorTruth
        The detector maps for the region of ``readout``.
    readout : Subarray
        The readout the file is for (sets ``SUBARRAY``, ``SUBSTRT*``, ``SUBSIZE*``
        and, for darks, the frame time).
    useafter : str
        CRDS use-after date, ``"YYYY-MM-DD hh:mm:ss"``.
    scale : float, optional
        Multiplies the gain or read noise map (an updated calibration).

    Raises
    ------
    KeyError
        For a reference type without a writer.
    """
    datamodel, description, hdus = WRITERS[reftype](truth, readout, scale)
    primary = _primary(
        reftype, datamodel, description, truth, readout, useafter, os.path.basename(path)
    )
    if reftype == "dark":
        primary.header["READPATT"] = ("RAPID", "Readout pattern")
        primary.header["NFRAMES"] = (1, "Number of frames per group")
        primary.header["NGROUPS"] = (readout.dark_frames, "Number of groups in integration")
        primary.header["GROUPGAP"] = (0, "Number of frames dropped between groups")
    elif reftype in ("superbias", "readnoise"):
        primary.header["READPATT"] = ("ANY", "Readout pattern")
    fits.HDUList([primary, *hdus]).writeto(path)
