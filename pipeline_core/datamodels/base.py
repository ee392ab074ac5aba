"""The :class:`DataModel` base class: named arrays plus one metadata tree.

A concrete model declares its arrays with :class:`ArraySpec` records (attribute
name, FITS EXTNAME, dtype, accepted dimensionalities, shape rule). The base class
turns each record into a property that casts assigned values to the declared
dtype and checks their dimensionality, creates required arrays filled with their
default value on first access, and checks the shapes against each other when a
file is opened or saved.

Why one module of this size: the array properties, metadata access, copying
and saving of a model share the model's internal state; the file formats live
in their own modules.
"""

from __future__ import annotations

import copy
import datetime
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from pipeline_core.datamodels.allocation import current_allocator, new_filled
from pipeline_core.datamodels.deferred import DeferredImage
from pipeline_core.datamodels.meta import MetaNode, to_plain
from pipeline_core.datamodels.reading import read_file
from pipeline_core.errors import DataModelError

__all__ = ["ArraySpec", "DataModel"]

#: ``allocator(shape, dtype) -> numpy.ndarray``: where :meth:`DataModel.copy` puts arrays.
Allocator = Callable[[tuple[int, ...], np.dtype], np.ndarray]

_LIKE_RULES = ("data", "image", "ints", "groups")


@dataclass(frozen=True)
class ArraySpec:
    """Declaration of one array of a data model.

    Parameters
    ----------
    name : str
        Attribute name (lower-case EXTNAME: ``"data"``, ``"groupdq"``...).
    extname : str
        FITS extension name (``"SCI"``, ``"GROUPDQ"``...).
    dtype : str or None
        Numpy dtype of the array (values are cast to it); None for a table
        (a structured array stored as a binary-table extension).
    ndim : tuple of int
        Accepted numbers of dimensions (empty for tables).
    required : bool
        A required array reads as zeros (``fill``) of the right shape when it was
        never set; an optional one reads as None.
    like : str or None
        How the shape follows the primary array: ``"data"`` (same shape),
        ``"image"`` (its last two axes), ``"ints"`` (its first and last two axes),
        ``"groups"`` (its last three axes); None for no constraint.
    fill : float
        Value of a default-filled array.
    save_default : bool
        Whether a required array that was never set is written to files (as its
        default value). False keeps files free of all-zero extensions that
        nothing asked for: such an array is written only once it was assigned
        or its default values were changed in place.
    """

    name: str
    extname: str
    dtype: str | None
    ndim: tuple[int, ...] = ()
    required: bool = False
    like: str | None = None
    fill: float = 0
    save_default: bool = True

    @property
    def is_table(self) -> bool:
        """bool: True for a table (binary-table extension)."""
        return self.dtype is None


