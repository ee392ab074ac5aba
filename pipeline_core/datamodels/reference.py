"""Reference-file models used by the detector-level calibration steps."""

from __future__ import annotations

from typing import Any

from pipeline_core.datamodels.base import ArraySpec, DataModel

__all__ = [
    "ReferenceFileModel",
    "MaskModel",
    "SaturationModel",
    "SuperBiasModel",
    "LinearityModel",
    "DarkModel",
    "GainModel",
    "ReadnoiseModel",
    "FlatModel",
    "PhotomModel",
    "PixelAreaModel",
    "REFTYPE_MODELS",
]

_DQ_DEF = ArraySpec("dq_def", "DQ_DEF", None)


class ReferenceFileModel(DataModel):
    """Base class of reference-file models (``meta.reftype``, ``meta.pedigree``...).

    Reference files carry their metadata as header keywords (``REFTYPE``,
    ``PEDIGREE``, ``USEAFTER``, ``INSTRUME``, ``DETECTOR``, ``SUBARRAY``...).
    """

    #: The CRDS reference type (lower case) this model reads.
    reftype: str = ""

    def __init__(self, init: Any = None, **arrays: Any) -> None:
        super().__init__(init, **arrays)
        if self.reftype and not self._meta.get("reftype"):
            self._meta["reftype"] = self.reftype.upper()


class MaskModel(ReferenceFileModel):
    """Bad-pixel mask: ``dq`` (uint32, ``ny x nx``) and the ``dq_def`` table."""

    arrays = (ArraySpec("dq", "DQ", "uint32", (2,), required=True, like="data"), _DQ_DEF)
    primary = "dq"
    reftype = "mask"


class SaturationModel(ReferenceFileModel):
    """Saturation levels: ``data`` (float32, ``ny x nx``), ``dq``, ``dq_def``."""

    arrays = (
        ArraySpec("data", "SCI", "float32", (2,), required=True, like="data"),
        ArraySpec("dq", "DQ", "uint32", (2,), required=True, like="data"),
        _DQ_DEF,
    )
    primary = "data"
    reftype = "saturation"


class SuperBiasModel(ReferenceFileModel):
    """Super-bias: ``data``, ``err`` (float32, ``ny x nx``), ``dq``, ``dq_def``."""

    arrays = (
        ArraySpec("data", "SCI", "float32", (2,), required=True, like="data"),
        ArraySpec("dq", "DQ", "uint32", (2,), required=True, like="data"),
        ArraySpec("err", "ERR", "float32", (2,), required=True, like="data"),
        _DQ_DEF,
    )
    primary = "data"
    reftype = "superbias"


class LinearityModel(ReferenceFileModel):
    """Linearity polynomial: ``coeffs`` (float32, ``ncoeffs x ny x nx``), ``dq``."""

    arrays = (
        ArraySpec("coeffs", "COEFFS", "float32", (3,), required=True, like="data"),
        ArraySpec("dq", "DQ", "uint32", (2,), required=True, like="image"),
        _DQ_DEF,
    )
    primary = "coeffs"
    reftype = "linearity"


class DarkModel(ReferenceFileModel):
    """Dark current: ``data`` (float32, ``ngroups x ny x nx`` or 4-D), ``dq``, ``err``.

    ``dq`` is 2-D (``ny x nx``), ``err`` has the shape of ``data`` and is
    optional, as is the ``dq_def`` table.
    """

    arrays = (
        ArraySpec("data", "SCI", "float32", (3, 4), required=True, like="data"),
        ArraySpec("dq", "DQ", "uint32", (2,), required=True, like="image"),
        ArraySpec("err", "ERR", "float32", (3, 4), like="data"),
        _DQ_DEF,
    )
    primary = "data"
    reftype = "dark"


class GainModel(ReferenceFileModel):
    """Gain in electrons per DN: ``data`` (float32, ``ny x nx``)."""

    arrays = (ArraySpec("data", "SCI", "float32", (2,), required=True, like="data"),)
    primary = "data"
    reftype = "gain"


class ReadnoiseModel(ReferenceFileModel):
    """Read noise in DN: ``data`` (float32, ``ny x nx``)."""

    arrays = (ArraySpec("data", "SCI", "float32", (2,), required=True, like="data"),)
    primary = "data"
    reftype = "readnoise"


class FlatModel(ReferenceFileModel):
    """Flat field: ``data``, ``err`` (float32, ``ny x nx``), ``dq``, ``dq_def``.

    The science image is divided by ``data``; ``err`` is its uncertainty.
    """

    arrays = (
        ArraySpec("data", "SCI", "float32", (2,), required=True, like="data"),
        ArraySpec("dq", "DQ", "uint32", (2,), required=True, like="data"),
        ArraySpec("err", "ERR", "float32", (2,), required=True, like="data"),
        _DQ_DEF,
    )
    primary = "data"
    reftype = "flat"


class PhotomModel(ReferenceFileModel):
    """Photometric calibration table: ``phot_table`` (the ``PHOTOM`` binary table).

    Imaging files (``NrcImgPhotomModel``, ``NisImgPhotomModel``,
    ``MirImgPhotomModel``) have one row per ``filter`` and ``pupil`` (MIRI:
    ``filter`` and ``subarray``) with the conversion ``photmjsr`` in
    (MJy/sr)/(DN/s) and its ``uncertainty``.
    """

    arrays = (ArraySpec("phot_table", "PHOTOM", None),)
    primary = None
    reftype = "photom"


class PixelAreaModel(ReferenceFileModel):
    """Pixel area map: ``data`` (float32, ``ny x nx``), relative to the nominal area.

    The nominal area is ``meta.photometry.pixelarea_steradians`` (``PIXAR_SR``)
    and ``pixelarea_arcsecsq`` (``PIXAR_A2``).
    """

    arrays = (ArraySpec("data", "SCI", "float32", (2,), required=True, like="data"),)
    primary = "data"
    reftype = "area"


#: Reference type (lower case) -> model class.
REFTYPE_MODELS: dict[str, type[ReferenceFileModel]] = {
    cls.reftype: cls
    for cls in (
        MaskModel,
        SaturationModel,
        SuperBiasModel,
        LinearityModel,
        DarkModel,
        GainModel,
        ReadnoiseModel,
        FlatModel,
        PhotomModel,
        PixelAreaModel,
    )
}
