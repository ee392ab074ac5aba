"""How arrays reach the compiled kernels: their memory as one flat view.

numba compiles a kernel for the layout of the arrays it is given. A view of
some rows of a larger array has strides known only at run time, and the
kernel's loops over it do not vectorise. The kernels of jump and ramp_fit
therefore take the memory of each array as a contiguous 1-D view and index
it themselves, with the array's strides counted in items.
"""

from __future__ import annotations

import numpy as np

__all__ = ["flat_memory", "has_contiguous_rows"]


def has_contiguous_rows(array: np.ndarray) -> bool:
    """Whether the last axis of `array` is contiguous and no stride is negative or uneven.

    The strides of axes of length 1 do not matter (they are never taken).
    """
    item = array.itemsize
    used = [stride for stride, length in zip(array.strides, array.shape) if length > 1]
    return array.size == 0 or (
        (array.shape[-1] == 1 or array.strides[-1] == item) and all(s >= 0 and s % item == 0 for s in used)
    )


def flat_memory(array: np.ndarray, *, writeable: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The memory of `array` as a 1-D view, and the stride of each axis in items.

    Parameters
    ----------
    array : numpy.ndarray
        The array. One whose rows are not contiguous (see
        :func:`has_contiguous_rows`) is copied first; so is never an array
        the kernel writes to (check those with :func:`has_contiguous_rows`).
    writeable : bool
        Whether the view may be written to.

    Returns
    -------
    flat : numpy.ndarray
        1-D, from the first to the last element of `array` (no copy), so that
        ``array[i, j, ...]`` is ``flat[i * strides[0] + j * strides[1] + ...]``;
        empty for an empty array.
    strides : ndarray of int64
        The stride of each axis of `array`, in items.
    """
    if not has_contiguous_rows(array):
        array = np.ascontiguousarray(array)
    item = array.itemsize
    strides = np.array(array.strides, dtype=np.int64) // item
    if array.size == 0:
        return np.zeros(0, array.dtype), strides
    span = 1 + int(np.dot(np.array(array.shape, dtype=np.int64) - 1, strides))
    return np.lib.stride_tricks.as_strided(array, (span,), (item,), writeable=writeable), strides