class DataModel:
    """Base class of every data model: arrays, a metadata tree and file I/O.

    Parameters
    ----------
    init : str, os.PathLike, tuple, numpy.ndarray, DataModel or None
        A file to open (FITS in the JWST layout, or ASDF), the shape of the
        primary array (filled with zeros), the primary array itself, or another
        model: its metadata is copied and its arrays of the same name and an
        accepted dimensionality are shared. None gives an empty model.
    **arrays : numpy.ndarray
        Arrays by attribute name (``data=...``, ``groupdq=...``), cast to their
        declared dtype.

    Raises
    ------
    DataModelError
        If the file cannot be read as this model, an array name is unknown or an
        array has the wrong dimensionality.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline_core.datamodels import RampModel
    >>> ramp = RampModel(data=np.zeros((1, 5, 8, 8)))
    >>> ramp.groupdq.shape, ramp.groupdq.dtype
    ((1, 5, 8, 8), dtype('uint8'))
    >>> ramp.meta.exposure.ngroups = 5
    """

    #: The arrays of this model, in the order they are written.
    arrays: ClassVar[tuple[ArraySpec, ...]] = ()
    #: Attribute name of the primary array (gives ``shape``).
    primary: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._specs = {spec.name: spec for spec in cls.arrays}
        for spec in cls.arrays:
            if spec.like is not None and spec.like not in _LIKE_RULES:
                raise TypeError(f"{cls.__name__}.{spec.name}: unknown shape rule {spec.like!r}")
            setattr(cls, spec.name, _array_property(spec))

    _specs: ClassVar[dict[str, ArraySpec]] = {}

    def __init__(self, init: Any = None, **arrays: Any) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._defaults: dict[str, int] = {}
        self._meta: dict[str, Any] = {}
        self._source: str | None = None
        self._closed = False
        if init is None:
            pass
        elif isinstance(init, (str, os.PathLike)):
            _, found, meta = read_file(init, model_class=type(self))
            self._arrays.update(found)
            self._meta = meta
            self._source = os.fspath(init)
        elif isinstance(init, DataModel):
            self._meta = copy.deepcopy(init._meta)
            self._meta.pop("model_type", None)
            for name, value in init._arrays.items():
                spec = self._specs.get(name)
                if spec is None or not (spec.is_table or value.ndim in spec.ndim):
                    continue
                if isinstance(value, DeferredImage) and value.dtype == np.dtype(spec.dtype):
                    self._arrays[name] = value  # still in the file: share the record
                else:
                    setattr(self, name, _loaded(value))
        elif isinstance(init, tuple):
            self._init_from_shape(init)
        elif isinstance(init, np.ndarray):
            if self.primary is None:
                raise DataModelError(f"{type(self).__name__} has no primary array to set.")
            setattr(self, self.primary, init)
        else:
            raise DataModelError(
                f"Cannot build a {type(self).__name__} from a {type(init).__name__}. "
                "Pass a file path, a shape tuple, a numpy array, another model or None."
            )
        for name, value in arrays.items():
            if name not in self._specs:
                accepted = ", ".join(self._specs)
                raise DataModelError(
                    f"{type(self).__name__} has no array {name!r}. Its arrays are: {accepted}."
                )
            setattr(self, name, value)
        self._meta.setdefault("model_type", type(self).__name__)

    def _init_from_shape(self, shape: tuple) -> None:
        if self.primary is None:
            raise DataModelError(f"{type(self).__name__} has no primary array to shape.")
        spec = self._specs[self.primary]
        if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
            raise DataModelError(
                f"Invalid shape {shape!r} for {type(self).__name__}.{spec.name}: "
                "give a tuple of non-negative integers."
            )
        self._check_ndim(spec, len(shape))
        setattr(self, spec.name, _filled(shape, spec))

    # -- metadata -------------------------------------------------------------------
    @property
    def meta(self) -> MetaNode:
        """MetaNode: the metadata tree (``model.meta.instrument.name``...)."""
        return MetaNode(self._meta)

    @meta.setter
    def meta(self, value: MetaNode | Mapping[str, Any]) -> None:
        self._meta = to_plain(value)

    def get_crds_parameters(self) -> dict[str, str | int | float | bool]:
        """Return the metadata CRDS uses to select reference files.

        Returns
        -------
        dict
            ``{"META.INSTRUMENT.NAME": "NIRCAM", ...}``: every scalar leaf (str,
            int, float, bool) of the tree, keys upper-case.
        """
        flat = MetaNode(self._meta).to_flat_dict()
        return {
            key.upper(): value
            for key, value in flat.items()
            if isinstance(value, (str, int, float, bool))
        }

    def update(self, other: DataModel, *, only: str | None = None) -> None:
        """Copy the metadata of another model into this one.

        Parameters
        ----------
        other : DataModel
            The model to copy from; its ``model_type`` is not copied.
        only : str, optional
            A group path (``"exposure"``) to restrict the copy to.
        """
        source = copy.deepcopy(other._meta)
        source.pop("model_type", None)
        if only is not None:
            node = MetaNode(source)[only]
            source = {}
            if node is not None:
                MetaNode(source)[only] = node
        _deep_update(self._meta, source)

    # -- arrays ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...] | None:
        """tuple of int or None: shape of the primary array (None when unset)."""
        if self.primary is None:
            return None
        array = self._arrays.get(self.primary)
        return None if array is None else array.shape

    def _check_ndim(self, spec: ArraySpec, ndim: int) -> None:
        if spec.ndim and ndim not in spec.ndim:
            wanted = " or ".join(f"{n}-D" for n in spec.ndim)
            source = getattr(self, "_source", None)
            where = f" in '{source}'" if source else ""
            raise DataModelError(
                f"Wrong dimensionality{where}: {type(self).__name__}.{spec.name} "
                f"({spec.extname}) must be {wanted}; got a {ndim}-D array. "
                f"{self._describe_layout()}"
            )

    def _describe_layout(self) -> str:
        parts = [
            f"{s.name}: {'table' if s.is_table else '/'.join(str(n) for n in s.ndim) + '-D'}"
            for s in self.arrays
        ]
        return f"A {type(self).__name__} holds " + ", ".join(parts) + "."

    def _expected_shape(self, spec: ArraySpec) -> tuple[int, ...] | None:
        primary = self.shape
        if primary is None or spec.like is None:
            return None
        if spec.like == "data":
            return primary
        if spec.like == "image":
            return primary[-2:]
        if spec.like == "groups":
            return primary[-3:]
        return (primary[0], *primary[-2:])  # "ints"

    def _default(self, spec: ArraySpec) -> np.ndarray | None:
        shape = self._expected_shape(spec)
        if shape is None:
            return None
        return _filled(shape, spec)

    def validate(self) -> None:
        """Check that the arrays' shapes agree with each other.

        Raises
        ------
        DataModelError
            Naming the array, its shape and the shape expected from the primary
            array (and the file the model came from, if any).
        """
        for spec in self.arrays:
            array = self._arrays.get(spec.name)
            if array is None or spec.is_table:
                continue
            self._check_ndim(spec, array.ndim)
            expected = self._expected_shape(spec)
            if expected is not None and array.shape != expected:
                where = f" in '{self._source}'" if self._source else ""
                raise DataModelError(
                    f"Inconsistent shapes{where}: {spec.extname} has shape {array.shape} but "
                    f"{self._specs[self.primary].extname} has shape {self.shape}, so "
                    f"{spec.extname} must have shape {expected}. Fix the file or the array."
                )

    def arrays_to_save(self) -> list[tuple[ArraySpec, np.ndarray]]:
        """Return the arrays a file of this model gets, in order.

        Returns
        -------
        list of (ArraySpec, numpy.ndarray)
            Every array that is set (arrays still in a lazily opened file are
            read), plus the required ones (default-filled) whose
            ``save_default`` is true; a default-filled array whose
            ``save_default`` is false is left out while it still holds only
            its default value.
        """
        out = []
        for spec in self.arrays:
            array = self._arrays.get(spec.name)
            if array is None and spec.required and spec.save_default:
                array = getattr(self, spec.name)
            elif isinstance(array, DeferredImage):
                array = getattr(self, spec.name)
            elif array is not None and not spec.save_default and self._untouched_default(spec):
                continue
            if array is not None:
                out.append((spec, array))
        return out

    def _untouched_default(self, spec: ArraySpec) -> bool:
        """Tell whether a default-filled array was only read, never written to."""
        array = self._arrays.get(spec.name)
        if array is None or id(array) != self._defaults.get(spec.name):
            return False
        if spec.fill == 0:
            return not array.any()
        return bool((array == spec.fill).all())

    def read_section(self, name: str, key: Any) -> np.ndarray:
        """Return ``getattr(self, name)[key]``, reading only that part of the file.

        For a model opened with ``open_model(path, lazy=True)`` whose array
        ``name`` was not used yet, only the bytes that hold the section are read
        from the file (integer indices and slices on the leading axes narrow the
        read; the rest of ``key`` is applied in memory). Otherwise the array in
        memory is indexed.

        Parameters
        ----------
        name : str
            Array attribute (``"data"``, ``"dq"``...).
        key : int, slice or tuple
            A numpy index, e.g. ``(3,)`` for the fourth plane of a cube or
            ``(0, slice(2, 5))`` for planes 2 to 4 of the first integration.

        Returns
        -------
        numpy.ndarray
            A new array when read from the file; a view of the array in memory
            otherwise.

        Raises
        ------
        DataModelError
            If the model has no array ``name``, or its file changed since it was
            opened.
        IndexError
            If ``key`` is out of range.

        Examples
        --------
        >>> dark = open_model("dark.fits", lazy=True)  # doctest: +SKIP
        >>> first = dark.read_section("data", 0)  # doctest: +SKIP
        """
        spec = self._specs.get(name)
        if spec is None:
            accepted = ", ".join(self._specs)
            raise DataModelError(
                f"{type(self).__name__} has no array {name!r}. Its arrays are: {accepted}."
            )
        array = self._arrays.get(name)
        if isinstance(array, DeferredImage):
            return array.read_section(key)
        array = getattr(self, name)
        if array is None:
            raise DataModelError(
                f"{type(self).__name__}.{name} is not set, so no section of it can be read."
            )
        return array[key]

    def is_loaded(self, name: str) -> bool:
        """Tell whether array ``name`` is in memory (False while it is still in the file).

        Parameters
        ----------
        name : str
            Array attribute.

        Returns
        -------
        bool
            False for an array of a lazily opened file that was not used yet, or
            an array that is not set; True otherwise.
        """
        array = self._arrays.get(name)
        return array is not None and not isinstance(array, DeferredImage)

    def deferred(self, name: str) -> DeferredImage | None:
        """Return where array ``name`` lies in its file, while it is not read yet.

        Parameters
        ----------
        name : str
            Array attribute.

        Returns
        -------
        DeferredImage or None
            The description of the array in its file (picklable: path, offset,
            shape, types) for an array of a lazily opened file that was not used
            yet; None otherwise.
        """
        array = self._arrays.get(name)
        return array if isinstance(array, DeferredImage) else None

    # -- files ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, overwrite: bool = True) -> str:
        """Write the model to a file, atomically.

        ``.asdf`` paths give an ASDF file; anything else a FITS file in the JWST
        layout (primary header keywords, one extension per array, the metadata
        tree in an ``ASDF`` extension). Sets ``meta.filename``, ``meta.date``
        and ``meta.model_type`` first.

        Parameters
        ----------
        path : str or os.PathLike
            Output file; its folder must exist.
        overwrite : bool
            Replace an existing file (default); if False an existing file is an
            error.

        Returns
        -------
        str
            The path written.

        Raises
        ------
        DataModelError
            If the file exists and ``overwrite`` is False, or the arrays are
            inconsistent.
        """
        path = os.fspath(path)
        if not overwrite and os.path.exists(path):
            raise DataModelError(
                f"Cannot save {type(self).__name__} to '{path}': the file exists. "
                "Pass overwrite=True or choose another name."
            )
        self.validate()
        self._meta["filename"] = os.path.basename(path)
        self._meta["model_type"] = type(self).__name__
        now = datetime.datetime.now(datetime.timezone.utc)
        self._meta["date"] = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}"
        if path.lower().endswith(".asdf"):
            from pipeline_core.datamodels.asdf_io import write_asdf

            write_asdf(self, path)
        else:
            from pipeline_core.datamodels.fits_io import write_fits

            write_fits(self, path)
        return path

    def copy(self, *, allocator: Allocator | None = None, threads: int = 1) -> DataModel:
        """Return a deep copy (arrays and metadata are copied).

        Parameters
        ----------
        allocator : callable, optional
            ``allocator(shape, dtype) -> numpy.ndarray`` returns the (uninitialised)
            array each array is copied into, for instance one in shared memory
            (:func:`pipeline_core.parallel.rows.shared_allocator`). Default: the
            allocator chosen with :func:`~pipeline_core.datamodels.allocation.arrays_from`
            for this context, else new numpy arrays.
        threads : int, optional
            Copy each large array (8 MiB or more) with this many threads, each a part
            of its rows (numpy copies without holding the interpreter lock, so they
            run at the same time). Default 1: this thread only.

        Returns
        -------
        DataModel
            A model of the same class, independent of this one.
        """
        new = type(self).__new__(type(self))
        new._arrays = {
            name: array
            if isinstance(array, DeferredImage)
            else _copy_array(array, allocator, threads)
            for name, array in self._arrays.items()
        }
        new._defaults = {
            name: id(new._arrays[name])
            for name, ident in self._defaults.items()
            if id(self._arrays.get(name)) == ident
        }
        new._meta = copy.deepcopy(self._meta)
        new._source = self._source
        new._closed = False
        return new

    def close(self) -> None:
        """Release the model's resources.

        Files are closed as soon as they are read (a lazily opened file is opened
        again for each deferred read), so this only marks the model closed; its
        arrays stay usable.
        """
        self._closed = True

    def __enter__(self) -> DataModel:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def source_path(self) -> str | None:
        """str or None: the file the model was opened from, if any."""
        return self._source

    def __repr__(self) -> str:
        shape = "" if self.shape is None else str(self.shape)
        name = self._meta.get("filename")
        origin = f" from {name}" if name else ""
        return f"<{type(self).__name__}{shape}{origin}>"


