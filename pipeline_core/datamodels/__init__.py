"""Data models and their files in the JWST layout.

A data model holds named numpy arrays (``data``, ``groupdq``, ``dq``...) and one
metadata tree (``model.meta``). :func:`open_model` reads a FITS file written by
JWST software (or by steppe) as the right model; ``model.save(path)`` writes one
that astropy and JWST's own tools read back.
"""

from __future__ import annotations

from pipeline_core.datamodels import dqflags
from pipeline_core.datamodels.base import ArraySpec, DataModel
from pipeline_core.datamodels.factory import MODEL_CLASSES, model_class_for, open_model
from pipeline_core.datamodels.meta import MetaNode
from pipeline_core.datamodels.models import CubeModel, ImageModel, RampModel
from pipeline_core.datamodels.reference import (
    REFTYPE_MODELS,
    ABVegaOffsetModel,
    ApcorrModel,
    DarkModel,
    EmiModel,
    FlatModel,
    GainModel,
    IRS2Model,
    IPCModel,
    LinearityModel,
    MaskModel,
    PictureFrameModel,
    PhotomModel,
    PixelAreaModel,
    ReadnoiseModel,
    ReferenceFileModel,
    ResetModel,
    RSCDModel,
    SaturationModel,
    SuperBiasModel,
)

__all__ = [
    "open_model",
    "DataModel",
    "ArraySpec",
    "MetaNode",
    "RampModel",
    "ImageModel",
    "CubeModel",
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
    "MODEL_CLASSES",
    "REFTYPE_MODELS",
    "model_class_for",
    "dqflags",
]
