"""Numpy arrays in POSIX shared memory, for moving blocks of rows between processes.

The parent process copies the rows of each block of work, once, into named
shared-memory segments (:class:`SharedArrays`); a worker attaches by name and works
on views of them (:func:`attached`). Outputs go the other way without a copy: the
parent allocates each output array in a segment of its own (:class:`SharedOutputs`),
the workers write their rows straight into it, and the parent returns arrays backed
by those segments. Every segment is unlinked by the parent when the call ends, also
when it fails; the returned arrays keep their memory mapped until they are
garbage collected.
"""

from __future__ import annotations

import errno
import mmap
import os
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

from pipeline_core.errors import StepError

__all__ = ["SEGMENT_PREFIX", "ArraySpec", "SharedArrays", "SharedOutputs", "attached"]

#: Every segment steppe creates starts with this prefix (``/dev/shm/steppe_*`` on Linux).
SEGMENT_PREFIX = "steppe_"

_SHM_DIR = "/dev/shm"


def _new_name() -> str:
    # Short (macOS allows 31 characters) and traceable to the process that made it.
    return f"{SEGMENT_PREFIX}{os.getpid()}_{secrets.token_hex(6)}"


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


def _create(nbytes: int) -> shared_memory.SharedMemory:
    # A segment of size 0 is refused by the OS; empty arrays get one byte.
    shm = shared_memory.SharedMemory(name=_new_name(), create=True, size=max(int(nbytes), 1))
    # Reserve the pages now: a full /dev/shm then fails here with ENOSPC instead of
    # killing the process with SIGBUS on first write, and the copy is faster.
    fallocate = getattr(os, "posix_fallocate", None)
    if fallocate is not None and nbytes > 0:
        try:
            fallocate(shm._fd, 0, int(nbytes))
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                return shm  # not supported here: pages come on first write
            _close_quietly(shm)
            shm.unlink()
            if exc.errno == errno.ENOSPC:
                raise StepError(
                    f"not enough shared memory for {nbytes / 2**20:.1f} MiB in {_SHM_DIR}: "
                    f"{exc.strerror}. Enlarge {_SHM_DIR} (for a container: docker run "
                    "--shm-size=...), or lower maximum_cores ('none' runs in this process "
                    "without shared memory)."
                ) from exc
            raise
    return shm


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
                shm = _create(array.nbytes)
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




class SharedOutputs:
    """Context manager allocating output arrays in shared memory.

    Parameters
    ----------
    templates : mapping of str to (shape, dtype)
        The outputs to allocate.

    Attributes
    ----------
    specs : dict of str to ArraySpec
        What a worker needs to attach to each output (filled on entering).
    arrays : dict of str to numpy.ndarray
        The outputs, in this process. They stay valid after the block ends: they map
        the segment's memory, which the system frees when they are garbage collected.

    Notes
    -----
    On exit every segment's name is removed (unlinked), whether the block raised or not.
    """

    def __init__(self, templates: Mapping[str, tuple[tuple[int, ...], np.dtype]]) -> None:
        self._templates = dict(templates)
        self._segments: list[shared_memory.SharedMemory] = []
        self.specs: dict[str, ArraySpec] = {}
        self.arrays: dict[str, np.ndarray] = {}

    def __enter__(self) -> SharedOutputs:
        specs = {
            key: ArraySpec("", tuple(int(n) for n in shape), np.dtype(dtype).str)
            for key, (shape, dtype) in self._templates.items()
        }
        _check_free_space(sum(spec.nbytes for spec in specs.values()), "the kernel's outputs")
        try:
            for key, spec in specs.items():
                shm = _create(spec.nbytes)
                self._segments.append(shm)
                # A mapping of its own, owned by the array: it outlives the segment.
                mapping = mmap.mmap(shm._fd, max(spec.nbytes, 1))
                count = int(np.prod(spec.shape, dtype=np.int64))
                array = np.frombuffer(mapping, dtype=np.dtype(spec.dtype), count=count)
                self.arrays[key] = array.reshape(spec.shape)
                self.specs[key] = ArraySpec(shm.name, spec.shape, spec.dtype)
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