#: Arrays smaller than this are copied by one thread.
_THREADED_COPY_BYTES = 8 << 20


def _copy_array(array: np.ndarray, allocator: Allocator | None, threads: int = 1) -> np.ndarray:
    threaded = threads > 1 and array.nbytes >= _THREADED_COPY_BYTES and array.ndim > 0
    allocator = allocator or current_allocator()
    if allocator is None and not threaded:
        return array.copy()
    copy = allocator(array.shape, array.dtype) if allocator is not None else None
    if copy is None:
        copy = np.empty(array.shape, array.dtype)
    if threaded:
        _threaded_copyto(copy, array, threads)
    else:
        np.copyto(copy, array, casting="no")
    return copy


def _threaded_copyto(target: np.ndarray, source: np.ndarray, threads: int) -> None:
    """``np.copyto(target, source)`` in `threads` parts along a leading axis.

    The first axis with at least `threads` entries (the longer of the first two if
    neither has).
    """
    from concurrent.futures import ThreadPoolExecutor

    lead = source.shape[: min(2, source.ndim)]
    fits = [i for i, n in enumerate(lead) if n >= threads]
    axis = fits[0] if fits else int(np.argmax(lead))
    edges = np.linspace(0, source.shape[axis], threads + 1).astype(int)
    parts = [
        (target[(slice(None),) * axis + (slice(lo, hi),)], source[(slice(None),) * axis + (slice(lo, hi),)])
        for lo, hi in zip(edges[:-1], edges[1:])
        if hi > lo
    ]
    with ThreadPoolExecutor(max_workers=len(parts) - 1 or 1) as pool:
        futures = [pool.submit(np.copyto, out, part, casting="no") for out, part in parts[1:]]
        np.copyto(parts[0][0], parts[0][1], casting="no")
        for future in futures:
            future.result()


