"""Models whose content is named nodes of an ASDF tree rather than arrays.

Some reference files (the MIRI ``EMICORR`` file, for one) are plain ASDF
documents: besides ``meta`` they hold nested mappings of numbers, strings and
small arrays (``frequencies``, ``subarray_cases``) that no FITS extension
describes. :class:`TreeNodesMixin` gives a :class:`~pipeline_core.datamodels.DataModel`
subclass such nodes: each name in ``tree_nodes`` becomes an attribute holding
plain Python data (dicts, lists, scalars and numpy arrays).

A model opened from a file (``Model(path)`` or :func:`open_model`) reads its
nodes from the file the first time one is used; :meth:`TreeNodesMixin.save`
writes them back, as ASDF.
"""

from __future__ import annotations

import copy
import datetime
import os
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from pipeline_core.errors import DataModelError

__all__ = ["TreeNodesMixin", "read_tree_nodes"]


class TreeNodesMixin:
    """Mixin for a DataModel whose content lives in named ASDF tree nodes.

    Put it before the DataModel base: ``class EmiModel(TreeNodesMixin,
    ReferenceFileModel)`` and list the nodes in ``tree_nodes``. Each node is
    then an attribute (None until set or read), may be given to the
    constructor by name, is copied by :meth:`copy` and saved by :meth:`save`.
    """

    #: Names of the top-level tree nodes this model holds.
    tree_nodes: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls.tree_nodes:
            setattr(cls, name, _node_property(name))

    def __init__(self, init: Any = None, **arrays: Any) -> None:
        nodes = {name: arrays.pop(name) for name in list(arrays) if name in self.tree_nodes}
        super().__init__(init, **arrays)  # type: ignore[call-arg]
        if nodes:
            stored = self._node_store()
            for name, value in nodes.items():
                stored[name] = _plain(value)

    def _node_store(self) -> dict[str, Any]:
        """The nodes of this model, read from its file on first use."""
        store = self.__dict__.get("_nodes")
        if store is None:
            source = getattr(self, "_source", None)
            store = read_tree_nodes(source, self.tree_nodes) if source else {}
            self.__dict__["_nodes"] = store
        return store

    def copy(self, **kwargs: Any) -> Any:
        """Return a deep copy, tree nodes included (see :meth:`DataModel.copy`).

        Parameters
        ----------
        **kwargs
            Passed to :meth:`DataModel.copy`.

        Returns
        -------
        DataModel
            An independent model of the same class.
        """
        new = super().copy(**kwargs)  # type: ignore[misc]
        new.__dict__["_nodes"] = copy.deepcopy(self._node_store())
        return new

    def save(self, path: str | os.PathLike, *, overwrite: bool = True) -> str:
        """Write the model (``meta`` and its tree nodes) as an ASDF file, atomically.

        Parameters
        ----------
        path : str or os.PathLike
            Output file; it must end in ``.asdf``.
        overwrite : bool
            Replace an existing file (default).

        Returns
        -------
        str
            The path written.

        Raises
        ------
        DataModelError
            If the path does not end in ``.asdf``, or it exists and ``overwrite``
            is False.
        """
        import asdf

        from pipeline_core.datamodels.fits_io import check_folder
        from pipeline_core.output import atomic_write

        path = os.fspath(path)
        name = type(self).__name__
        if not path.lower().endswith(".asdf"):
            raise DataModelError(
                f"Cannot save {name} to '{path}': its content ({', '.join(self.tree_nodes)}) "
                "has no FITS layout. Give a path ending in '.asdf'."
            )
        if not overwrite and os.path.exists(path):
            raise DataModelError(
                f"Cannot save {name} to '{path}': the file exists. "
                "Pass overwrite=True or choose another name."
            )
        meta = self._meta  # type: ignore[attr-defined]
        meta["filename"] = os.path.basename(path)
        meta["model_type"] = name
        now = datetime.datetime.now(datetime.timezone.utc)
        meta["date"] = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}"
        tree: dict[str, Any] = {"meta": meta}
        for spec, array in self.arrays_to_save():  # type: ignore[attr-defined]
            tree[spec.name] = array
        for key, value in self._node_store().items():
            if value is not None:
                tree[key] = value
        check_folder(path)
        with atomic_write(path) as tmp:
            asdf.AsdfFile(tree).write_to(tmp)
        return path


def read_tree_nodes(path: str, names: tuple[str, ...]) -> dict[str, Any]:
    """Read named top-level nodes of an ASDF file as plain Python data.

    Parameters
    ----------
    path : str
        An ASDF file. Any other file gives no nodes.
    names : tuple of str
        Nodes to read; missing ones are left out.

    Returns
    -------
    dict
        Node name -> dicts, lists, scalars and numpy arrays (copied from the file).

    Raises
    ------
    DataModelError
        If the ASDF file cannot be read.
    """
    try:
        with open(path, "rb") as handle:
            if not handle.read(5).startswith(b"#ASDF"):
                return {}
    except OSError as exc:
        raise DataModelError(f"Cannot open '{path}' to read its tree: {exc}.") from exc
    import asdf

    try:
        with asdf.open(path, lazy_load=False, memmap=False) as af:
            return {name: _plain(af.tree[name]) for name in names if name in af.tree}
    except Exception as exc:  # asdf raises many types; all mean "unreadable"
        raise DataModelError(
            f"Cannot read the tree of '{path}' ({type(exc).__name__}: {exc}). The file is "
            "truncated or corrupt; write it again or fetch a fresh copy."
        ) from exc


def _plain(value: Any) -> Any:
    """Copy a tree value into dicts, lists, Python scalars and numpy arrays."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return value
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        array = np.array(value)
        return array.astype(array.dtype.newbyteorder("="), copy=False)
    return value


def _node_property(name: str) -> property:
    def getter(self: TreeNodesMixin) -> Any:
        return self._node_store().get(name)

    def setter(self: TreeNodesMixin, value: Any) -> None:
        self._node_store()[name] = _plain(value)

    doc = f"dict or None: the ``{name}`` node of the ASDF tree (plain Python data)."
    getter.__doc__ = doc
    return property(getter, setter, None, doc)
