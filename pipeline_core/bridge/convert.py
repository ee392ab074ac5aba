"""Handing data models between steppe and stdatamodels.

Both follow the JWST data-model layout: arrays by the same names (``data``,
``pixeldq``, ``groupdq``, ``err``, ``dq``, ``int_times``...) and one ``meta`` tree
with the same paths. A model crosses in memory: its arrays are handed over
without copying and its ``meta`` tree is deep-copied. Only when the other side
has no model class of the same name does it cross as a FITS file written to a
temporary folder and opened by the other side.

stdatamodels is imported on first use only.
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
from typing import Any

import numpy as np

from pipeline_core.datamodels import MODEL_CLASSES, DataModel, open_model
from pipeline_core.errors import DataModelError

__all__ = ["to_stpipe_model", "from_stpipe_model", "is_stpipe_model", "lookup_view"]

log = logging.getLogger("steppe.bridge")


def _jwst_models() -> Any:
    from stdatamodels.jwst import datamodels

    return datamodels


def is_stpipe_model(value: Any) -> bool:
    """Tell whether ``value`` is an stdatamodels data model (or a container of them).

    Parameters
    ----------
    value : object

    Returns
    -------
    bool
    """
    module = type(value).__module__ or ""
    return module.startswith(("stdatamodels.", "jwst.", "romancal.", "roman_datamodels."))


def to_stpipe_model(model: Any) -> Any:
    """Return the stdatamodels model holding the same data as a steppe model.

    Parameters
    ----------
    model : DataModel or object
        A steppe model; anything else (an stdatamodels model, a path, an
        association) is returned as it is.

    Returns
    -------
    object
        An ``stdatamodels.jwst.datamodels`` model of the same class name, sharing
        the arrays, with a copy of the ``meta`` tree.
    """
    if not isinstance(model, DataModel):
        return model
    datamodels = _jwst_models()
    name = type(model).__name__
    target = getattr(datamodels, name, None)
    if isinstance(target, type) and issubclass(target, datamodels.JwstDataModel):
        try:
            return _to_stpipe_in_memory(model, target)
        except Exception as exc:  # noqa: BLE001 - schema refused something: go through a file
            log.info("%s handed to stdatamodels through a file (%s: %s)", name, type(exc).__name__, exc)
    return _through_file(model, lambda path: datamodels.open(path), suffix=".fits")


def _to_stpipe_in_memory(model: DataModel, target: type) -> Any:
    out = target()
    meta = model.meta.to_dict()
    meta["model_type"] = target.__name__
    out.meta.instance.clear()
    out.meta.instance.update(meta)
    for spec, array in model.arrays_to_save():
        setattr(out, spec.name, array)
    return out


def from_stpipe_model(result: Any) -> Any:
    """Return the steppe model holding the same data as an stdatamodels result.

    Parameters
    ----------
    result : object
        What an stpipe step returned. A model whose class steppe knows
        (``RampModel``, ``ImageModel``, ``CubeModel``...) becomes a steppe model;
        a tuple or list is converted item by item; anything else (a model steppe
        has no class for, an association, a model library) is returned as it is.

    Returns
    -------
    object
    """
    if isinstance(result, (tuple, list)):
        return type(result)(from_stpipe_model(item) for item in result)
    if not is_stpipe_model(result) or not hasattr(result, "meta"):
        return result
    target = MODEL_CLASSES.get(type(result).__name__)
    if target is None:
        return result
    try:
        return _from_stpipe_in_memory(result, target)
    except Exception as exc:  # noqa: BLE001 - go through a file instead
        log.info(
            "%s handed back from stdatamodels through a file (%s: %s)",
            type(result).__name__, type(exc).__name__, exc,
        )
    return _through_file(result, open_model, suffix=".fits")


def _from_stpipe_in_memory(result: Any, target: type[DataModel]) -> DataModel:
    out = target()
    out.meta = copy.deepcopy(result.meta.instance)
    out.meta.model_type = target.__name__
    instance = result.instance
    for spec in target.arrays:
        if spec.name not in instance:
            continue
        value = getattr(result, spec.name)
        if value is None:
            continue
        setattr(out, spec.name, value if spec.is_table else np.asarray(value))
    return out


def lookup_view(model: Any) -> Any:
    """Return what steppe's reference lookup is given for a model an stpipe step holds.

    steppe's lookup, its ``get_reference_file`` hook implementations and its CRDS
    query read a steppe model (``get_crds_parameters`` with ``META.*`` keys). The
    view is a steppe model of the same class sharing the arrays, with a copy of
    the ``meta`` tree; what the lookup records in it stays there (the stpipe step
    records the references it used in its own model).

    Parameters
    ----------
    model : object
        An stdatamodels model, or anything else (returned as it is).

    Returns
    -------
    object
    """
    if not is_stpipe_model(model) or not hasattr(model, "meta"):
        return model
    target = MODEL_CLASSES.get(type(model).__name__, DataModel)
    try:
        return _from_stpipe_in_memory(model, target)
    except Exception:  # noqa: BLE001 - the stdatamodels model answers for itself
        return model


def _through_file(model: Any, opener: Any, *, suffix: str) -> Any:
    """Save ``model`` to a temporary file and open it with ``opener`` (fully read)."""
    with tempfile.TemporaryDirectory(prefix="steppe-bridge-") as folder:
        name = os.path.basename(str(getattr(model.meta, "filename", None) or "model")) or "model"
        stem = name.rsplit(".", 1)[0] if "." in name else name
        path = os.path.join(folder, f"{stem}{suffix}")
        model.save(path)
        try:
            opened = opener(path)
        except Exception as exc:
            raise DataModelError(
                f"a {type(model).__name__} could not be handed between steppe and stdatamodels: "
                f"the file written for it could not be read back ({type(exc).__name__}: {exc})"
            ) from exc
        _load_everything(opened)
        return opened


def _load_everything(model: Any) -> None:
    """Read every array of a model opened from a file before the file is removed."""
    if isinstance(model, DataModel):
        for spec in type(model).arrays:
            getattr(model, spec.name)
        return
    instance = getattr(model, "instance", None)
    if isinstance(instance, dict):
        for key, value in list(instance.items()):
            if hasattr(value, "shape"):
                instance[key] = np.array(value)
