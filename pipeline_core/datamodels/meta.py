"""The metadata tree of a data model, with attribute access.

``model.meta`` is a :class:`MetaNode` over a nested ``dict`` (the ``meta`` tree of
the JWST data-model layout). Reading a leaf that was never set gives ``None``;
reading a known group that does not exist yet gives an empty node that joins the
tree as soon as something is assigned into it, so that::

    model.meta.ref_file.gain.name = "jwst_nircam_gain_0001.fits"

works on an empty model, and reading never adds empty groups to the tree.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from pipeline_core.datamodels.keywords import group_paths

__all__ = ["MetaNode", "to_plain", "is_group_path"]

# Groups whose children are all groups themselves (``ref_file.<reftype>``).
_GROUP_OF_GROUPS = frozenset({("ref_file",)})
# Groups known to the framework although no FITS keyword maps into them.
_EXTRA_GROUPS = frozenset({("ref_file", "crds"), ("cal_step",), ("wcsinfo",), ("steppe",)})


def is_group_path(path: tuple[str, ...]) -> bool:
    """Tell whether a path of the metadata tree names a group rather than a leaf.

    Parameters
    ----------
    path : tuple of str
        Path below ``meta``, e.g. ``("ref_file", "gain")``.

    Returns
    -------
    bool
        True for groups (``instrument``, ``exposure``, ``ref_file.<any reftype>``,
        ``cal_step``, ...), False for leaves and unknown names.
    """
    if path in _EXTRA_GROUPS or path in group_paths():
        return True
    return len(path) >= 1 and path[:-1] in _GROUP_OF_GROUPS


def to_plain(value: Any) -> Any:
    """Convert a value to plain Python types for storage in the tree.

    Parameters
    ----------
    value : object
        A scalar, a numpy scalar or 0-d array, a mapping, a sequence or a
        :class:`MetaNode`.

    Returns
    -------
    object
        Numpy scalars become Python scalars, tuples become lists, mappings and
        nodes become (deep-copied) dicts; other values are returned as they are.
    """
    if isinstance(value, MetaNode):
        return copy.deepcopy(value._data)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


class MetaNode:
    """A group of the metadata tree; children are read and set as attributes.

    Parameters
    ----------
    data : dict, optional
        The dict this node wraps (not copied: the node is a view on it).

    Examples
    --------
    >>> meta = MetaNode()
    >>> meta.instrument.name = "NIRCAM"
    >>> meta.exposure.ngroups is None
    True
    >>> meta.to_flat_dict()
    {'meta.instrument.name': 'NIRCAM'}
    """

    __slots__ = ("_data", "_parent", "_key", "_path")

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        _parent: MetaNode | None = None,
        _key: str | None = None,
        _path: tuple[str, ...] = (),
    ) -> None:
        object.__setattr__(self, "_data", {} if data is None else data)
        object.__setattr__(self, "_parent", _parent)
        object.__setattr__(self, "_key", _key)
        object.__setattr__(self, "_path", _path)

    # -- attribute access ---------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in MetaNode.__slots__:
            raise AttributeError(name)
        return self._child(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            raise AttributeError(
                f"Metadata names cannot start with '_' (got {name!r}); use a plain name."
            )
        self._set(name, value)

    def __delattr__(self, name: str) -> None:
        self._data.pop(name, None)

    def _child(self, name: str) -> Any:
        value = self._data.get(name)
        path = (*self._path, name)
        if isinstance(value, dict):
            return MetaNode(value, _path=path)
        if value is None and is_group_path(path):
            return MetaNode(None, _parent=self, _key=name, _path=path)
        return value

    def _set(self, name: str, value: Any) -> None:
        if value is None:
            self._data.pop(name, None)
            return
        self._attach()
        self._data[name] = to_plain(value)

    def _attach(self) -> None:
        """Link a detached (not yet existing) group into its parent."""
        parent = self._parent
        if parent is None:
            return
        parent._attach()
        existing = parent._data.get(self._key)
        if isinstance(existing, dict):
            if self._data:
                existing.update(self._data)
            object.__setattr__(self, "_data", existing)
        else:
            parent._data[self._key] = self._data
        object.__setattr__(self, "_parent", None)

    # -- dotted-path access ---------------------------------------------------------
    def __getitem__(self, path: str) -> Any:
        node: Any = self
        for part in _split(path):
            if not isinstance(node, MetaNode):
                return None
            node = node._child(part)
        return node

    def __setitem__(self, path: str, value: Any) -> None:
        parts = _split(path)
        node: MetaNode = self
        for part in parts[:-1]:
            child = node._data.get(part)
            if not isinstance(child, dict):
                if value is None:
                    return
                node._attach()
                child = node._data[part] = {}
            node = MetaNode(child, _path=(*node._path, part))
        node._set(parts[-1], value)

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        value = self[path]
        return value is not None and not (isinstance(value, MetaNode) and not value._data)

    # -- container protocol ---------------------------------------------------------
    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __bool__(self) -> bool:
        return bool(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MetaNode):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        where = "meta" + "".join(f".{p}" for p in self._path)
        return f"<MetaNode {where} {self._data!r}>"

    def __dir__(self) -> list[str]:
        return sorted(set(self._data) | {"to_dict", "to_flat_dict"})

    def __deepcopy__(self, memo: dict) -> MetaNode:
        return MetaNode(copy.deepcopy(self._data, memo), _path=self._path)

    def __copy__(self) -> MetaNode:
        return MetaNode(self._data, _path=self._path)

    def __getstate__(self) -> dict[str, Any]:
        return {"data": self._data, "path": self._path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "_data", state["data"])
        object.__setattr__(self, "_parent", None)
        object.__setattr__(self, "_key", None)
        object.__setattr__(self, "_path", tuple(state["path"]))

    # -- conversions -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Return a deep copy of this group as nested dicts.

        Returns
        -------
        dict
            The group's content; changing it does not change the model.
        """
        return copy.deepcopy(self._data)

    def to_flat_dict(self, prefix: str | None = None) -> dict[str, Any]:
        """Flatten the group into ``{"meta.a.b": value}`` pairs.

        Parameters
        ----------
        prefix : str, optional
            Prefix of the keys; by default ``"meta"`` plus this node's path.

        Returns
        -------
        dict
            One item per leaf (lists are leaves), in tree order.
        """
        if prefix is None:
            prefix = ".".join(("meta", *self._path))
        flat: dict[str, Any] = {}
        _flatten(self._data, prefix, flat)
        return flat


def _split(path: str) -> list[str]:
    parts = [p for p in path.split(".") if p]
    if parts and parts[0] == "meta":
        parts = parts[1:]
    if not parts:
        raise KeyError(f"Empty metadata path {path!r}; use e.g. 'instrument.name'.")
    return parts


def _flatten(data: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            _flatten(value, name, out)
        else:
            out[name] = value
