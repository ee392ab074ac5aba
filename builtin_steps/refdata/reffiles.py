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

from builtin_steps.refdata import irs2
from builtin_steps.refdata.detector import DetectorTruth
from builtin_steps.refdata.plan import Subarray

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
_FAST_SLOW = {
    "NRCA": (-1, 2), "NRCB": (1, -2), "NIS": (-2, -1), "MIR": (1, 2), "NRS1": (2, 1), "NRS2": (-2, -1),
}  # fmt: skip
# Bias of the IRS2 interleaved reference pixels and reference output (DN).
_IRS2_REFERENCE_BIAS = 12000.0


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
    if readout.irs2:
        dq = irs2.expand(dq, truth.detector, _flag("REFERENCE_PIXEL"))
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
    bias = truth.bias
    if readout.irs2:
        bias = irs2.expand(bias, truth.detector, irs2_reference_bias(truth.detector))
    err = np.full(bias.shape, 1.0, np.float32)
    hdus = [
        _image(bias, "SCI", unit="DN"),
        _image(np.zeros(bias.shape, np.uint32), "DQ"),
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
    model = "DarkNirspecModel" if truth.instrument == "NIRSPEC" else "DarkModel"
    if readout.dark_ints:
        # MIRI darks hold every group of several integrations, DQ included (4-D)
        cube = np.broadcast_to(cube, (readout.dark_ints, *cube.shape))
        dq = np.broadcast_to(dq, cube.shape)
        model = "DarkMIRIModel"
    hdus = [
        _image(np.ascontiguousarray(cube), "SCI", unit="DN"),
        _image(np.ascontiguousarray(dq), "DQ"),
        _dq_def(),
    ]
    return model, "synthetic dark (noise-free)", hdus


def _reset(truth: DetectorTruth, readout: Subarray, scale: float) -> _Written:
    data = truth.reset_anomaly(readout.dark_ints, readout.dark_frames)
    hdus = [
        _image(data, "SCI", unit="DN"),
        _image(np.zeros(truth.shape, np.uint32), "DQ"),
        _dq_def(),
    ]
    return "ResetModel", "synthetic MIRI reset anomaly (DN per group)", hdus


def _pictureframe(truth: DetectorTruth, readout: Subarray, scale: float) -> _Written:
    # thermal glow of the detector frame: a rate that rises towards the edges (DN/s)
    ny, nx = truth.full_shape
    edge = np.minimum(np.minimum(truth.y, ny - 1 - truth.y), np.minimum(truth.x, nx - 1 - truth.x))
    rate = 0.002 + 0.01 * np.exp(-edge / 60.0)
    rate = np.broadcast_to(rate, truth.shape).astype(np.float32)
    return "PictureFrameModel", "synthetic picture-frame rate (DN/s)", [_image(rate, "SCI", unit="DN/s")]


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
    "reset": _reset,
    "pictureframe": _pictureframe,
}


def irs2_reference_bias(detector: str) -> np.ndarray:
    """Bias of the IRS2 reference rows (interleaved pixels and reference output), DN.

    Parameters
    ----------
    detector : str
        ``"NRS1"`` or ``"NRS2"``.

    Returns
    -------
    numpy.ndarray
        ``(1152, 2048)`` float32: a level per detector with a small column structure.
    """
    rows = int((~irs2.normal_rows(detector)).sum())
    offset = 80.0 if detector.upper() == "NRS2" else 0.0
    columns = 5.0 * np.sin(np.arange(2048) / 97.0)
    return np.broadcast_to(_IRS2_REFERENCE_BIAS + offset + columns, (rows, 2048)).astype(np.float32)


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
        A key of :data:`WRITERS`: ``mask``, ``saturation``, ``superbias``,
        ``linearity``, ``dark``, ``gain``, ``readnoise``, ``reset``, ``pictureframe``.
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
    readpatt = readout.readpatts[0] if readout.readpatts else "ANY"
    if reftype in ("dark", "reset"):
        if reftype == "dark" and not readout.readpatts:
            readpatt = {"NIRCAM": "RAPID", "NIRISS": "NISRAPID", "NIRSPEC": "NRSRAPID"}.get(
                truth.instrument, "FAST"
            )
        primary.header["READPATT"] = (readpatt, "Readout pattern")
        primary.header["NFRAMES"] = (1, "Number of frames per group")
        primary.header["NGROUPS"] = (readout.dark_frames, "Number of groups in integration")
        primary.header["GROUPGAP"] = (0, "Number of frames dropped between groups")
        if readout.dark_ints:
            primary.header["NINTS"] = (readout.dark_ints, "Number of integrations in exposure")
    elif reftype in ("superbias", "readnoise", "mask"):
        primary.header["READPATT"] = (readpatt, "Readout pattern")
    fits.HDUList([primary, *hdus]).writeto(path)
