"""Reference-file models used by the detector-level calibration steps."""

from __future__ import annotations

from typing import Any

from pipeline_core.datamodels.base import ArraySpec, DataModel
from pipeline_core.datamodels.tree_nodes import TreeNodesMixin

__all__ = [
    "ReferenceFileModel",
    "MaskModel",
    "SaturationModel",
    "SuperBiasModel",
    "LinearityModel",
    "DarkModel",
    "GainModel",
    "ReadnoiseModel",
    "IRS2Model",
    "PictureFrameModel",
    "FlatModel",
    "IPCModel",
    "ResetModel",
    "RSCDModel",
    "EmiModel",
    "PhotomModel",
    "PixelAreaModel",
    "ApcorrModel",
    "ABVegaOffsetModel",
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

    ``dq`` is 2-D (``ny x nx``), or 4-D like ``data`` in MIRI darks
    (``DarkMIRIModel``); ``err`` has the shape of ``data`` and is optional, as
    is the ``dq_def`` table.
    """

    arrays = (
        ArraySpec("data", "SCI", "float32", (3, 4), required=True, like="data"),
        ArraySpec("dq", "DQ", "uint32", (2, 4), required=True, like="image"),
        ArraySpec("err", "ERR", "float32", (3, 4), like="data"),
        _DQ_DEF,
    )
    primary = "data"
    reftype = "dark"

    def _expected_shape(self, spec: ArraySpec) -> tuple[int, ...] | None:
        # a MIRI dark's DQ has one plane per group and integration, like its data
        dq = self._arrays.get("dq") if spec.name == "dq" else None
        if dq is not None and dq.ndim == 4:
            return self.shape
        return super()._expected_shape(spec)


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


class PictureFrameModel(ReferenceFileModel):
    """NIRSpec thermal "picture frame" rate image: ``data`` (float32, ``ny x nx``)."""

    arrays = (ArraySpec("data", "SCI", "float32", (2,), required=True, like="data"),)
    primary = "data"
    reftype = "pictureframe"


class FlatModel(ReferenceFileModel):
    """Flat field: ``data``, ``err`` (float32, ``ny x nx``), ``dq``, ``dq_def``.

    The science image is divided by ``data``; ``err`` is its uncertainty.
    """

    arrays = (
        ArraySpec("data", "SCI", "float32", (2,), required=True, like="data"),
        ArraySpec("dq", "DQ", "uint32", (2,), required=True, like="data"),
        ArraySpec("err", "ERR", "float32", (2,), required=True, like="data", save_default=False),
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


class IPCModel(ReferenceFileModel):
    """Inter-pixel capacitance deconvolution kernel: ``data`` (float32).

    ``data`` is either one small 2-D kernel (``kny x knx``, odd sizes) used for
    every pixel, or a 4-D per-pixel kernel (``kny x knx x ny x nx``).
    """

    arrays = (ArraySpec("data", "SCI", "float32", (2, 4), required=True),)
    primary = "data"
    reftype = "ipc"


class ResetModel(ReferenceFileModel):
    """MIRI reset anomaly: ``data`` (float32, ``nints x ngroups x ny x nx``), ``dq``, ``err``.

    ``meta.exposure.nints`` and ``meta.exposure.ngroups`` give the integrations
    and groups the correction covers; ``dq`` is 2-D (``ny x nx``).
    """

    arrays = (
        ArraySpec("data", "SCI", "float32", (4,), required=True, like="data"),
        ArraySpec("dq", "DQ", "uint32", (2,), required=True, like="image"),
        ArraySpec("err", "ERR", "float32", (4,), like="data"),
        _DQ_DEF,
    )
    primary = "data"
    reftype = "reset"


class RSCDModel(ReferenceFileModel):
    """MIRI RSCD: the ``rscd_group_skip_table`` (``RSCD_GROUP_SKIP`` binary table).

    Columns ``subarray``, ``readpatt``, ``group_skip1`` (groups to flag in the
    first integration) and ``group_skip`` (in later integrations). Older files
    lack ``group_skip1``.
    """

    arrays = (ArraySpec("rscd_group_skip_table", "RSCD_GROUP_SKIP", None),)
    reftype = "rscd"


class EmiModel(TreeNodesMixin, ReferenceFileModel):
    """MIRI EMI waveforms (an ASDF file): ``frequencies`` and ``subarray_cases`` nodes.

    ``frequencies`` maps a name (``"Hz390"``) to ``{"frequency": Hz,
    "phase_amplitudes": 1-D waveform}``; ``subarray_cases`` maps a subarray name
    (``FULL_FAST``/``FULL_SLOW`` for full frame) to ``{"rowclocks",
    "frameclocks", "freqs": {"FAST": [names], "SLOW": {detector: [names]}}}``.
    """

    tree_nodes = ("frequencies", "subarray_cases")
    reftype = "emicorr"


class IRS2Model(ReferenceFileModel):
    """NIRSpec IRS2 reference-pixel weights (REFTYPE ``REFPIX``).

    ``irs2_table`` (extension ``IRS2``): float32 columns ``ALPHA_0``..``ALPHA_3``
    and ``BETA_0``..``BETA_3``, each ``2 * 712 * 2048`` values (real and
    imaginary parts alternating) of the Fourier weights of the reference output
    (alpha) and of the interleaved reference pixels (beta), per amplifier.
    Optional ``dq_table`` (extension ``DQ``): columns ``OUTPUT``, ``ODD_EVEN``
    and ``MASK`` listing bad interleaved reference pixels.
    """

    arrays = (ArraySpec("irs2_table", "IRS2", None, required=True), ArraySpec("dq_table", "DQ", None))
    primary = "irs2_table"
    reftype = "refpix"


class ApcorrModel(ReferenceFileModel):
    """Imaging aperture corrections: ``apcorr_table`` (the ``APCORR`` binary table).

    As the JWST ``NrcImgApcorrModel``, ``NisImgApcorrModel`` and
    ``MirImgApcorrModel``: rows selected by ``filter`` and ``pupil`` (MIRI:
    ``filter`` and ``subarray``), each with an encircled-energy fraction
    ``eefraction``, the aperture ``radius`` (detector pixels) enclosing it, the
    correction ``apcorr`` to the total flux and the sky annulus ``skyin``/``skyout``.
    """

    arrays = (ArraySpec("apcorr_table", "APCORR", None),)
    primary = None
    reftype = "apcorr"


class ABVegaOffsetModel(TreeNodesMixin, ReferenceFileModel):
    """AB to Vega magnitude offsets (an ASDF file): the ``abvega_offset`` table.

    Columns ``filter`` and ``pupil`` (NIRCam, NIRISS), ``filter`` (MIRI) or
    ``detector`` (FGS), and ``abvega_offset``, the AB minus the Vega magnitude.
    """

    tree_nodes = ("abvega_offset",)
    reftype = "abvegaoffset"


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
        IRS2Model,
        PictureFrameModel,
        FlatModel,
        IPCModel,
        ResetModel,
        RSCDModel,
        EmiModel,
        PhotomModel,
        PixelAreaModel,
        ApcorrModel,
        ABVegaOffsetModel,
    )
}
