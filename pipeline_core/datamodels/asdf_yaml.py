"""Reading and writing the ASDF document embedded in JWST FITS files.

The ``ASDF`` extension of a JWST file holds a complete ASDF file (header lines
plus one YAML document) whose tree carries the ``meta`` tree. Arrays are not
stored in it: they live in the FITS extensions. Only the YAML is parsed here, so
opening a file never loads the ASDF extension machinery or any binary block;
tagged nodes the framework does not interpret are kept as :mod:`asdf.tagged`
objects and written back unchanged.

Objects are the exception: a node whose tag starts with one of
:data:`OBJECT_TAG_PREFIXES` (a ``gwcs`` WCS, ``meta.wcs``) is turned into the
object by asdf's converters when the tree is read (:func:`materialize_objects`),
and a tree holding such objects is written by asdf itself, with any array inside
them stored inline (:func:`dump_tree`), so that the JWST tools read it back.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import yaml

__all__ = [
    "dump_tree",
    "load_tree",
    "materialize_objects",
    "has_objects",
    "ASDF_TAG_PREFIX",
    "OBJECT_TAG_PREFIXES",
]

#: The tag prefix of the ASDF standard's core schemas.
ASDF_TAG_PREFIX = "tag:stsci.edu:asdf/"
_ROOT_TAG = ASDF_TAG_PREFIX + "core/asdf-1.1.0"
_FILE_HEADER = b"#ASDF 1.0.0\n#ASDF_STANDARD 1.6.0\n"

#: Tags of the nodes read as objects rather than kept as tagged YAML (a gwcs WCS).
OBJECT_TAG_PREFIXES: tuple[str, ...] = ("tag:stsci.edu:gwcs/",)
_PLAIN = (str, int, float, bool, type(None), np.generic)


def load_tree(raw: bytes) -> dict[str, Any]:
    """Parse the tree of an ASDF document without reading any binary block.

    Parameters
    ----------
    raw : bytes
        The ASDF file content (e.g. the ``ASDF_METADATA`` bytes of a FITS file).

    Returns
    -------
    dict
        The tree; tagged nodes are :mod:`asdf.tagged` objects (dict subclasses
        for tagged mappings), array nodes are left as their tagged description.

    Raises
    ------
    ValueError
        If the bytes are not an ASDF document.
    """
    from asdf.util import load_yaml

    if not raw.startswith(b"#ASDF"):
        raise ValueError("the bytes do not start with '#ASDF'")
    tree = load_yaml(io.BytesIO(raw), tagged=True)
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        raise ValueError(f"the ASDF tree is a {type(tree).__name__}, not a mapping")
    return tree


def dump_tree(tree: dict[str, Any]) -> bytes:
    """Serialise a tree of plain values as an ASDF document (no binary blocks).

    Parameters
    ----------
    tree : dict
        Nested dicts, lists and scalars (numpy scalars are converted); values
        read by :func:`load_tree` keep their tags.

    Returns
    -------
    bytes
        A complete ASDF file that ``asdf.open`` reads back into the same tree.
        A tree holding objects (:func:`has_objects`, e.g. a gwcs WCS) is written
        by asdf with its converters, arrays inline.
    """
    if has_objects(tree):
        import asdf

        buffer = io.BytesIO()
        asdf.AsdfFile(tree).write_to(buffer, all_array_storage="inline")
        return buffer.getvalue()
    _register_tagged()
    body = yaml.dump(
        _Root(tree),
        Dumper=_Dumper,
        explicit_start=True,
        explicit_end=True,
        version=(1, 1),
        tags={"!": ASDF_TAG_PREFIX},
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return _FILE_HEADER + body.encode("utf-8")


class _Root(dict):
    """The root mapping of an ASDF tree (tagged ``core/asdf-1.1.0``)."""


class _Dumper(yaml.SafeDumper):
    """A YAML dumper for ASDF trees: numpy scalars, tagged nodes, the root tag."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_root(dumper: yaml.SafeDumper, data: _Root) -> yaml.Node:
    return dumper.represent_mapping(_ROOT_TAG, dict(data))


def _represent_numpy(dumper: yaml.SafeDumper, data: np.generic) -> yaml.Node:
    return dumper.represent_data(data.item())


def _represent_tuple(dumper: yaml.SafeDumper, data: tuple) -> yaml.Node:
    return dumper.represent_list(list(data))


def _represent_tagged(dumper: yaml.SafeDumper, data: Any) -> yaml.Node:
    from asdf.tagged import TaggedDict, TaggedList

    tag = data._tag
    if isinstance(data, TaggedDict):
        return dumper.represent_mapping(tag, dict(data))
    if isinstance(data, TaggedList):
        return dumper.represent_sequence(tag, list(data))
    return dumper.represent_scalar(tag, str(data))


_Dumper.add_representer(_Root, _represent_root)
_Dumper.add_representer(tuple, _represent_tuple)
_Dumper.add_multi_representer(np.generic, _represent_numpy)


