"""Numpy arrays in POSIX shared memory, visible to worker processes without a copy.

:func:`shared_empty` returns an array whose memory is a named shared-memory segment
(``/dev/shm/steppe_*`` on Linux). The segment is kept by the array; when the last
array (or view) using it is garbage collected, the segment goes to a cache of
bounded size for the next array of the same size (new shared memory is slow to
obtain: the system zero-fills it page by page), and it is removed when it leaves
the cache, by :func:`clear_cache`, or when the interpreter exits.
:func:`spec_of` tells whether an array (or a view of one, such
as a block of rows) lies in such a segment and returns what a worker needs to map
the same memory (:class:`ArraySpec`); :func:`attached` maps it in the worker. So an
array allocated with :func:`shared_empty` reaches a worker without being copied,
and a worker writes its rows of an output straight into the caller's array.

Writing past the end of a full tmpfs kills a process with ``SIGBUS`` instead of
raising: the free space is checked before a segment is created, and every process
reserves the pages of the rows it writes (:func:`reserve`) before writing them,
which on Linux turns a shortage into a clear error.

Why one module of this size: creating, caching, attaching and releasing shared
segments is one life cycle; splitting it would expose the segment bookkeeping.
"""

from __future__ import annotations

import errno
import mmap
import os
import secrets
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np
from numpy.typing import DTypeLike

from pipeline_core.errors import StepError

__all__ = [
    "SEGMENT_PREFIX",
    "ArraySpec",
    "attached",
    "check_free_space",
    "clear_cache",
    "keep_only",
    "mark_reserved",
    "release",
    "reserve",
    "reserve_whole",
    "shared_copy",
    "shared_empty",
    "spec_of",
]

#: Every segment steppe creates starts with this prefix (``/dev/shm/steppe_*`` on Linux).
SEGMENT_PREFIX = "steppe_"

_SHM_DIR = "/dev/shm"

# madvise(2) options of Linux 5.14+ (not exported by every Python's mmap module):
# fault in the pages of a range, readable or writable, without changing them.
_MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)
_MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)

# A block of rows with more separate pieces than this is reserved as one range.
_MAX_PIECES = 4096


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
    offset : int, optional
        Byte offset of the array's first element in the segment.
    strides : tuple of int or None, optional
        Byte strides; None for a C-contiguous array.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    offset: int = 0
    strides: tuple[int, ...] | None = None

    @property
    def nbytes(self) -> int:
        """Number of bytes of the array."""
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


def check_free_space(nbytes: int, what: str) -> None:
    """Raise a clear error when /dev/shm cannot hold `nbytes` more bytes.

    Parameters
    ----------
    nbytes : int
        Bytes needed.
    what : str
        What they are for, named in the error.

    Raises
    ------
    StepError
        If the shared-memory file system has less room than that.
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


class _SegmentMap(mmap.mmap):
    """This process's mapping of a segment it created; the arrays on it keep it alive."""

    segment: str
    address: int
    finalizer: weakref.finalize
    #: Every page reserved already (written once, or reserved whole): nothing to do.
    reserved: bool


def _unlink(shm: shared_memory.SharedMemory, pid: int) -> None:
    if os.getpid() != pid:  # a forked copy of the creator: not ours to remove
        return
    try:
        shm.unlink()  # also tells the resource tracker
    except FileNotFoundError:  # pragma: no cover - removed by someone else
        pass


def _cache_limit() -> int:
    """Bytes of freed segments kept for reuse: an eighth of the memory, at most 4 GiB."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        memory = 8 << 30
    return min(memory // 8, 4 << 30)


class _Cache:
    """Segments whose arrays were garbage collected, kept mapped for the next arrays.

    A new segment costs the system a zero-filled page for every 4 KiB on first use,
    which takes longer than copying data into pages already there; a parallel step
    called again (on the next exposure, or the next step of a pipeline) finds the
    segments of the previous call here, pages included. The segments stay mapped in
    this process, so they count in its memory use; at most ``limit`` bytes are kept,
    the oldest are removed first, and :func:`clear_cache` removes all.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.free: OrderedDict[int, _SegmentMap] = OrderedDict()
        self.free_bytes = 0
        self.pid = os.getpid()
        self.limit: int | None = None

    def _check_process(self) -> None:
        if self.pid != os.getpid():  # a forked child: the parent's segments are not ours
            self.free, self.free_bytes, self.pid = OrderedDict(), 0, os.getpid()

    def take(self, size: int) -> _SegmentMap | None:
        with self.lock:
            self._check_process()
            for key, mapping in self.free.items():
                if len(mapping) == size:
                    del self.free[key]
                    self.free_bytes -= size
                    return mapping
        return None

    def give_back(self, mapping: _SegmentMap) -> None:
        evicted = []
        with self.lock:
            self._check_process()
            if self.limit is None:
                self.limit = _cache_limit()
            size = len(mapping)
            if mapping.finalizer.alive and size <= self.limit:
                while self.free and self.free_bytes + size > self.limit:
                    _, old = self.free.popitem(last=False)
                    self.free_bytes -= len(old)
                    evicted.append(old)
                self.free[id(mapping)] = mapping
                self.free_bytes += size
            else:
                evicted.append(mapping)
        for old in evicted:
            old.finalizer()

    def clear(self) -> None:
        with self.lock:
            self._check_process()
            evicted = list(self.free.values())
            self.free.clear()
            self.free_bytes = 0
        for old in evicted:
            old.finalizer()


