"""Where the data models put the large arrays they create.

A data model creates arrays when it reads a file (every image extension) and
when an array it requires is first used (``groupdq`` of a ramp read from a raw
file, for instance). Both ask :func:`new_array`, which returns an ordinary
numpy array unless a caller chose another place for the block of code it runs,
with :func:`arrays_from`. A pipeline whose parallel steps will use worker
processes uses it to read its ramp straight into shared memory, which the
workers then map instead of receiving a copy
(:func:`pipeline_core.parallel.session.parallel_session`).

The choice is a :class:`contextvars.ContextVar`: it holds for the thread (or
task) that made it, and threads started meanwhile keep allocating ordinary
arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["Allocator", "arrays_from", "current_allocator", "new_array", "new_filled"]

#: ``allocator(shape, dtype) -> numpy.ndarray``: returns an uninitialised array,
#: or None to leave the array to :func:`numpy.empty`.
Allocator = Callable[[tuple[int, ...], np.dtype], "np.ndarray | None"]

_ALLOCATOR: ContextVar[Allocator | None] = ContextVar("steppe_array_allocator", default=None)


def current_allocator() -> Allocator | None:
    """Return the allocator chosen with :func:`arrays_from` in this context, if any.

    Returns
    -------
    callable or None
        None when arrays are ordinary numpy arrays.
    """
    return _ALLOCATOR.get()


@contextmanager
def arrays_from(allocator: Allocator | None) -> Iterator[None]:
    """Make the data models allocate their new arrays with `allocator` in the block.

    Parameters
    ----------
    allocator : callable or None
        ``allocator(shape, dtype)`` returning an uninitialised C-ordered array of
        that shape and dtype, or None for the arrays it leaves to numpy. None
        restores ordinary numpy arrays for the block.

    Yields
    ------
    None

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline_core.datamodels.allocation import arrays_from, new_array
    >>> made = []
    >>> def recording(shape, dtype):
    ...     made.append(shape)
    ...     return np.empty(shape, dtype)
    >>> with arrays_from(recording):
    ...     _ = new_array((2, 3), np.float32)
    >>> made
    [(2, 3)]
    """
    token = _ALLOCATOR.set(allocator)
    try:
        yield
    finally:
        _ALLOCATOR.reset(token)


def new_array(shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """Return a new uninitialised array, from the allocator of this context if any.

    Parameters
    ----------
    shape : tuple of int
        Array shape.
    dtype : data-type
        Array dtype.

    Returns
    -------
    numpy.ndarray
        C-ordered and writable.
    """
    dtype = np.dtype(dtype)
    allocator = _ALLOCATOR.get()
    if allocator is not None:
        array = allocator(tuple(shape), dtype)
        if array is not None:
            return array
    return np.empty(shape, dtype=dtype)


def new_filled(shape: tuple[int, ...], dtype: DTypeLike, fill: object) -> np.ndarray:
    """Return a new array of `fill` values, from the allocator of this context if any.

    Without an allocator, zeros come from :func:`numpy.zeros`, whose pages the
    operating system provides only when they are first written.

    Parameters
    ----------
    shape : tuple of int
        Array shape.
    dtype : data-type
        Array dtype.
    fill : scalar
        The value of every element.

    Returns
    -------
    numpy.ndarray
    """
    if _ALLOCATOR.get() is None:
        if fill == 0:
            return np.zeros(shape, dtype=dtype)
        return np.full(shape, fill, dtype=dtype)
    array = new_array(shape, dtype)
    array.fill(fill)
    return array
