"""Science data models: ramps, images and per-integration cubes."""

from __future__ import annotations

from pipeline_core.datamodels.base import ArraySpec, DataModel

__all__ = ["RampModel", "ImageModel", "CubeModel"]

_INT_TIMES = ArraySpec("int_times", "INT_TIMES", None)


class RampModel(DataModel):
    """Raw or partly calibrated ramps: ``nints x ngroups x ny x nx``.

    Arrays: ``data`` (float32, 4-D, ``SCI``), ``pixeldq`` (uint32, ``ny x nx``,
    ``PIXELDQ``), ``groupdq`` (uint8, shape of ``data``, ``GROUPDQ``), ``err``
    (float32, shape of ``data``, ``ERR``; zeros when unset, which cost no memory
    until written, and written to files only once set or changed), optional
    ``zeroframe`` (``nints x ny x nx``), ``refout`` and the ``int_times`` table. A level-1b file (``uint16`` ``SCI``, no DQ arrays) opens
    as a RampModel with float32 data and zero DQ arrays.

    Examples
    --------
    >>> import numpy as np
    >>> ramp = RampModel(data=np.zeros((2, 4, 16, 16), dtype=np.float32))
    >>> ramp.pixeldq.shape
    (16, 16)
    """

    arrays = (
        ArraySpec("data", "SCI", "float32", (4,), required=True, like="data"),
        ArraySpec("pixeldq", "PIXELDQ", "uint32", (2,), required=True, like="image"),
        ArraySpec("groupdq", "GROUPDQ", "uint8", (4,), required=True, like="data"),
        ArraySpec("err", "ERR", "float32", (4,), required=True, like="data", save_default=False),
        ArraySpec("zeroframe", "ZEROFRAME", "float32", (3,), like="ints"),
        ArraySpec("refout", "REFOUT", "float32", (4,)),
        _INT_TIMES,
    )
    primary = "data"


class ImageModel(DataModel):
    """A 2-D image (``ny x nx``), e.g. a count-rate product.

    Arrays: ``data`` (float32, ``SCI``), ``dq`` (uint32, ``DQ``), ``err``
    (float32, ``ERR``), and the optional variances ``var_poisson``,
    ``var_rnoise``, ``var_flat`` (float32), all of the same shape; the
    optional pixel area map ``area`` (float32, ``AREA``, set by photom) and,
    in resampled (``i2d``) products, the drizzle weight ``wht`` (float32,
    ``WHT``) and context ``con`` (int32, ``CON``, ``nplanes x ny x nx``: bit
    ``i`` of plane ``i // 32`` marks a contribution of input ``i``).

    Examples
    --------
    >>> image = ImageModel((32, 32))
    >>> image.dq.dtype, image.var_poisson is None
    (dtype('uint32'), True)
    """

    arrays = (
        ArraySpec("data", "SCI", "float32", (2,), required=True, like="data"),
        ArraySpec("dq", "DQ", "uint32", (2,), required=True, like="data"),
        ArraySpec("err", "ERR", "float32", (2,), required=True, like="data"),
        ArraySpec("var_poisson", "VAR_POISSON", "float32", (2,), like="data"),
        ArraySpec("var_rnoise", "VAR_RNOISE", "float32", (2,), like="data"),
        ArraySpec("var_flat", "VAR_FLAT", "float32", (2,), like="data"),
        ArraySpec("area", "AREA", "float32", (2,), like="data"),
        ArraySpec("wht", "WHT", "float32", (2,), like="data"),
        ArraySpec("con", "CON", "int32", (3,)),
    )
    primary = "data"


class CubeModel(DataModel):
    """A stack of images, one per integration (``nints x ny x nx``).

    Same arrays as :class:`ImageModel`, 3-D, plus the optional ``int_times``
    table.

    Examples
    --------
    >>> cube = CubeModel((3, 16, 16))
    >>> cube.err.shape
    (3, 16, 16)
    """

    arrays = (
        ArraySpec("data", "SCI", "float32", (3,), required=True, like="data"),
        ArraySpec("dq", "DQ", "uint32", (3,), required=True, like="data"),
        ArraySpec("err", "ERR", "float32", (3,), required=True, like="data"),
        ArraySpec("var_poisson", "VAR_POISSON", "float32", (3,), like="data"),
        ArraySpec("var_rnoise", "VAR_RNOISE", "float32", (3,), like="data"),
        ArraySpec("var_flat", "VAR_FLAT", "float32", (3,), like="data"),
        _INT_TIMES,
    )
    primary = "data"