_CACHE = _Cache()


def clear_cache() -> None:
    """Remove the freed segments kept for reuse (their memory goes back to the system)."""
    _CACHE.clear()


def _new_segment(size: int) -> _SegmentMap:
    shm = shared_memory.SharedMemory(name=_new_name(), create=True, size=size)
    try:
        mapping = _SegmentMap(shm._fd, size)  # type: ignore[attr-defined]
    except BaseException:
        shm.close()
        shm.unlink()
        raise
    mapping.segment = shm.name
    mapping.reserved = False
    mapping.finalizer = weakref.finalize(mapping, _unlink, shm, os.getpid())
    shm.close()  # its own mapping and descriptor; `mapping` keeps the memory
    probe = np.frombuffer(mapping, dtype=np.uint8, count=1)
    mapping.address = int(probe.ctypes.data)
    del probe
    return mapping


def shared_empty(
    shape: int | tuple[int, ...], dtype: DTypeLike, *, what: str = "an array", cache: bool = True
) -> np.ndarray:
    """Return a new, uninitialised C-ordered array in a shared-memory segment.

    Parameters
    ----------
    shape : int or tuple of int
        Array shape.
    dtype : data-type
        Array dtype.
    what : str, optional
        What the array is for, named in the error when shared memory is short.
    cache : bool, optional
        Take the segment from, and give it back to, the cache of freed segments
        (default). With False the segment is new, and it is removed as soon as the
        array and every view of it have been garbage collected.

    Returns
    -------
    numpy.ndarray
        A writable array. When it and every view of it have been garbage collected,
        its segment is kept for the next array of the same size (up to a limit, see
        :func:`clear_cache`) or removed; all are removed at interpreter exit.

    Raises
    ------
    StepError
        If the shared-memory file system cannot hold the array.
    """
    if np.ndim(shape) == 0:
        shape = (int(shape),)  # type: ignore[arg-type]
    else:
        shape = tuple(int(n) for n in shape)  # type: ignore[union-attr]
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    page = mmap.PAGESIZE
    # A segment of size 0 is refused by the OS; empty arrays get one page.
    size = max(page, -(-nbytes // page) * page)
    mapping = _CACHE.take(size) if cache else None
    if mapping is None:
        check_free_space(nbytes, what)
        mapping = _new_segment(size)
    # The owner of the memory for every view of the array: when it is collected, the
    # segment goes back to the cache (or, uncached, is removed with its mapping).
    owner = np.frombuffer(mapping, dtype=np.uint8, count=nbytes)
    if cache:
        weakref.finalize(owner, _CACHE.give_back, mapping)
    return owner.view(dtype).reshape(shape)


def shared_copy(array: np.ndarray, *, what: str = "an array") -> np.ndarray:
    """Return a C-ordered copy of `array` in shared memory (see :func:`shared_empty`).

    Parameters
    ----------
    array : numpy.ndarray
        The array to copy.
    what : str, optional
        What the array is for, named in the error when shared memory is short.

    Returns
    -------
    numpy.ndarray
        The copy.
    """
    copy = shared_empty(array.shape, array.dtype, what=what)
    reserve_whole(copy)
    np.copyto(copy, array, casting="no")
    return copy


def _segment_map(array: np.ndarray) -> _SegmentMap | None:
    owner: object = array
    while isinstance(owner, np.ndarray):
        owner = owner.base
    if isinstance(owner, memoryview):
        owner = owner.obj
    return owner if isinstance(owner, _SegmentMap) else None


def spec_of(array: np.ndarray) -> ArraySpec | None:
    """Return where `array` lies in shared memory, or None if it is not in a segment.

    Parameters
    ----------
    array : numpy.ndarray
        An array from :func:`shared_empty`, or any view of one (a block of rows, a
        transposed or strided view).

    Returns
    -------
    ArraySpec or None
        The segment, the byte offset of the first element, shape, dtype and strides;
        None for an array whose memory is not a live segment of this process.
    """
    mapping = _segment_map(array)
    if mapping is None or not mapping.finalizer.alive:
        return None
    offset = int(array.__array_interface__["data"][0]) - mapping.address
    return ArraySpec(
        mapping.segment, tuple(array.shape), array.dtype.str, offset, tuple(array.strides)
    )


def release(array: np.ndarray) -> None:
    """Remove the segment of `array` now: workers can no longer attach to it.

    The array stays usable here (its memory is freed with its last view), and the
    segment is not reused. Does nothing for an array that is not in a segment.

    Parameters
    ----------
    array : numpy.ndarray
        An array from :func:`shared_empty` or a view of one.
    """
    mapping = _segment_map(array)
    if mapping is not None:
        mapping.finalizer()


def _pieces(view: np.ndarray, row_axis: int) -> Iterator[np.ndarray]:
    """The parts of a block of rows that are each one range of memory, or the block."""
    axis = row_axis % view.ndim if view.ndim else 0
    leading = view.shape[:axis]
    if not leading or int(np.prod(leading)) > _MAX_PIECES:
        yield view
        return
    for index in np.ndindex(*leading):
        yield view[index]


def _byte_bounds(array: np.ndarray) -> tuple[int, int]:
    """First and one-past-last byte addresses spanned by a non-empty array."""
    low = high = int(array.__array_interface__["data"][0])
    for extent, stride in zip(array.shape, array.strides):
        if stride < 0:
            low += stride * (extent - 1)
        else:
            high += stride * (extent - 1)
    return low, high + array.itemsize


def _populate(
    mapping: mmap.mmap, address: int, view: np.ndarray, row_axis: int, option: int
) -> None:
    page = mmap.PAGESIZE
    size = len(mapping)
    for piece in _pieces(view, row_axis):
        if piece.size == 0:
            continue
        low, high = _byte_bounds(piece)
        start = ((low - address) // page) * page
        stop = min(size, high - address)
        if stop > start:
            mapping.madvise(option, start, stop - start)


def _reserve_in(mapping: mmap.mmap, address: int, view: np.ndarray, row_axis: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        _populate(mapping, address, view, row_axis, _MADV_POPULATE_WRITE)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            return  # kernel older than 5.14: pages come on first write
        raise StepError(
            f"not enough shared memory for {view.nbytes / 2**20:.1f} MiB of output in "
            f"{_SHM_DIR} ({exc.strerror}). Enlarge {_SHM_DIR} (for a container: docker run "
            "--shm-size=...), or lower maximum_cores ('none' runs in this process "
            "without shared memory)."
        ) from exc


def reserve(view: np.ndarray, row_axis: int = -2) -> None:
    """Reserve and map the pages of `view`, a block of a shared array, before writing it.

    Parameters
    ----------
    view : numpy.ndarray
        An array from :func:`shared_empty` or a view of one (nothing is done for
        other arrays).
    row_axis : int, optional
        The axis of the rows: the block is reserved piece by piece along the axes
        before it, so that blocks written by other processes are not touched.

    Raises
    ------
    StepError
        If the shared-memory file system is full.
    """
    mapping = _segment_map(view)
    if mapping is not None and view.size and not mapping.reserved:
        _reserve_in(mapping, mapping.address, view, row_axis)


def reserve_whole(array: np.ndarray) -> None:
    """Reserve every page of the segment under `array`, once in its life.

    A segment reused from the cache was reserved already: nothing is done then.

    Parameters
    ----------
    array : numpy.ndarray
        An array from :func:`shared_empty` (nothing is done for other arrays).

    Raises
    ------
    StepError
        If the shared-memory file system is full.
    """
    mapping = _segment_map(array)
    if mapping is None or mapping.reserved:
        return
    whole = np.frombuffer(mapping, dtype=np.uint8)
    _reserve_in(mapping, mapping.address, whole, 0)
    mapping.reserved = True


def mark_reserved(array: np.ndarray) -> None:
    """Record that every page of the segment under `array` has been written.

    Parameters
    ----------
    array : numpy.ndarray
        An array from :func:`shared_empty` whose elements were all written.
    """
    mapping = _segment_map(array)
    if (
        mapping is not None
        and array.size
        and _byte_bounds(array) == (mapping.address, mapping.address + array.nbytes)
        and array.nbytes > len(mapping) - mmap.PAGESIZE
    ):
        mapping.reserved = True


def _view(shm: shared_memory.SharedMemory, spec: ArraySpec) -> np.ndarray:
    return np.ndarray(
        spec.shape, dtype=np.dtype(spec.dtype), buffer=shm.buf, offset=spec.offset,
        strides=spec.strides,
    )


def _close_quietly(shm: shared_memory.SharedMemory) -> None:
    try:
        shm.close()
    except BufferError:
        # A caller still holds a view (e.g. a kernel kept a reference); the mapping is
        # released when that view is garbage collected.
        pass


@dataclass
class Attached:
    """Arrays a worker attached to, and how to map the pages of a block of them.

    Attributes
    ----------
    arrays : dict of str to numpy.ndarray
        Views on the shared segments.
    """

    arrays: dict[str, np.ndarray]
    _segments: dict[str, tuple[mmap.mmap, int]]
    #: Keys whose segment was mapped before, in an earlier call, by this process: its
    #: pages are mapped and allocated already.
    _ready: frozenset[str] = frozenset()

    def prefault(self, key: str, view: np.ndarray, row_axis: int) -> None:
        """Map the pages of `view` (a block of ``arrays[key]``) for reading, in one go.

        Nothing is done for a segment this process kept mapped from an earlier call.

        Parameters
        ----------
        key : str
            Which array.
        view : numpy.ndarray
            A block of it.
        row_axis : int
            The axis of the rows.
        """
        if key in self._ready:
            return
        mapping, address = self._segments[key]
        if sys.platform.startswith("linux") and view.size:
            try:
                _populate(mapping, address, view, row_axis, _MADV_POPULATE_READ)
            except OSError:
                pass  # only an optimisation: pages then come on first read

    def reserve(self, key: str, view: np.ndarray, row_axis: int) -> None:
        """Reserve the pages of `view` (a block of ``arrays[key]``) before writing it.

        Nothing is done for a segment this process kept mapped from an earlier
        call (its pages were reserved then).

        Parameters
        ----------
        key : str
            Which array.
        view : numpy.ndarray
            A block of it.
        row_axis : int
            The axis of the rows.

        Raises
        ------
        StepError
            If the shared-memory file system is full.
        """
        if key in self._ready:
            return
        mapping, address = self._segments[key]
        if view.size:
            _reserve_in(mapping, address, view, row_axis)


# Segments a worker keeps mapped between calls (name -> segment), with the pid
# that mapped them (a forked child starts with none of its own).
_KEPT: dict[str, shared_memory.SharedMemory] = {}
_KEPT_PID = [os.getpid()]


def keep_only(names: set[str]) -> None:
    """Unmap the segments kept by :func:`attached` (``keep=True``) other than `names`.

    A worker calls it when a new call starts: segments of earlier calls that this
    call does not use are let go (the memory of a segment its creator removed is
    freed then), so a worker keeps at most the segments of its latest call.

    Parameters
    ----------
    names : set of str
        Segment names still wanted.
    """
    kept = _kept()
    for name in [name for name in kept if name not in names]:
        _close_quietly(kept.pop(name))


def _kept() -> dict[str, shared_memory.SharedMemory]:
    if _KEPT_PID[0] != os.getpid():  # a forked child: the parent's mappings are not ours
        _KEPT.clear()
        _KEPT_PID[0] = os.getpid()
    return _KEPT


@contextmanager
def attached(specs: Mapping[str, ArraySpec], *, keep: bool = False) -> Iterator[Attached]:
    """Attach to shared arrays and yield views on them.

    Parameters
    ----------
    specs : mapping of str to ArraySpec
        The arrays to attach to.
    keep : bool, optional
        Keep the segments mapped after the block, for the next call that uses
        them (its pages are then already mapped: a worker of a pool does this;
        see :func:`keep_only`).

    Yields
    ------
    Attached
        The views (``.arrays``). Drop every reference to them (and to views derived
        from them) before the block ends.
    """
    kept = _kept() if keep else {}
    segments: dict[str, shared_memory.SharedMemory] = {}
    views: dict[str, np.ndarray] = {}
    places: dict[str, tuple[mmap.mmap, int]] = {}
    ready = set()
    earlier = set(kept)  # mapped by an earlier call: their pages are there
    try:
        for key, spec in specs.items():
            if spec.name in earlier:
                ready.add(key)
            shm = segments.get(spec.name)
            if shm is None:
                shm = kept.get(spec.name)
            if shm is None:
                shm = shared_memory.SharedMemory(name=spec.name)
                if keep:
                    kept[spec.name] = shm
            segments[spec.name] = shm
            view = _view(shm, spec)
            views[key] = view
            start = int(view.__array_interface__["data"][0]) - spec.offset
            places[key] = (shm._mmap, start)  # type: ignore[attr-defined]
        yield Attached(views, places, frozenset(ready))
    finally:
        views.clear()
        places.clear()
        if not keep:
            for shm in segments.values():
                _close_quietly(shm)
