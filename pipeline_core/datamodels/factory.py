"""Opening a file as the right model: :func:`open_model` and the class lookup."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pipeline_core.datamodels.base import DataModel
from pipeline_core.datamodels.models import CubeModel, ImageModel, RampModel
from pipeline_core.datamodels.reference import (
    REFTYPE_MODELS,
    DarkModel,
    GainModel,
    LinearityModel,
    MaskModel,
    ReadnoiseModel,
    SaturationModel,
    SuperBiasModel,
)
from pipeline_core.datamodels.reading import read_file
from pipeline_core.errors import DataModelError

__all__ = ["open_model", "model_class_for", "MODEL_CLASSES"]

#: Names found in ``DATAMODL`` / ``meta.model_type`` -> the class that reads them.
MODEL_CLASSES: Mapping[str, type[DataModel]] = {
    "RampModel": RampModel,
    "Level1bModel": RampModel,
    "ImageModel": ImageModel,
    "CubeModel": CubeModel,
    "MaskModel": MaskModel,
    "SaturationModel": SaturationModel,
    "SuperBiasModel": SuperBiasModel,
    "LinearityModel": LinearityModel,
    "DarkModel": DarkModel,
    "DarkMIRIModel": DarkModel,
    "DarkNirspecModel": DarkModel,
    "GainModel": GainModel,
    "ReadnoiseModel": ReadnoiseModel,
}

_BY_NDIM: Mapping[int, type[DataModel]] = {4: RampModel, 3: CubeModel, 2: ImageModel}


def model_class_for(
    *,
    model_type: str | None,
    reftype: str | None,
    extensions: Mapping[str, int],
    source: str,
) -> type[DataModel]:
    """Pick the model class for a file from what it declares and contains.

    Parameters
    ----------
    model_type : str or None
        The file's ``DATAMODL`` keyword / ``meta.model_type``.
    reftype : str or None
        The file's ``REFTYPE`` keyword (reference files).
    extensions : mapping of str to int
        EXTNAME -> number of dimensions of every image extension.
    source : str
        The file name, for error messages.

    Returns
    -------
    type
        The declared class when known (one of :data:`MODEL_CLASSES`, or any
        imported :class:`DataModel` subclass of that name, so a plugin's own
        models open by their ``DATAMODL``); else the class of the reference type;
        else by content: ``COEFFS`` -> LinearityModel, ``DQ`` without ``SCI`` ->
        MaskModel, a 4-D / 3-D / 2-D ``SCI`` -> RampModel / CubeModel / ImageModel.

    Raises
    ------
    DataModelError
        If none of these applies (no ``SCI`` extension, or one of another
        dimensionality).
    """
    if model_type:
        declared = MODEL_CLASSES.get(model_type) or _subclass_named(model_type)
        if declared is not None:
            return declared
    if reftype and reftype.strip().lower() in REFTYPE_MODELS:
        return REFTYPE_MODELS[reftype.strip().lower()]
    if "COEFFS" in extensions:
        return LinearityModel
    if "SCI" not in extensions:
        if "DQ" in extensions:
            return MaskModel
        found = ", ".join(extensions) or "none"
        raise DataModelError(
            f"'{source}' has no SCI extension (image extensions found: {found}). "
            "A data file needs its science array in an extension named SCI; "
            "check that this is a JWST-layout product."
        )
    ndim = extensions["SCI"]
    if ndim not in _BY_NDIM:
        raise DataModelError(
            f"'{source}': the SCI extension is {ndim}-D; expected 4-D (ramp: nints x ngroups "
            "x ny x nx), 3-D (cube: nints x ny x nx) or 2-D (image: ny x nx)."
        )
    return _BY_NDIM[ndim]


def _subclass_named(name: str) -> type[DataModel] | None:
    pending = list(DataModel.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__name__ == name:
            return cls
        pending.extend(cls.__subclasses__())
    return None


def open_model(
    path_or_model: str | os.PathLike | DataModel,
    *,
    model_class: type[DataModel] | None = None,
    lazy: bool = False,
    threads: int = 1,
) -> DataModel:
    """Open a file as the right data model, or pass a model through.

    Parameters
    ----------
    path_or_model : str, os.PathLike or DataModel
        A FITS file in the JWST layout (or an ASDF file), or a model, which is
        returned as it is.
    model_class : type, optional
        Read the file as this class instead of the one it declares.
    lazy : bool
        Leave the image arrays of an uncompressed FITS file in the file: each
        is read when its attribute is first used, and
        :meth:`DataModel.read_section` reads just a part of it (one frame of a
        reference cube, say). Headers, metadata and tables are read at once.
    threads : int
        Threads that read each large image of an uncompressed FITS file at
        once (at most the job's share of the cores): the same values,
        sooner, where touching the new memory of a large ramp costs more
        than the copy from the page cache.

    Returns
    -------
    DataModel
        The model, with its arrays in memory (native byte order, declared dtypes;
        with ``lazy``, once used) and the file closed.

    Raises
    ------
    DataModelError
        If the file is missing, not FITS/ASDF, truncated, lacks its science
        array, or has arrays of the wrong dimensionality or inconsistent shapes.

    Examples
    --------
    >>> from pipeline_core.datamodels import open_model
    >>> with open_model("jw01_nrca3_uncal.fits") as ramp:  # doctest: +SKIP
    ...     print(ramp.shape, ramp.meta.exposure.ngroups)
    """
    if isinstance(path_or_model, DataModel):
        if model_class is not None and not isinstance(path_or_model, model_class):
            raise DataModelError(
                f"Got a {type(path_or_model).__name__} where a {model_class.__name__} is "
                "needed; open the file with the right model class."
            )
        return path_or_model
    if not isinstance(path_or_model, (str, os.PathLike)):
        raise DataModelError(
            f"Cannot open {path_or_model!r} ({type(path_or_model).__name__}): pass a file "
            "path (str or os.PathLike) or a DataModel."
        )
    cls, arrays, meta = read_file(
        path_or_model, model_class=model_class, choose_class=model_class_for, lazy=lazy,
        threads=threads,
    )
    model = cls()
    model._arrays.update(arrays)
    model._meta = meta
    model._source = os.fspath(path_or_model)
    return model
