"""Level-3 associations and the model library the Image3 steps work on.

A level-3 association (``asn_type`` ``image3``) names one product made of many
exposures::

    {"asn_type": "image3", "asn_id": "a3001", "asn_pool": "pool.csv",
     "products": [{"name": "jw01234-a3001_t001_nircam_clear-f200w",
                   "members": [{"expname": "jw..._00001_nrca1_cal.fits", "exptype": "science"},
                               {"expname": "jw..._00002_nrca1_cal.fits", "exptype": "science"}]}]}

:class:`ModelLibrary` holds such a product's exposures without keeping them
all in memory: a member is opened from its file when a step borrows it and
released when the step shelves it back. With ``on_disk=True`` a member file is
opened lazily (metadata at once, arrays when used), a model a step changed is
written to a temporary folder (under its own name, one sub-folder per member)
and read again on the next borrow, and nothing is kept between borrows, so at
most the models being borrowed are in memory; with ``on_disk=False`` (the
steps' ``in_memory`` default) borrowed models stay in memory once opened.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from builtin_steps.association import member_file, product_name_from, read_association
from pipeline_core.datamodels import open_model
from pipeline_core.errors import StepError

__all__ = ["Level3Association", "load_level3", "ModelLibrary", "exposure_group", "as_library"]

#: Association types read as level-3 imaging products.
LEVEL3_TYPES = ("image3",)


@dataclass
class Level3Association:
    """The product of a level-3 association.

    Parameters
    ----------
    name : str
        Product name: outputs are ``<name>_<suffix>`` (``i2d``, ``cat``, ``segm``).
    members : list
        Science members: paths or open data models, in association order.
    table : str
        The association file's name (``ASNTABLE``), ``"singleton"`` otherwise.
    pool : str
        The ``asn_pool`` (``ASNPOOL``).
    """

    name: str
    members: list[Any]
    table: str = "singleton"
    pool: str = " "


def _fail(path: str, problem: str) -> StepError:
    return StepError(
        f"association file '{path}': {problem}. A level-3 association is JSON with 'asn_type' "
        "'image3' and 'products': [{'name': ..., 'members': [{'expname': <cal file>, 'exptype': "
        "'science'}]}]; fix the file or give a list of calibrated images."
    )


def _read_json(path: str) -> Level3Association:
    tree = read_association(path, LEVEL3_TYPES, f"one of {LEVEL3_TYPES}", _fail)
    product = tree["products"][0]
    if not isinstance(product, dict) or not isinstance(product.get("members"), list):
        raise _fail(path, "product 0 has no 'members' list")
    members = []
    for member in product["members"]:
        if not isinstance(member, dict) or "expname" not in member or "exptype" not in member:
            raise _fail(path, f"member {member!r} lacks 'expname' or 'exptype'")
        if str(member["exptype"]).lower() != "science":
            continue
        expname = str(member["expname"])
        members.append(member_file(path, expname, repr(expname)))
    if not members:
        raise _fail(path, "its product has no member of exptype 'science'")
    name = str(product.get("name") or os.path.splitext(os.path.basename(path))[0])
    return Level3Association(name, members, os.path.basename(path), str(tree.get("asn_pool") or " "))


def load_level3(source: Any) -> Level3Association:
    """Return the level-3 product of an input.

    Parameters
    ----------
    source : str, os.PathLike, DataModel or sequence of those
        An association file (``.json``), a list of images (paths or models),
        or one image.

    Returns
    -------
    Level3Association
        For a list, the product is named after the first member's file name.

    Raises
    ------
    StepError
        When the file cannot be read, is not an ``image3`` association, or
        names members that do not exist.
    """
    if isinstance(source, (str, os.PathLike)) and os.fspath(source).lower().endswith(".json"):
        return _read_json(os.fspath(source))
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    if not items:
        raise StepError("the Image3 input is an empty list; give an association file or calibrated images.")
    first = items[0]
    name = os.fspath(first) if isinstance(first, (str, os.PathLike)) else (first.meta.filename or "image3")
    return Level3Association(product_name_from(str(name)), items)


def exposure_group(model: Any) -> str:
    """Return the exposure-group id of a model (jwst's ``group_id``).

    Parameters
    ----------
    model : DataModel
        An image with observation metadata.

    Returns
    -------
    str
        ``jw<program><observation><visit>_<visit group><sequence><activity>_<exposure>``,
        or the file name when those are missing.
    """
    obs = model.meta.observation
    parts = (obs.program_number, obs.observation_number, obs.visit_number, obs.visit_group,
             obs.sequence_id, obs.activity_id, obs.exposure_number)
    if any(p is None for p in parts):
        return str(model.meta.filename or id(model))
    p, o, v, vg, s, a, e = parts
    return f"jw{p}{o}{v}_{vg}{s}{a}_{e}"


class ModelLibrary(Sequence):
    """The exposures of a level-3 product, opened on demand.

    Parameters
    ----------
    source : str, os.PathLike, DataModel, sequence of those, or Level3Association
        What :func:`load_level3` accepts.
    on_disk : bool
        Keep models out of memory between borrows (changed models are written
        to a temporary folder, removed by :meth:`close`).

    Notes
    -----
    ``library[i]`` borrows member ``i`` (opening it when needed); give it back
    with :meth:`shelve` (``modify=True`` when it changed). Iterating borrows
    each member in turn without shelving; use :meth:`models` to borrow and
    shelve in one loop.
    """

    def __init__(self, source: Any, *, on_disk: bool = False) -> None:
        asn = source if isinstance(source, Level3Association) else load_level3(source)
        self.asn = asn
        self.on_disk = bool(on_disk)
        self._sources: list[Any] = list(asn.members)
        self._loaded: dict[int, Any] = {}
        self._tmpdir: str | None = None
        self._cleanup: weakref.finalize | None = None
        self._groups: list[str] | None = None

    # ------------------------------------------------------------------ Sequence
    def __len__(self) -> int:
        return len(self._sources)

    def __getitem__(self, index: int) -> Any:  # type: ignore[override]
        if isinstance(index, slice):
            raise TypeError("ModelLibrary does not support slices; borrow members one at a time")
        if index < 0:
            index += len(self)
        if index in self._loaded:
            return self._loaded[index]
        source = self._sources[index]
        is_file = isinstance(source, (str, os.PathLike))
        model = open_model(source, lazy=self.on_disk and is_file)  # a model passes through
        if not self.on_disk or not is_file:
            self._loaded[index] = model
        return model

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self[index]

    # ------------------------------------------------------------------ borrowing
    def shelve(self, index: int, model: Any, *, modify: bool = True) -> None:
        """Give back a borrowed model.

        Parameters
        ----------
        index : int
            Its position.
        model : DataModel
            The model borrowed (possibly changed).
        modify : bool
            Whether it changed: on disk, a changed model is written to the
            library's temporary folder and read from there next time.
        """
        if not self.on_disk:
            self._loaded[index] = model
            return
        if not modify:
            return
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(prefix="steppe-library-")
            # removed by close(), or at the latest when the library is garbage or the interpreter exits
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmpdir, ignore_errors=True)
        # one folder per member: the file keeps the member's own name (saving sets meta.filename)
        folder = os.path.join(self._tmpdir, f"{index:05d}")
        os.makedirs(folder, exist_ok=True)
        name = os.path.basename(str(model.meta.filename or f"member{index}.fits"))
        if not name.lower().endswith(".fits"):
            name += ".fits"
        path = os.path.join(folder, name)
        model.save(path)
        self._sources[index] = path
        self._loaded.pop(index, None)

    def models(self, *, modify: bool = True) -> Iterator[tuple[int, Any]]:
        """Borrow each member in turn, shelving it when the loop moves on.

        Parameters
        ----------
        modify : bool
            Whether the loop changes the models.

        Yields
        ------
        (int, DataModel)
            Index and model.
        """
        for index in range(len(self)):
            model = self[index]
            yield index, model
            self.shelve(index, model, modify=modify)

    def group_ids(self) -> list[str]:
        """Return each member's exposure group (:func:`exposure_group`)."""
        if self._groups is None:
            self._groups = [exposure_group(m) for _, m in self.models(modify=False)]
        return list(self._groups)

    def close(self) -> None:
        """Drop loaded models and remove the temporary folder."""
        self._loaded.clear()
        if self._cleanup is not None:
            self._cleanup()
        self._tmpdir = self._cleanup = None

    def __enter__(self) -> ModelLibrary:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def as_library(step_input: Any, *, on_disk: bool = False) -> ModelLibrary:
    """Return the input as a :class:`ModelLibrary` (passing a library through).

    Parameters
    ----------
    step_input : ModelLibrary, association file, image or list of images
        The input of an Image3 step.
    on_disk : bool
        For a new library: see :class:`ModelLibrary`.

    Returns
    -------
    ModelLibrary
    """
    if isinstance(step_input, ModelLibrary):
        return step_input
    return ModelLibrary(step_input, on_disk=on_disk)
