"""Reading and writing the ASDF document embedded in JWST FITS files.

The ``ASDF`` extension of a JWST file holds a complete ASDF file (header lines
plus one YAML document) whose tree carries the ``meta`` tree. Arrays are not
stored in it: they live in the FITS extensions. Only the YAML is parsed here, so
opening a file never loads the ASDF extension machinery or any binary block;
tagged nodes the framework does not interpret (a WCS, say) are kept as
:mod:`asdf.tagged` objects and written back unchanged.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import yaml

__all__ = ["dump_tree", "load_tree", "ASDF_TAG_PREFIX"]

#: The tag prefix of the ASDF standard's core schemas.
ASDF_TAG_PREFIX = "tag:stsci.edu:asdf/"
_ROOT_TAG = ASDF_TAG_PREFIX + "core/asdf-1.1.0"
_FILE_HEADER = b"#ASDF 1.0.0\n#ASDF_STANDARD 1.6.0\n"


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
    """
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
