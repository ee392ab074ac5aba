"""FITS files in the JWST layout: reading into models and writing models out.

Layout: a primary HDU whose header holds the metadata as keywords, one image
extension per array (``EXTNAME`` = the array's name: ``SCI``, ``PIXELDQ``,
``GROUPDQ``, ``ERR``, ``DQ``...), binary tables (``INT_TIMES``, ``DQ_DEF``) and a
last ``ASDF`` binary table whose one cell holds an ASDF document with the
``meta`` tree.

Reading copies every array exactly once, from the file into a native-endian,
writable array of the model's dtype (a ``uint16`` ramp becomes ``float32`` in the
same pass); the file is closed before returning. A lazy read (``open_model(path,
lazy=True)``) records where each image array lies instead, and reads it, or the
part of it asked for, later (:mod:`pipeline_core.datamodels.deferred`). Writing hands the arrays to
:mod:`astropy.io.fits` without copying floating-point or ``uint8`` arrays.

Why one module of this size: the JWST FITS layout is one concept read and
written symmetrically (extension index, header keywords, ASDF extension, array
checks); the raw value reads live in :mod:`~pipeline_core.datamodels.rawio`.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline_core.datamodels.allocation import new_array
from pipeline_core.datamodels.asdf_yaml import dump_tree, load_tree, materialize_objects
from pipeline_core.datamodels.deferred import DeferredImage
from pipeline_core.datamodels.keywords import keywords
from pipeline_core.datamodels.rawio import convert, read_image_data
from pipeline_core.errors import DataModelError
from pipeline_core.output import atomic_write

if TYPE_CHECKING:  # pragma: no cover
    from astropy.io import fits

    from pipeline_core.datamodels.base import ArraySpec, DataModel

__all__ = ["ClassChooser", "read_fits", "write_fits", "ASDF_EXTNAME", "fits_hash"]

#: Picks a model class from a file: ``choose(model_type=, reftype=, extensions=, source=)``.
ClassChooser = Callable[..., "type[DataModel]"]

#: EXTNAME of the extension holding the ASDF metadata tree.
ASDF_EXTNAME = "ASDF"
_ASDF_COLUMN = "ASDF_METADATA"
_BLOCK = 2880


# ---------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------
def read_fits(
    path: str,
    *,
    model_class: type[DataModel] | None = None,
    choose_class: ClassChooser | None = None,
    lazy: bool = False,
    threads: int = 1,
) -> tuple[type[DataModel], dict[str, np.ndarray], dict[str, Any]]:
    """Read a FITS file in the JWST layout (see :func:`read_file`).

    Parameters
    ----------
    path : str
        The FITS file.
    model_class : type, optional
        The model class to read it as; chosen from the file when None.
    choose_class : callable, optional
        Picks the class from the file when ``model_class`` is None, called as
        ``choose_class(model_type=, reftype=, extensions=, source=)``
        (:func:`~pipeline_core.datamodels.factory.model_class_for`).
    lazy : bool
        Leave the image arrays of an uncompressed file in the file, as
        :class:`~pipeline_core.datamodels.deferred.DeferredImage` records
        (tables are always read).
    threads : int
        Threads that read each large image at once
        (:func:`~pipeline_core.datamodels.rawio.read_image_data`).

    Returns
    -------
    (type, dict, dict)
        The model class, its arrays by attribute name, and the ``meta`` tree.
    """
    from astropy.io import fits

    with _open_fits(path) as hdul, _raw_handle(path) as handle:
        if handle is not None:  # sizes of a compressed file are checked by gzip itself
            _check_structure(hdul, path)
        index = _index_extensions(hdul)
        tree = _read_asdf_tree(hdul, index, path)
        meta = tree.get("meta")
        meta = dict(meta) if isinstance(meta, dict) else {}
        trust_tree = bool(meta) and tree.get("_fits_hash") == fits_hash(hdul)
        _meta_from_headers(hdul, index, meta, overwrite=not trust_tree)

        if model_class is None:
            if choose_class is None:
                raise TypeError("read_fits needs model_class or choose_class")
            ndims = {
                name: hdul[i].header.get("NAXIS", 0)
                for name, i in index.items()
                if isinstance(hdul[i], (fits.ImageHDU, fits.PrimaryHDU))
            }
            model_class = choose_class(
                model_type=meta.get("model_type"),
                reftype=meta.get("reftype"),
                extensions=ndims,
                source=path,
            )

        _require_primary(model_class, index, path)
        arrays: dict[str, np.ndarray] = {}
        for spec in model_class.arrays:
            if spec.extname not in index:
                continue
            hdu = hdul[index[spec.extname]]
            if spec.is_table:
                if isinstance(hdu, fits.BinTableHDU):
                    arrays[spec.name] = _table_to_native(hdu)
                continue
            if isinstance(hdu, fits.ImageHDU) and not hdu.header.get("NAXIS", 0):
                continue  # a dataless extension (stdatamodels writes one for an unset array): absent
            _check_image(hdu, spec, model_class, path)
            # Tile-compressed images are decompressed by astropy, not read directly.
            direct = None if isinstance(hdu, fits.CompImageHDU) else handle
            if lazy and direct is not None and hdu.header.get("NAXIS", 0):
                arrays[spec.name] = _deferred(hdul, index[spec.extname], np.dtype(spec.dtype), path)
                continue
            arrays[spec.name] = _image_to_native(
                hdul, index[spec.extname], np.dtype(spec.dtype), direct, threads=threads
            )

    _validate(model_class, arrays, path)
    meta["model_type"] = model_class.__name__
    meta["filename"] = os.path.basename(path)
    return model_class, arrays, meta


@contextlib.contextmanager
def _raw_handle(path: str) -> Iterator[Any]:
    """Yield the file opened for direct reads of image data (None if compressed)."""
    with open(path, "rb", buffering=0) as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
        yield None if compressed else handle


def _require_primary(model_class: type[DataModel], index: dict[str, int], path: str) -> None:
    if model_class.primary is None:
        return
    spec = model_class._specs[model_class.primary]
    if spec.extname not in index:
        found = ", ".join(name for name in index if name != ASDF_EXTNAME) or "none"
        raise DataModelError(
            f"'{path}' has no {spec.extname} extension, which a {model_class.__name__} needs "
            f"for its {spec.name} array (extensions found: {found}). Check that the file is "
            f"a {model_class.__name__} product."
        )


@contextlib.contextmanager
def _open_fits(path: str) -> Iterator[fits.HDUList]:
    from astropy.io import fits

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            hdul = fits.open(
                path,
                mode="readonly",
                memmap=True,
                do_not_scale_image_data=True,
                lazy_load_hdus=False,
            )
        except (OSError, ValueError, TypeError, IndexError, KeyError) as exc:
            raise DataModelError(
                f"Cannot read '{path}' as FITS: {str(exc).rstrip('.')}. The file is truncated "
                "or corrupt; write it again or fetch a fresh copy."
            ) from exc
    problems = [str(w.message) for w in caught if _is_structure_warning(w.message)]
    if problems:
        hdul.close()
        raise DataModelError(
            f"Cannot read '{path}': {problems[0].strip()} The file is truncated or corrupt; "
            "write it again or fetch a fresh copy."
        )
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    try:
        yield hdul
    finally:
        hdul.close()


def _is_structure_warning(message: Warning | str) -> bool:
    text = str(message).lower()
    return "truncated" in text or "error validating header" in text or "corrupt" in text


def _check_structure(hdul: fits.HDUList, path: str) -> None:
    """Raise if an HDU's data runs past the end of the file or bytes are left over."""
    from astropy.io import fits

    size = os.path.getsize(path)
    end = 0
    for i, hdu in enumerate(hdul):
        info = hdul.fileinfo(i)
        if info is None:  # pragma: no cover - HDUs created in memory
            continue
        if isinstance(hdu, fits.CompImageHDU):
            # The header describes the decompressed image; the file holds the
            # compressed table, whose padded size astropy reads from the file.
            needed = info["datLoc"] + info["datSpan"]
        else:
            needed = info["datLoc"] + _data_bytes(hdu.header)
        if needed > size:
            raise DataModelError(
                f"'{path}' is truncated: HDU {i} ({hdu.name or 'PRIMARY'}) needs {needed} bytes "
                f"but the file has {size}. Write the file again or fetch a fresh copy."
            )
        end = max(end, info["datLoc"] + info["datSpan"])
    if size - end >= _BLOCK:
        raise DataModelError(
            f"'{path}' is corrupt or truncated: {size - end} bytes after the last complete "
            "HDU could not be read as FITS. Write the file again or fetch a fresh copy."
        )