def _register_tagged() -> None:
    """Teach the dumper the tagged nodes of :mod:`asdf` (imported on first use)."""
    from asdf.tagged import Tagged

    if Tagged not in _Dumper.yaml_multi_representers:
        _Dumper.add_multi_representer(Tagged, _represent_tagged)


def has_objects(tree: Any) -> bool:
    """Tell whether a tree holds values other than plain data and tagged nodes.

    Parameters
    ----------
    tree : object
        Nested dicts, lists and values.

    Returns
    -------
    bool
        True when some value is neither a dict, list, tuple, string, number,
        boolean, None, numpy scalar nor an :mod:`asdf.tagged` node (for
        instance a gwcs WCS or an astropy model).
    """
    stack = [tree]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif not isinstance(value, _PLAIN) and not _is_tagged(value):
            return True
    return False


def _is_tagged(value: Any) -> bool:
    tag = getattr(value, "_tag", None)
    return isinstance(tag, str) and type(value).__module__.startswith("asdf.")


def materialize_objects(tree: dict[str, Any], raw: bytes | None = None) -> dict[str, Any]:
    """Turn the tagged nodes of :data:`OBJECT_TAG_PREFIXES` into objects, in place.

    Parameters
    ----------
    tree : dict
        A tree from :func:`load_tree`.
    raw : bytes, optional
        The whole ASDF document the tree was read from: arrays inside an object
        that are stored in its binary blocks (as the JWST pipeline writes a WCS)
        are read from it.

    Returns
    -------
    dict
        The same tree; each node whose tag starts with one of the prefixes is
        replaced by the object asdf's converters make of it (a ``gwcs.WCS``).
        A node that cannot be converted (a converter is missing, an array is in
        an unreadable block) is kept as it is, so that saving the model writes
        it back unchanged, and a warning is logged. Trees without such nodes are
        left untouched and load no converter.
    """
    stack: list[Any] = [tree]
    blocks: list[bytes] | None = None
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            tag = getattr(value, "_tag", None)
            if isinstance(tag, str) and tag.startswith(OBJECT_TAG_PREFIXES):
                if blocks is None:
                    blocks = _blocks(raw) if raw else []
                node[key] = _to_object(value, blocks)
            elif isinstance(value, (dict, list)):
                stack.append(value)
    return tree


_BLOCK_MAGIC = b"\xd3BLK"


def _blocks(raw: bytes) -> list[bytes]:
    """The binary blocks that follow the YAML of an ASDF document (uncompressed ones)."""
    import struct

    found: list[bytes] = []
    end = raw.find(b"\n...")
    position = raw.find(_BLOCK_MAGIC, end if end >= 0 else 0)
    while position >= 0 and raw[position : position + 4] == _BLOCK_MAGIC:
        (header_size,) = struct.unpack(">H", raw[position + 4 : position + 6])
        header = raw[position + 6 : position + 6 + header_size]
        compression = header[4:8]
        allocated, used = struct.unpack(">QQ", header[8:24])
        start = position + 6 + header_size
        found.append(raw[start : start + used] if compression == b"\0\0\0\0" else b"")
        position = start + allocated
    return found


def _with_block_arrays(node: Any, blocks: list[bytes]) -> Any:
    """Replace ndarray nodes whose data is in a binary block by the arrays themselves."""
    tag = getattr(node, "_tag", "") or ""
    if isinstance(node, dict) and tag.startswith(ASDF_TAG_PREFIX + "core/ndarray") and isinstance(node.get("source"), int):
        data = blocks[node["source"]] if node["source"] < len(blocks) else b""
        if not data or not isinstance(node.get("datatype"), str):
            raise ValueError(f"array block {node['source']} cannot be read")
        order = "<" if node.get("byteorder", "little") == "little" else ">"
        dtype = np.dtype(node["datatype"]).newbyteorder(order)
        shape = tuple(node["shape"])
        count = int(np.prod(shape))
        return np.frombuffer(data, dtype, count=count, offset=int(node.get("offset", 0))).reshape(shape).copy()
    if isinstance(node, dict):
        for key, value in list(node.items()):
            node[key] = _with_block_arrays(value, blocks)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            node[index] = _with_block_arrays(value, blocks)
    return node


def _to_object(node: Any, blocks: list[bytes]) -> Any:
    """Convert one tagged node with asdf's converters (gwcs, asdf-astropy)."""
    import copy
    import logging
    import warnings

    import asdf
    from asdf import yamlutil

    try:
        prepared = _with_block_arrays(copy.deepcopy(node), blocks)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = yamlutil.tagged_tree_to_custom_tree(prepared, asdf.AsdfFile())
        if caught or getattr(result, "_tag", None):
            reason = str(caught[0].message) if caught else "no converter"
            raise ValueError(reason)
    except Exception as error:  # keep the node: the rest of the file stays usable
        logging.getLogger("steppe.datamodels").warning(
            "%s could not be read as an object (%s); it is kept as stored", node._tag, error
        )
        return node
    return result
