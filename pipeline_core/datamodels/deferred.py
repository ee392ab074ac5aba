"""Image extensions read from their file only when, and as far as, they are needed.

``open_model(path, lazy=True)`` leaves the image arrays of an uncompressed FITS
file in the file: each becomes a :class:`DeferredImage` that knows where the
data start, their shape and how to convert them. Reading the attribute reads the
whole array (once); ``model.read_section(name, key)`` reads only the part that
``key`` selects, so a step can go through a large reference cube frame by frame
without holding all of it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from pipeline_core.datamodels.rawio import read_image_data
from pipeline_core.errors import DataModelError

__all__ = ["DeferredImage", "normalize_key"]


class DeferredImage:
    """An image extension of a FITS file, not yet read.

    Parameters
    ----------
    path : str
        The FITS file.
    offset : int
        Byte offset of the extension's data in the file.
    shape : tuple of int
        Shape of the array (C order, as numpy sees it).
    raw_dtype : numpy.dtype
        Type of the values in the file (big-endian FITS ``BITPIX`` type).
    dtype : numpy.dtype
        Type of the array in memory (the model's declared dtype).
    bzero, bscale : float
        FITS scaling applied while reading (``value * bscale + bzero``).

    Notes
    -----
    The file's size and modification time are recorded when the object is made;
    a read after the file changed raises a :class:`DataModelError` instead of
    returning other data.
    """

    __slots__ = ("path", "offset", "shape", "raw_dtype", "dtype", "bzero", "bscale", "_stamp")

    def __init__(
        self,
        path: str,
        offset: int,
        shape: tuple[int, ...],
        raw_dtype: np.dtype,
        dtype: np.dtype,
        bzero: float = 0,
        bscale: float = 1,
    ) -> None:
        self.path = path
        self.offset = int(offset)
        self.shape = tuple(int(n) for n in shape)
        self.raw_dtype = np.dtype(raw_dtype)
        self.dtype = np.dtype(dtype)
        self.bzero = bzero
        self.bscale = bscale
        self._stamp = _stamp(path)

    @property
    def ndim(self) -> int:
        """int: number of dimensions."""
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        """int: size of the array once read, in bytes."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def __repr__(self) -> str:
        return f"<DeferredImage {self.shape} {self.dtype} from '{self.path}'>"

    def read(self) -> np.ndarray:
        """Read the whole array.

        Returns
        -------
        numpy.ndarray
            A new native-endian array of ``dtype``.
        """
        out = np.empty(self.shape, dtype=self.dtype)
        self._read_into(0, out)
        return out

    def read_section(self, key: Any) -> np.ndarray:
        """Read the part of the array that ``key`` selects.

        Integer indices and slices on the leading axes limit what is read from
        the file to the smallest contiguous run of bytes that holds the section;
        what is left of ``key`` (a step, the row and column ranges...) is then
        applied in memory.

        Parameters
        ----------
        key : int, slice or tuple of int and slice
            A basic numpy index (``Ellipsis`` and index arrays are accepted too;
            they read the whole array first).

        Returns
        -------
        numpy.ndarray
            A new array, equal to ``array[key]`` of the whole array.

        Raises
        ------
        IndexError
            If an integer index is out of range.
        DataModelError
            If the file changed or is shorter than recorded.
        """
        basic = normalize_key(key, self.ndim)
        if basic is None:
            whole = self.read()
            return _compact(np.asarray(whole[key]), whole)
        key = basic
        start = 0  # first element of the run, in units of the trailing axes' size
        axis = 0
        while axis < len(key) and isinstance(key[axis], int):
            index = key[axis]
            size = self.shape[axis]
            if not -size <= index < size:
                raise IndexError(
                    f"index {index} is out of bounds for axis {axis} with size {size}"
                )
            start = start * size + index % size
            axis += 1
        if axis == len(key) or axis == self.ndim:
            # only integers: one contiguous block of the trailing axes
            return self._read_block(start, axis, 1)[0]
        part = key[axis]
        lo, hi, step = part.indices(self.shape[axis])
        chosen = range(lo, hi, step)
        if len(chosen) == 0:
            return np.empty((0, *self.shape[axis + 1 :]), dtype=self.dtype)[
                (slice(None), *key[axis + 1 :])
            ].copy()
        first, last = min(chosen), max(chosen)
        block = self._read_block(start * self.shape[axis] + first, axis + 1, last - first + 1)
        stop = chosen.stop - first
        within = slice(chosen.start - first, None if stop < 0 else stop, step)
        return _compact(block[(within, *key[axis + 1 :])], block)

    # -- reading ---------------------------------------------------------------------
    def _read_block(self, first: int, axis: int, count: int) -> np.ndarray:
        """Read ``count`` consecutive sub-arrays of the axes after ``axis - 1``."""
        tail = self.shape[axis:]
        per = int(np.prod(tail, dtype=np.int64))
        out = np.empty((count, *tail), dtype=self.dtype)
        self._read_into(first * per, out)
        return out

    def _read_into(self, first_element: int, out: np.ndarray) -> None:
        if _stamp(self.path) != self._stamp:
            raise DataModelError(
                f"'{self.path}' changed (or was removed) after it was opened, so its arrays "
                "can no longer be read from it. Open the file again."
            )
        if out.size == 0:
            return
        try:
            with open(self.path, "rb", buffering=0) as handle:
                handle.seek(self.offset + first_element * self.raw_dtype.itemsize)
                read_image_data(handle, out.reshape(-1), self.raw_dtype, self.bzero, self.bscale)
        except FileNotFoundError as exc:
            raise DataModelError(
                f"'{self.path}' was removed after it was opened; its arrays can no longer be "
                "read. Open the file again."
            ) from exc


def normalize_key(key: Any, ndim: int) -> tuple[Any, ...] | None:
    """Return ``key`` as a tuple of ints and slices, or None if it is anything else.

    Parameters
    ----------
    key : object
        A numpy index.
    ndim : int
        Number of dimensions of the indexed array.

    Returns
    -------
    tuple or None
        The index as a tuple (numpy integers as ``int``), or None when it holds
        something else (``Ellipsis``, ``None``, arrays) or more entries than
        ``ndim``.
    """
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for part in key:
        if isinstance(part, (bool, np.bool_)):
            return None
        if isinstance(part, (int, np.integer)):
            out.append(int(part))
        elif isinstance(part, slice):
            out.append(part)
        else:
            return None
    if len(out) > ndim:
        raise IndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {len(out)} were indexed"
        )
    return tuple(out)


def _compact(part: np.ndarray, buffer: np.ndarray) -> np.ndarray:
    """Return ``part`` of a private ``buffer``: itself when it spans the buffer, else a copy.

    A view that uses all of the buffer costs nothing more; a smaller part is
    copied so that the rest of the buffer can be freed.
    """
    if part.base is None or part.size == buffer.size:
        return part
    return part.copy()


def _stamp(path: str) -> tuple[int, int]:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return (-1, -1)
    return (info.st_size, info.st_mtime_ns)