def _data_bytes(header: fits.Header) -> int:
    naxis = header.get("NAXIS", 0)
    if not naxis:
        return 0
    count = math.prod(header.get(f"NAXIS{i}", 0) for i in range(1, naxis + 1))
    bits = abs(header.get("BITPIX", 8))
    return bits // 8 * header.get("GCOUNT", 1) * (header.get("PCOUNT", 0) + count)


def _index_extensions(hdul: fits.HDUList) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, hdu in enumerate(hdul):
        if i == 0:
            continue
        name = (hdu.name or "").upper()
        if name and name not in index:
            index[name] = i
    return index


def _check_image(hdu: Any, spec: ArraySpec, model_class: type, path: str) -> None:
    from astropy.io import fits

    if not isinstance(hdu, (fits.ImageHDU, fits.PrimaryHDU, fits.CompImageHDU)):
        raise DataModelError(
            f"'{path}': extension {spec.extname} is a {type(hdu).__name__}, not an image; "
            f"a {model_class.__name__} stores {spec.name} as an image extension."
        )
    ndim = hdu.header.get("NAXIS", 0)
    if spec.ndim and ndim not in spec.ndim:
        wanted = " or ".join(f"{n}-D" for n in spec.ndim)
        raise DataModelError(
            f"Wrong dimensionality in '{path}': extension {spec.extname} is {ndim}-D but a "
            f"{model_class.__name__} needs it {wanted}. Open the file with the model that "
            "matches its content (open_model picks it from the file)."
        )


