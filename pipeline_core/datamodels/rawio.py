"""Reading stored FITS image values straight into native arrays.

Shared by the eager reader (:mod:`~pipeline_core.datamodels.fits_io`) and the
deferred arrays (:mod:`~pipeline_core.datamodels.deferred`), which read parts
of an image from its file on use.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from pipeline_core.errors import DataModelError

__all__ = ["CHUNK_BYTES", "THREADED_MIN_BYTES", "convert", "read_image_data"]

#: Size of the buffer that converts stored values of another type, chunk by chunk.
CHUNK_BYTES = 2**20

#: Smallest result read on several threads: a smaller one is read as fast by one.
THREADED_MIN_BYTES = 32 * 2**20

#: Part of the result one thread reads and converts at a time, when several do.
_THREAD_PART_BYTES = 8 * 2**20


def read_image_data(
    handle: Any,
    flat: np.ndarray,
    raw_dtype: np.dtype,
    bzero: float,
    bscale: float,
    *,
    threads: int = 1,
) -> None:
    """Fill ``flat`` with the next ``flat.size`` stored values of an open file.

    The values are read straight into ``flat`` (byte-swapped in place) when the
    stored type matches, else converted chunk by chunk, so no full-size
    temporary is made. With several `threads` and a result of at least
    :data:`THREADED_MIN_BYTES`, the threads read and convert parts of the
    result at once (positioned reads of the same file): the values are the
    same, and the new memory of the result is touched by several cores, which
    is most of the cost of reading a large ramp from the page cache.

    Parameters
    ----------
    handle : file object
        Opened in binary mode and positioned at the first value to read.
    flat : numpy.ndarray
        1-D, contiguous, native-endian destination.
    raw_dtype : numpy.dtype
        Stored (big-endian) type of the values.
    bzero, bscale : float
        FITS scaling: the result is ``stored * bscale + bzero``.

    Raises
    ------
    DataModelError
        If the file ends before ``flat`` is full.
    """
    if threads > 1 and flat.nbytes >= THREADED_MIN_BYTES and hasattr(os, "preadv"):
        _read_on_threads(handle, flat, raw_dtype, bzero, bscale, threads)
        return
    _fill(flat, raw_dtype, bzero, bscale, lambda view: _read_exact(handle, view))


def _fill(
    out: np.ndarray,
    raw_dtype: np.dtype,
    bzero: float,
    bscale: float,
    read: Callable[[memoryview], None],
    buffer: np.ndarray | None = None,
) -> np.ndarray | None:
    """Fill `out` with the stored values whose bytes ``read(view)`` gives, in order.

    Read straight into `out` (byte-swapped in place) when the stored type
    matches, else converted chunk by chunk through `buffer` (made when None
    or too small). Returns the buffer, for the next call to reuse.
    """
    if raw_dtype.newbyteorder("=") == out.dtype and not bzero and bscale == 1:
        read(memoryview(out).cast("B"))
        if not raw_dtype.isnative:
            out.byteswap(inplace=True)
        return buffer
    chunk = min(max(1, CHUNK_BYTES // raw_dtype.itemsize), out.size)
    if buffer is None or buffer.size < chunk:
        buffer = np.empty(chunk, dtype=raw_dtype)
    for start in range(0, out.size, chunk):
        part = buffer[: min(chunk, out.size - start)]
        read(memoryview(part).cast("B"))
        convert(part, out[start : start + part.size], bzero, bscale, overwrite_raw=True)
    return buffer


def _read_on_threads(
    handle: Any, flat: np.ndarray, raw_dtype: np.dtype, bzero: float, bscale: float, threads: int
) -> None:
    """:func:`read_image_data` by parts of the result on `threads` threads; ``handle`` ends after the values.

    `threads` is the caller's share of the cores (a step's ``max_workers``).
    """
    from concurrent.futures import ThreadPoolExecutor

    start = handle.tell()
    size = raw_dtype.itemsize
    per_part = max(1, _THREAD_PART_BYTES // flat.itemsize)
    parts = -(-flat.size // per_part)
    scratch = threading.local()

    def read_part(index: int) -> None:
        lo = index * per_part
        position = start + lo * size

        def read(view: memoryview) -> None:
            nonlocal position
            _pread_exact(handle, view, position)
            position += len(view)

        out = flat[lo : min(flat.size, lo + per_part)]
        scratch.buffer = _fill(out, raw_dtype, bzero, bscale, read, getattr(scratch, "buffer", None))

    with ThreadPoolExecutor(max_workers=min(threads, parts), thread_name_prefix="steppe-read") as pool:
        for _ in pool.map(read_part, range(parts)):
            pass  # an error of a part is raised here
    handle.seek(start + flat.size * size)


def _pread_exact(handle: Any, view: memoryview, offset: int) -> None:
    filled = 0
    while filled < len(view):
        count = os.preadv(handle.fileno(), [view[filled:]], offset + filled)
        if not count:
            raise _truncated(handle)
        filled += count


def _truncated(handle: Any) -> DataModelError:
    return DataModelError(
        f"'{handle.name}' is truncated: the data of an extension end early. "
        "Write the file again or fetch a fresh copy."
    )


def _read_exact(handle: Any, view: memoryview) -> None:
    filled = 0
    while filled < len(view):
        count = handle.readinto(view[filled:])
        if not count:
            raise _truncated(handle)
        filled += count


def convert(
    raw: np.ndarray, out: np.ndarray, bzero: float, bscale: float, *, overwrite_raw: bool = False
) -> None:
    """Write ``raw * bscale + bzero`` into ``out`` without a full-size temporary.

    With `overwrite_raw`, ``raw`` (a scratch buffer) may be changed, which
    saves a temporary when unsigned integers are converted to floats.
    """
    nbits = raw.dtype.itemsize * 8
    if bscale == 1 and raw.dtype.kind == "i" and bzero == 2 ** (nbits - 1):
        # Unsigned integers stored as signed with an offset of 2**(n-1).
        if out.dtype.kind == "u" and out.dtype.itemsize == raw.dtype.itemsize:
            unsigned = raw.view(raw.dtype.str.replace("i", "u"))
            np.bitwise_xor(unsigned, unsigned.dtype.type(bzero), out=out)
        elif overwrite_raw and out.dtype.kind == "f" and raw.dtype.itemsize <= 4:
            # flip the sign bit and swap to native order in place, then one
            # exact integer-to-float cast (faster than adding the offset to
            # byte-swapped values; the same numbers)
            unsigned = raw.view(raw.dtype.str.replace("i", "u"))
            np.bitwise_xor(unsigned, unsigned.dtype.type(bzero), out=unsigned)
            if not unsigned.dtype.isnative:
                unsigned = unsigned.byteswap(inplace=True).view(unsigned.dtype.newbyteorder("="))
            np.copyto(out, unsigned, casting="unsafe")
        else:
            np.add(raw, out.dtype.type(bzero), out=out, casting="unsafe")
    elif bscale != 1 or bzero:
        np.multiply(raw, bscale, out=out, casting="unsafe")
        np.add(out, bzero, out=out, casting="unsafe")
    else:
        np.copyto(out, raw, casting="unsafe")
