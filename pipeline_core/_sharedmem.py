"""Numpy arrays in POSIX shared memory, for moving row blocks between processes.

The parent process places each input array once in a named shared-memory segment
(:class:`SharedArrays`); a worker attaches by name and works on views of the rows it
owns (:func:`attached`). A worker hands its outputs back the same way: it copies each
output into a segment it creates under a name chosen by the parent
(:func:`export_array`), and the parent copies the block into the final array and
removes the segment (:func:`collect_array`). Segments are always unlinked by the
parent, also when a worker fails (:func:`discard_exports`).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

from pipeline_core.errors import StepError

__all__ = [
    "SEGMENT_PREFIX",
    "ArraySpec",
    "SharedArrays",
    "attached",
    "collect_array",
    "discard_exports",
    "export_array",
    "export_name",
    "new_token",
]

#: Every segment steppe creates starts with this prefix (``/dev/shm/steppe_*`` on Linux).
SEGMENT_PREFIX = "steppe_"

_SHM_DIR = "/dev/shm"


@dataclass(frozen=True)
class ArraySpec:
    """Where a shared array lives and how to read it.

    Parameters
    ----------
    name : str
        Name of the shared-memory segment.
    shape : tuple of int
        Array shape.
    dtype : str
        Array dtype, as ``numpy.dtype.str`` (e.g. ``'<f4'``).
    """

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def nbytes(self) -> int:
        """Number of bytes of the array."""
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


def new_token() -> str:
    """Return a short random token that makes segment names unique.

    Returns
    -------
    str
        ``steppe_<pid>_<8 hex digits>``; short enough for every platform's limit.
    """
    return f"{SEGMENT_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"


def export_name(token: str, block: int, index: int) -> str:
    """Return the segment name for output number `index` of row block `block`.

    Parameters
    ----------
    token : str
        The call's token (:func:`new_token`).
    block, index : int
        Row-block number and the output's position among the kernel's outputs.

    Returns
    -------
    str
        The segment name.
    """
    return f"{token}_b{block}o{index}"


def _check_free_space(nbytes: int, what: str) -> None:
    """Raise a clear error when /dev/shm cannot hold `nbytes` more bytes.

    Writing past the end of a full tmpfs kills the process with SIGBUS instead of
    raising, so the space is checked before a segment is filled.
    """
    if not sys.platform.startswith("linux") or not os.path.isdir(_SHM_DIR):
        return
    stats = os.statvfs(_SHM_DIR)
    free = stats.f_bavail * stats.f_frsize
    if nbytes > free:
        raise StepError(
            f"not enough shared memory for {what}: {nbytes / 2**20:.1f} MiB needed, "
            f"{free / 2**20:.1f} MiB free in {_SHM_DIR}. Enlarge {_SHM_DIR} (for a "
            "container: docker run --shm-size=...), or lower maximum_cores "
            "('none' runs in this process without shared memory)."
        )


def _create(name: str | None, nbytes: int) -> shared_memory.SharedMemory:
    # A segment of size 0 is refused by the OS; empty arrays get one byte.
    return shared_memory.SharedMemory(name=name, create=True, size=max(int(nbytes), 1))


def _view(shm: shared_memory.SharedMemory, spec: ArraySpec) -> np.ndarray:
    return np.ndarray(spec.shape, dtype=np.dtype(spec.dtype), buffer=shm.buf)


def _close_quietly(shm: shared_memory.SharedMemory) -> None:
    try:
        shm.close()
    except BufferError:
        # A caller still holds a view (e.g. a kernel kept a reference); the mapping is
        # released when that view is garbage collected.
        pass


class SharedArrays:
    """Context manager placing arrays in shared memory for the duration of a block.

    Parameters
    ----------
    arrays : mapping of str to numpy.ndarray
        The arrays to share. Each is copied once into its own segment, C-ordered.

    Attributes
    ----------
    specs : dict of str to ArraySpec
        What a worker needs to attach to each array (filled on entering).

    Notes
    -----
    On exit every segment is closed and unlinked, whether the block raised or not.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self._arrays = dict(arrays)
        self._segments: list[shared_memory.SharedMemory] = []
        self.specs: dict[str, ArraySpec] = {}

    def __enter__(self) -> SharedArrays:
        _check_free_space(
            sum(int(a.nbytes) for a in self._arrays.values()), "the input arrays"
        )
        try:
            for key, array in self._arrays.items():
                shm = _create(None, array.nbytes)
                self._segments.append(shm)
                spec = ArraySpec(shm.name, tuple(array.shape), array.dtype.str)
                view = _view(shm, spec)
                np.copyto(view, array, casting="no")
                del view
                self.specs[key] = spec
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._release()

    def _release(self) -> None:
        while self._segments:
            shm = self._segments.pop()
            _close_quietly(shm)
            try:
                shm.unlink()
            except FileNotFoundError:  # pragma: no cover - removed by someone else
                pass


@contextmanager
def attached(specs: Mapping[str, ArraySpec]) -> Iterator[dict[str, np.ndarray]]:
    """Attach to shared arrays and yield numpy views on them.

    Parameters
    ----------
    specs : mapping of str to ArraySpec
        The arrays to attach to.

    Yields
    ------
    dict of str to numpy.ndarray
        Views on the shared segments. Drop every reference to them (and to views
        derived from them) before the block ends.
    """
    segments: list[shared_memory.SharedMemory] = []
    views: dict[str, np.ndarray] = {}
    try:
        for key, spec in specs.items():
            shm = shared_memory.SharedMemory(name=spec.name)
            segments.append(shm)
            views[key] = _view(shm, spec)
        yield views
    finally:
        views.clear()
        for shm in segments:
            _close_quietly(shm)


def export_array(array: np.ndarray, name: str) -> ArraySpec:
    """Copy `array` into a new shared-memory segment called `name`.

    The segment is left in place for the parent process, which removes it with
    :func:`collect_array` or :func:`discard_exports`.

    Parameters
    ----------
    array : numpy.ndarray
        The array to export.
    name : str
        Segment name (:func:`export_name`).

    Returns
    -------
    ArraySpec
        How to find and read the exported array.
    """
    array = np.asarray(array)
    _check_free_space(int(array.nbytes), "a block of kernel outputs")
    shm = _create(name, array.nbytes)
    spec = ArraySpec(shm.name, tuple(array.shape), array.dtype.str)
    try:
        view = _view(shm, spec)
        np.copyto(view, array, casting="no")
        del view
    except BaseException:
        _close_quietly(shm)
        shm.unlink()
        raise
    _close_quietly(shm)
    return spec


def collect_array(spec: ArraySpec, out: np.ndarray) -> None:
    """Copy an exported array into `out`, then remove its segment.

    Parameters
    ----------
    spec : ArraySpec
        The exported array.
    out : numpy.ndarray
        Destination of the same shape (typically a row slice of the final array).
    """
    shm = shared_memory.SharedMemory(name=spec.name)
    try:
        view = _view(shm, spec)
        np.copyto(out, view, casting="no")
        del view
    finally:
        _close_quietly(shm)
        shm.unlink()


def discard_exports(token: str, block: int) -> None:
    """Remove every output segment that row block `block` may have left behind.

    Outputs are exported under consecutive indices, so the search stops at the first
    missing one.

    Parameters
    ----------
    token : str
        The call's token.
    block : int
        Row-block number.
    """
    index = 0
    while True:
        try:
            shm = shared_memory.SharedMemory(name=export_name(token, block, index))
        except FileNotFoundError:
            return
        _close_quietly(shm)
        shm.unlink()
        index += 1