_RAW_DTYPES = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}


def _image_to_native(
    hdul: Any, position: int, dtype: np.dtype, handle: Any, *, threads: int = 1
) -> np.ndarray:
    """Read one image HDU into a new native array of ``dtype``, applying BZERO/BSCALE.

    The data are read straight from the file into the result (byte-swapped in
    place) or, when the stored type differs, converted chunk by chunk, so the
    only full-size allocation is the result itself. ``handle`` is the open file
    (None for gzip files and tile-compressed images, which go through astropy's
    own reader).
    """
    hdu = hdul[position]
    shape, raw_dtype, bzero, bscale = _image_layout(hdul, position)
    out = new_array(shape, dtype)
    if out.size == 0:
        return out
    if handle is None:
        convert(hdu.data, out, bzero, bscale)
        return out
    handle.seek(hdul.fileinfo(position)["datLoc"])
    read_image_data(handle, out.reshape(-1), raw_dtype, bzero, bscale, threads=threads)
    return out


def _image_layout(hdul: Any, position: int) -> tuple[tuple[int, ...], np.dtype, float, float]:
    """Return (shape, stored dtype, BZERO, BSCALE) of an image HDU."""
    header = hdul[position].header
    naxis = header.get("NAXIS", 0)
    shape = tuple(header[f"NAXIS{i}"] for i in range(naxis, 0, -1)) if naxis else (0,)
    raw_dtype = np.dtype(_RAW_DTYPES[header["BITPIX"]])
    bzero = header.get("BZERO", 0) or 0
    bscale = header.get("BSCALE", 1)
    bscale = 1 if bscale in (None, 1, 1.0) else bscale
    return shape, raw_dtype, bzero, bscale


