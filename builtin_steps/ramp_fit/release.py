"""Give the memory of ramp rows already fitted back to the system.

When a pipeline fits its ramp as the last use of it (``calwebb_detector1``
returns only the rates), the ramp's rows can be let go band by band as the
fit advances: the pages of the rate products are written as those of the
ramp are released, so the two never coexist whole. This module releases the
pages of a band of rows of a C-ordered array with ``madvise(MADV_DONTNEED)``
(Linux); afterwards those elements read as zeros (or as the file's values for
an array mapped from a file): the array must not be used again.
"""

from __future__ import annotations

import ctypes
import mmap
import sys

import numpy as np

__all__ = ["release_rows"]

_MADV_DONTNEED = 4
_LIBC: list = []


def _madvise() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    if not _LIBC:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            function = libc.madvise
            function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
            function.restype = ctypes.c_int
            _LIBC.append(function)
        except (OSError, AttributeError):  # pragma: no cover - not glibc
            _LIBC.append(None)
    return _LIBC[0]


def release_rows(array: np.ndarray, start: int, stop: int) -> int:
    """Release the whole memory pages of rows ``start:stop`` of every plane of `array`.

    Parameters
    ----------
    array : numpy.ndarray
        C-ordered, shape ``(..., ny, nx)``. Arrays that are not C-contiguous,
        or whose memory another object shares in a way this cannot see (a
        view), are left alone.
    start, stop : int
        The rows (along the second-to-last axis) no longer needed.

    Returns
    -------
    int
        Bytes released (0 where nothing could be: not Linux, not contiguous).
    """
    madvise = _madvise()
    if madvise is None or array.ndim < 2 or not array.flags.c_contiguous or array.base is not None:
        return 0
    ny, nx = array.shape[-2:]
    row_bytes = nx * array.itemsize
    plane_bytes = ny * row_bytes
    planes = int(np.prod(array.shape[:-2], dtype=np.int64))
    address = int(array.ctypes.data)
    page = mmap.PAGESIZE
    released = 0
    for plane in range(planes):
        low = address + plane * plane_bytes + start * row_bytes
        high = address + plane * plane_bytes + stop * row_bytes
        first = -(-low // page) * page  # whole pages inside the rows only
        last = (high // page) * page
        if last > first and madvise(first, last - first, _MADV_DONTNEED) == 0:
            released += last - first
    return released
