"""Reading stored FITS image values straight into native arrays.

Shared by the eager reader (:mod:`~pipeline_core.datamodels.fits_io`) and the
deferred arrays (:mod:`~pipeline_core.datamodels.deferred`), which read parts
of an image from its file on use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline_core.errors import DataModelError

__all__ = ["CHUNK_BYTES", "convert", "read_image_data"]

#: Size of the buffer that converts stored values of another type, chunk by chunk.
CHUNK_BYTES = 2**20


def read_image_data(
    handle: Any, flat: np.ndarray, raw_dtype: np.dtype, bzero: float, bscale: float
) -> None:
    """Fill ``flat`` with the next ``flat.size`` stored values of an open file.

    The values are read straight into ``flat`` (byte-swapped in place) when the
    stored type matches, else converted chunk by chunk, so no full-size
    temporary is made.

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
    if raw_dtype.newbyteorder("=") == flat.dtype and not bzero and bscale == 1:
        _read_exact(handle, memoryview(flat).cast("B"))
        if not raw_dtype.isnative:
            flat.byteswap(inplace=True)
        return
    chunk = max(1, CHUNK_BYTES // raw_dtype.itemsize)
    buffer = np.empty(min(chunk, flat.size), dtype=raw_dtype)
    for start in range(0, flat.size, chunk):
        part = buffer[: min(chunk, flat.size - start)]
        _read_exact(handle, memoryview(part).cast("B"))
        convert(part, flat[start : start + part.size], bzero, bscale, overwrite_raw=True)


def _read_exact(handle: Any, view: memoryview) -> None:
    filled = 0
    while filled < len(view):
        count = handle.readinto(view[filled:])
        if not count:
            raise DataModelError(
                f"'{handle.name}' is truncated: the data of an extension end early. "
                "Write the file again or fetch a fresh copy."
            )
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