def _deferred(hdul: Any, position: int, dtype: np.dtype, path: str) -> Any:
    shape, raw_dtype, bzero, bscale = _image_layout(hdul, position)
    offset = hdul.fileinfo(position)["datLoc"]
    return DeferredImage(path, offset, shape, raw_dtype, dtype, bzero, bscale)


def _table_to_native(hdu: Any) -> np.ndarray:
    """Copy a binary table into a native structured array (text columns as str)."""
    data = hdu.data
    if data is None:
        return np.zeros((0,), dtype=[])
    columns = {}
    for name in data.names:
        column = np.asarray(data[name])
        if column.dtype.kind == "S":
            column = np.char.decode(column, "ascii", "replace")
        columns[name] = column.astype(column.dtype.newbyteorder("="), copy=False)
    dtype = [(name, col.dtype, col.shape[1:]) for name, col in columns.items()]
    out = np.empty(len(data), dtype=dtype)
    for name, column in columns.items():
        out[name] = column
    return out


def _read_asdf_tree(hdul: fits.HDUList, index: dict[str, int], path: str) -> dict[str, Any]:
    if ASDF_EXTNAME not in index:
        return {}
    hdu = hdul[index[ASDF_EXTNAME]]
    try:
        raw = np.asarray(hdu.data[_ASDF_COLUMN][0], dtype=np.uint8).tobytes()
        tree = load_tree(raw)
    except Exception as exc:
        raise DataModelError(
            f"'{path}': the ASDF extension could not be read ({type(exc).__name__}: {exc}). "
            "The file is corrupt; write it again or fetch a fresh copy."
        ) from exc
    return materialize_objects(tree, raw)


def fits_hash(hdul: fits.HDUList) -> str:
    """Return the JWST header hash of a FITS file (SHA-256 of the non-ASDF headers).

    JWST software stores it in the ASDF tree as ``_fits_hash``. When it matches,
    the headers were not edited after writing and the tree is authoritative;
    otherwise header keywords take precedence over the tree.

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList
        The open file.

    Returns
    -------
    str
        Hex digest.
    """
    import hashlib

    digest = hashlib.sha256()
    digest.update("".join(str(h.header) for h in hdul if h.name != ASDF_EXTNAME).encode())
    return digest.hexdigest()


def _meta_from_headers(
    hdul: fits.HDUList, index: dict[str, int], meta: dict[str, Any], *, overwrite: bool
) -> None:
    """Fill the tree from the mapped header keywords.

    Paths missing from the tree are always filled. With ``overwrite``, a header
    value also replaces a tree value it disagrees with (the header was edited
    after the file was written); values that agree keep the tree's exact form.
    """
    from astropy.io.fits.card import Undefined

    for kw in keywords():
        position = 0 if kw.hdu == "PRIMARY" else index.get(kw.hdu)
        if position is None:
            continue
        header = hdul[position].header
        if kw.name not in header:
            continue
        value = _from_header(header[kw.name], kw.type)
        if value is None or isinstance(value, Undefined):
            continue
        node = meta
        for part in kw.path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        leaf = kw.path[-1]
        if leaf not in node or (overwrite and not _same_value(node[leaf], value)):
            node[leaf] = value


def _same_value(tree_value: Any, header_value: Any) -> bool:
    """Tell whether a header value is what writing ``tree_value`` would have produced."""
    if isinstance(tree_value, str) and isinstance(header_value, str):
        return tree_value.rstrip() == header_value.rstrip()
    if isinstance(tree_value, bool) or isinstance(header_value, bool):
        return tree_value is header_value
    numbers = (int, float)
    if isinstance(tree_value, numbers) and isinstance(header_value, numbers):
        return tree_value == header_value
    return type(tree_value) is type(header_value) and tree_value == header_value


