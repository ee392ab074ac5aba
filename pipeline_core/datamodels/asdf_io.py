"""Plain ASDF files: a tree with ``meta`` and one node per array.

The FITS layout is the main format; ``model.save("x.asdf")`` writes the same
model as an ASDF file (arrays as binary blocks) and :func:`open_model` reads it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline_core.errors import DataModelError

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.datamodels.base import DataModel

__all__ = ["read_asdf", "write_asdf"]


def read_asdf(
    path: str, *, model_class: type[DataModel] | None = None, choose_class: Any = None
) -> tuple[type[DataModel], dict[str, np.ndarray], dict[str, Any]]:
    """Read an ASDF file written by :func:`write_asdf` (or by JWST software).

    Parameters
    ----------
    path : str
        The ASDF file.
    model_class : type, optional
        The model class to read it as; chosen from ``meta.model_type`` or the
        dimensionality of ``data`` by ``choose_class`` when None.
    choose_class : callable, optional
        Picks the class (:func:`~pipeline_core.datamodels.factory.model_class_for`).

    Returns
    -------
    (type, dict, dict)
        The model class, its arrays by attribute name, and the ``meta`` tree.

    Raises
    ------
    DataModelError
        If the file cannot be parsed or lacks the model's primary array.
    """
    import asdf

    from pipeline_core.datamodels.fits_io import _validate
    from pipeline_core.datamodels.meta import to_plain

    try:
        with asdf.open(path, lazy_load=True, memmap=False) as af:
            tree = af.tree
            meta = to_plain(tree.get("meta") or {})
            if model_class is None:
                if choose_class is None:
                    raise TypeError("read_asdf needs model_class or choose_class")
                ndims = {
                    name.upper(): np.ndim(tree[name])
                    for name in ("data", "coeffs", "dq")
                    if isinstance(tree.get(name), np.ndarray) or hasattr(tree.get(name), "shape")
                }
                if "data" in ndims:
                    ndims["SCI"] = ndims.pop("DATA")
                model_class = choose_class(
                    model_type=meta.get("model_type"),
                    reftype=meta.get("reftype"),
                    extensions=ndims,
                    source=path,
                )
            arrays: dict[str, np.ndarray] = {}
            for spec in model_class.arrays:
                value = tree.get(spec.name)
                if value is None:
                    continue
                if spec.is_table:
                    source = np.asarray(value)
                    arrays[spec.name] = source.astype(source.dtype.newbyteorder("="))
                else:
                    source = np.asarray(value)
                    out = np.empty(source.shape, dtype=spec.dtype)
                    np.copyto(out, source, casting="unsafe")
                    arrays[spec.name] = out
    except DataModelError:
        raise
    except Exception as exc:
        raise DataModelError(
            f"Cannot read '{path}' as ASDF ({type(exc).__name__}: {exc}). The file is "
            "truncated or corrupt; write it again or fetch a fresh copy."
        ) from exc
    primary = model_class.primary
    if primary is not None and primary not in arrays:
        raise DataModelError(
            f"'{path}' has no '{primary}' array, which a {model_class.__name__} needs."
        )
    _validate(model_class, arrays, path)
    meta["model_type"] = model_class.__name__
    meta["filename"] = os.path.basename(path)
    return model_class, arrays, meta


def write_asdf(model: DataModel, path: str) -> None:
    """Write a model as an ASDF file, atomically.

    Parameters
    ----------
    model : DataModel
        The model.
    path : str
        Destination (``.asdf``).
    """
    import asdf

    from pipeline_core.datamodels.fits_io import check_folder
    from pipeline_core.output import atomic_write

    tree: dict[str, Any] = {"meta": model._meta}
    for spec, array in model.arrays_to_save():
        tree[spec.name] = array
    check_folder(path)
    with atomic_write(path) as tmp:
        asdf.AsdfFile(tree).write_to(tmp)
