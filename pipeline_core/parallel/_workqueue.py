"""Blocks of work handed out to whichever process asks first, across processes.

A :class:`BlockQueue` numbers the blocks ``0 .. count-1``. The process that made it
takes blocks from the front, worker processes take them from the back, so that all
finish within one block of each other whatever their speed or start-up delay. The
state (next block at each end, a stop flag) is three integers in a shared-memory
segment, updated under an exclusive ``flock`` on that segment (a segment that goes
back to the cache of :mod:`pipeline_core.parallel._sharedmem` for the next queue).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import shared_memory

import numpy as np

from pipeline_core.parallel import _sharedmem

__all__ = ["BlockQueue"]

_FRONT, _BACK, _STOP = 0, 1, 2


class BlockQueue:
    """Numbered blocks of work, taken once each, from either end.

    Parameters
    ----------
    spec : ArraySpec
        The shared state (from :meth:`create`).

    Notes
    -----
    Use :meth:`create` in the process handing out the work and :meth:`attach` in the
    workers.
    """

    def __init__(self, spec: _sharedmem.ArraySpec, shm: shared_memory.SharedMemory) -> None:
        self.spec = spec
        self._shm = shm
        self._state = np.ndarray((3,), dtype=np.int64, buffer=shm.buf)

    @classmethod
    @contextmanager
    def create(cls, count: int) -> Iterator[BlockQueue]:
        """Make a queue of `count` blocks; it is removed when the block ends.

        Parameters
        ----------
        count : int
            Number of blocks.

        Yields
        ------
        BlockQueue
            The queue; pass ``queue.spec`` to the workers.
        """
        state = _sharedmem.shared_empty((3,), np.int64, what="the work queue")
        state[:] = (0, count, 0)
        spec = _sharedmem.spec_of(state)
        assert spec is not None
        with cls.attach(spec) as queue:
            yield queue

    @classmethod
    @contextmanager
    def attach(cls, spec: _sharedmem.ArraySpec) -> Iterator[BlockQueue]:
        """Use the queue made by another process.

        Parameters
        ----------
        spec : ArraySpec
            ``queue.spec`` of the queue.

        Yields
        ------
        BlockQueue
            The queue.
        """
        shm = shared_memory.SharedMemory(name=spec.name)
        queue = cls(spec, shm)
        try:
            yield queue
        finally:
            del queue._state
            shm.close()

    def _take(self, front: bool) -> int | None:
        fd = self._shm._fd  # type: ignore[attr-defined]
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            state = self._state
            if state[_STOP] or state[_FRONT] >= state[_BACK]:
                return None
            if front:
                index = int(state[_FRONT])
                state[_FRONT] = index + 1
            else:
                index = int(state[_BACK]) - 1
                state[_BACK] = index
            return index
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def take_front(self) -> int | None:
        """Take the first block nobody has taken.

        Returns
        -------
        int or None
            Its number, or None when none is left or the queue was stopped.
        """
        return self._take(True)

    def take_back(self) -> int | None:
        """Take the last block nobody has taken.

        Returns
        -------
        int or None
            Its number, or None when none is left or the queue was stopped.
        """
        return self._take(False)

    def stop(self) -> None:
        """Hand out no more blocks (after an error)."""
        fd = self._shm._fd  # type: ignore[attr-defined]
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            self._state[_STOP] = 1
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