def _from_header(value: Any, kind: str) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value) if kind in "bs" else value
    if kind == "s":
        return value if isinstance(value, str) else str(value)
    if kind == "i" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "f" and isinstance(value, int):
        return float(value)
    if kind == "b" and isinstance(value, str):
        return {"T": True, "F": False}.get(value.strip().upper(), value)
    return value


def _validate(model_class: type[DataModel], arrays: dict[str, np.ndarray], path: str) -> None:
    probe = model_class.__new__(model_class)
    probe._arrays = arrays
    probe._meta = {}
    probe._source = path
    probe.validate()


# ---------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------
def write_fits(model: DataModel, path: str) -> None:
    """Write a model to a FITS file in the JWST layout, atomically.

    Parameters
    ----------
    model : DataModel
        The model; its ``meta`` should already carry ``filename``/``date``.
    path : str
        Destination; written to a temporary file in the same folder and renamed.
    """
    from astropy.io import fits

    hdus: list[Any] = [fits.PrimaryHDU()]
    for spec, array in model.arrays_to_save():
        if spec.is_table:
            hdu = fits.BinTableHDU(data=_table_for_fits(array), name=spec.extname, ver=1)
        else:
            hdu = fits.ImageHDU(data=_image_for_fits(array), name=spec.extname, ver=1)
        hdus.append(hdu)
    by_name = {h.name: h for h in hdus[1:]}
    for kw in keywords():
        value = _header_value(model._meta, kw.path, kw.type)
        if value is None:
            continue
        target = hdus[0] if kw.hdu == "PRIMARY" else by_name.get(kw.hdu)
        if target is not None:
            target.header[kw.name] = value
    hdus.append(_asdf_hdu({"meta": model._meta}))
    check_folder(path)
    with atomic_write(path) as tmp:
        fits.HDUList(hdus).writeto(tmp, overwrite=True, output_verify="exception")


def _image_for_fits(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "b":
        return array.astype(np.uint8)
    return array


def _table_for_fits(array: np.ndarray) -> np.ndarray:
    """Text columns as bytes (FITS tables hold ASCII); other columns as they are."""
    if array.dtype.names is None:
        return array
    if not any(array.dtype[name].kind == "U" for name in array.dtype.names):
        return array
    fields = []
    for name in array.dtype.names:
        field = array.dtype[name]
        if field.kind == "U":
            fields.append((name, f"S{max(1, field.itemsize // 4)}", field.shape))
        else:
            fields.append((name, field.base, field.shape))
    out = np.empty(array.shape, dtype=fields)
    for name in array.dtype.names:
        out[name] = (
            np.char.encode(array[name], "ascii", "replace")
            if array.dtype[name].kind == "U"
            else array[name]
        )
    return out


def _header_value(meta: dict[str, Any], path: tuple[str, ...], kind: str) -> Any:
    node: Any = meta
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    if isinstance(node, np.generic):
        node = node.item()
    if isinstance(node, bool):
        return node
    if isinstance(node, int):
        return node if abs(node) < 2**63 else None
    if isinstance(node, float):
        return node if math.isfinite(node) else None
    if isinstance(node, str):
        return node if node.isascii() and node.isprintable() else None
    return None


def _asdf_hdu(tree: dict[str, Any]) -> Any:
    from astropy.io import fits

    payload = np.frombuffer(dump_tree(tree), dtype=np.uint8)[None, :]
    column = fits.Column(name=_ASDF_COLUMN, format=f"{payload.shape[1]}B", array=payload)
    return fits.BinTableHDU.from_columns([column], name=ASDF_EXTNAME)


def check_folder(path: str) -> None:
    """Raise a :class:`DataModelError` if the folder of ``path`` does not exist.

    Parameters
    ----------
    path : str
        A file about to be written.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DataModelError(
            f"Cannot write '{path}': the folder '{folder}' does not exist. Create it first."
        )