def _array_property(spec: ArraySpec) -> property:
    def getter(self: DataModel) -> np.ndarray | None:
        array = self._arrays.get(spec.name)
        if isinstance(array, DeferredImage):
            array = self._arrays[spec.name] = array.read()
        elif array is None and spec.required:
            array = self._default(spec)
            if array is not None:
                self._arrays[spec.name] = array
                self._defaults[spec.name] = id(array)
        return array

    def setter(self: DataModel, value: Any) -> None:
        self._defaults.pop(spec.name, None)
        if value is None:
            self._arrays.pop(spec.name, None)
            return
        if spec.is_table:
            array = value if isinstance(value, np.ndarray) else np.asarray(value)
        else:
            array = np.asarray(value, dtype=spec.dtype)
            self._check_ndim(spec, array.ndim)
        self._arrays[spec.name] = array

    def deleter(self: DataModel) -> None:
        self._defaults.pop(spec.name, None)
        self._arrays.pop(spec.name, None)

    kind = "table" if spec.is_table else f"{spec.dtype}, {'/'.join(map(str, spec.ndim))}-D"
    default = "zeros when unset" if spec.required else "None when unset"
    doc = f"numpy.ndarray or None: the {spec.extname} extension ({kind}; {default})."
    getter.__doc__ = doc
    getter.__name__ = spec.name
    return property(getter, setter, deleter, doc)


def _filled(shape: tuple[int, ...], spec: ArraySpec) -> np.ndarray:
    """A new array of ``spec.fill`` (:func:`~pipeline_core.datamodels.allocation.new_filled`)."""
    return new_filled(shape, spec.dtype, spec.fill)


def _loaded(value: Any) -> Any:
    return value.read() if isinstance(value, DeferredImage) else value


def _deep_update(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value
