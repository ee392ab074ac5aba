"""Level-2 associations: the ``asn.json`` files the JWST Image2 stage accepts.

An association names products, each made of members::

    {"asn_type": "image2", "asn_pool": "pool.csv", "asn_id": "a3001",
     "products": [{"name": "jw01234001001_01101_00001_nrca1",
                   "members": [{"expname": "jw..._rate.fits", "exptype": "science"},
                               {"expname": "bg_rate.fits", "exptype": "background"}]}]}

:func:`load_level2` reads such a file (member paths are relative to its folder)
or makes the one-product association of a single exposure (a path or an open
model), as JWST's ``LoadAsLevel2Asn`` does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline_core.errors import StepError

__all__ = [
    "Level2Product", "Level2Association", "load_level2", "product_name_from", "read_association", "member_file",
]

#: Association types of level-2 imaging and the member types a product may hold.
LEVEL2_TYPES = ("image2", "spec2", "tso-image2", "tso-spec2", "wfs-image2")


@dataclass
class Level2Product:
    """One product of a level-2 association.

    Parameters
    ----------
    name : str
        Product name: the output files are ``<name>_<suffix>.fits``.
    members : dict
        Member type (lower case: ``science``, ``background``...) -> list of
        members, each a path or an open data model.
    """

    name: str
    members: dict[str, list[Any]] = field(default_factory=dict)

    def of_type(self, exptype: str) -> list[Any]:
        """Return the members of one type.

        Parameters
        ----------
        exptype : str
            ``"science"``, ``"background"``... (any case).

        Returns
        -------
        list
            Paths or models, in association order (empty when none).
        """
        return list(self.members.get(exptype.lower(), []))


@dataclass
class Level2Association:
    """A level-2 association: its products and where it came from.

    Parameters
    ----------
    products : list of Level2Product
    pool : str
        The ``asn_pool`` name (recorded in products as ``ASNPOOL``).
    table : str
        The association file's name, or ``"singleton"`` for one exposure
        (recorded as ``ASNTABLE``).
    """

    products: list[Level2Product]
    pool: str = " "
    table: str = "singleton"


def product_name_from(filename: str) -> str:
    """Return the product name of an exposure file: its name without suffix and extension.

    Parameters
    ----------
    filename : str
        E.g. ``"jw01234001001_01101_00001_nrca1_rate.fits"``.

    Returns
    -------
    str
        E.g. ``"jw01234001001_01101_00001_nrca1"``: the extension and a last
        ``_<suffix>`` part (``rate``, ``rateints``, ``cal``...) removed.
    """
    stem = os.path.basename(filename)
    for ext in (".fits.gz", ".fits", ".asdf"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
            break
    head, sep, tail = stem.rpartition("_")
    if sep and tail.lower() in {"rate", "rateints", "cal", "calints", "bsub", "bsubints", "uncal"}:
        return head
    return stem


def _fail(path: str, problem: str) -> StepError:
    return StepError(
        f"association file '{path}': {problem}. A level-2 association is JSON with "
        "'asn_type' (e.g. 'image2') and 'products': [{'name': ..., 'members': [{'expname': "
        "<file>, 'exptype': 'science' | 'background' | ...}]}]; fix the file or give the "
        "exposure itself."
    )


def read_association(path: str, types: tuple[str, ...], wrong_type: str,
                     fail: Callable[[str, str], StepError]) -> dict[str, Any]:
    """Read an association file: JSON with a non-empty ``products`` list and an accepted ``asn_type``.

    Parameters
    ----------
    path : str
        The ``.json`` file.
    types : tuple of str
        The ``asn_type`` values accepted (a file without one is accepted too).
    wrong_type : str
        How the message names them after "not ", e.g. ``"one of ('image3',)"``.
    fail : callable
        ``fail(path, problem)`` returns the error to raise, with the remedy.

    Returns
    -------
    dict
        The association's tree.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            tree = json.load(handle)
    except (OSError, ValueError) as error:
        raise fail(path, f"cannot be read as JSON ({error})") from error
    if not isinstance(tree, dict) or not isinstance(tree.get("products"), list) or not tree["products"]:
        raise fail(path, "it has no 'products' list")
    asn_type = str(tree.get("asn_type", "")).lower()
    if asn_type and asn_type not in types:
        raise fail(path, f"asn_type is {tree.get('asn_type')!r}, not {wrong_type}")
    return tree


def member_file(path: str, expname: str, label: str) -> str:
    """Return the path of a member (relative to the association's folder); it must exist.

    ``label`` names the member in the error, e.g. ``"'x_cal.fits' (science)"``.
    """
    folder = os.path.dirname(os.path.abspath(path))
    full = expname if os.path.isabs(expname) else os.path.join(folder, expname)
    if not os.path.exists(full):
        raise StepError(
            f"association file '{path}': member {label} does not exist in {folder}; member "
            "paths are relative to the association's folder. Fix the path or put the file there."
        )
    return full


def _read_json(path: str) -> Level2Association:
    tree = read_association(path, LEVEL2_TYPES, f"a level-2 type {LEVEL2_TYPES}", _fail)
    products = []
    for index, entry in enumerate(tree["products"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("members"), list):
            raise _fail(path, f"product {index} has no 'members' list")
        name = str(entry.get("name") or "")
        product = Level2Product(name=name)
        for member in entry["members"]:
            if not isinstance(member, dict) or "expname" not in member or "exptype" not in member:
                raise _fail(path, f"a member of product {index} ({member!r}) lacks 'expname' or 'exptype'")
            expname = str(member["expname"])
            full = member_file(path, expname, f"{expname!r} ({member['exptype']})")
            product.members.setdefault(str(member["exptype"]).lower(), []).append(full)
        if not product.of_type("science"):
            raise _fail(path, f"product {index} ({name!r}) has no member of exptype 'science'")
        if not product.name:
            product.name = product_name_from(product.of_type("science")[0])
        products.append(product)
    pool = str(tree.get("asn_pool") or " ")
    return Level2Association(products=products, pool=pool, table=os.path.basename(path))


def load_level2(source: Any) -> Level2Association:
    """Return the level-2 association of an input.

    Parameters
    ----------
    source : str, os.PathLike or DataModel
        An association file (``.json``), one exposure file, or an open model.

    Returns
    -------
    Level2Association
        For a single exposure: one product named after the file (or the
        model's ``meta.filename``) with that exposure as its science member.

    Raises
    ------
    StepError
        When the association file cannot be read, is not a level-2
        association, or names members that do not exist.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path.lower().endswith(".json"):
            return _read_json(path)
        return Level2Association([Level2Product(product_name_from(path), {"science": [path]})])
    name = getattr(getattr(source, "meta", None), "filename", None) or "singleton"
    return Level2Association([Level2Product(product_name_from(str(name)), {"science": [source]})])
