"""A pipeline run whose parallel steps share one ramp in shared memory and a warm pool.

A parallel step that receives ordinary arrays copies them into shared memory
for its workers, and the first parallel step of a process waits for the worker
pool to start (a new process imports numpy, the data models, numba and the
compiled kernels). A pipeline that knows it will run parallel steps avoids
both with :func:`parallel_session`, around the whole run:

* the worker pool is started at once, in a background thread, and each worker
  runs the warm-up functions it is given (importing and loading the compiled
  kernels) while the first, serial steps of the pipeline run here;
* it yields a :class:`RampArrays`, an allocator of ramp-shaped arrays (4-D,
  at least ``SHARED_MIN_BYTES``) in shared memory; given to the data models
  (:func:`pipeline_core.datamodels.allocation.arrays_from`, as
  :func:`builtin_steps._common.shared_ramp_session` does), the ramp read from
  its file, its group flags and a copy of a ramp the caller gave are created
  there: the parallel steps find them there and their workers map them, so the
  ramp is copied at most once, not once per parallel step;
* when the block ends, normally or by an error, those segments are removed
  from ``/dev/shm`` (arrays still in use stay valid in this process; their
  memory is freed with them) and not kept for reuse.

With one worker (or where no worker process may be started) nothing happens:
the arrays are ordinary numpy arrays.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from pipeline_core.parallel import _pool, _sharedmem
from pipeline_core.parallel.rows import _POOL, SHARED_MIN_BYTES, uses_workers

__all__ = ["RampArrays", "parallel_session", "run_warm_ups", "start_pool"]

log = logging.getLogger("steppe.parallel")

#: Arrays with this many dimensions or more are put in shared memory (ramps:
#: integrations x groups x rows x columns).
RAMP_NDIM = 4


class RampArrays:
    """Allocator of the ramp-shaped arrays of a session, in uncached shared memory.

    Records every segment it creates, so that :meth:`release` removes them all.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._finalizers: list[weakref.finalize] = []
        #: Number of segments created.
        self.created = 0

    def __call__(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
        """Return a shared array for a large ramp-shaped request, else None (numpy's)."""
        dtype = np.dtype(dtype)
        if len(shape) < RAMP_NDIM or int(np.prod(shape, dtype=np.int64)) * dtype.itemsize < SHARED_MIN_BYTES:
            return None
        array = _sharedmem.shared_empty(shape, dtype, what="the ramp", cache=False)
        _sharedmem.reserve_whole(array)  # all pages at once: faster than on first write
        mapping = _sharedmem._segment_map(array)
        with self._lock:
            self._finalizers.append(mapping.finalizer)  # type: ignore[union-attr]
            self.created += 1
        return array

    @property
    def segments(self) -> int:
        """Number of the segments created that still exist."""
        with self._lock:
            return sum(1 for finalizer in self._finalizers if finalizer.alive)

    def release(self) -> None:
        """Remove every segment created (arrays in use keep their memory until freed)."""
        with self._lock:
            finalizers, self._finalizers = self._finalizers, []
        for finalizer in finalizers:
            finalizer()


def run_warm_ups(targets: Sequence[str], logger: logging.Logger | None = None) -> None:
    """Call each ``"module:function"`` warm-up of `targets` (importing its module).

    Used in the workers a session starts, and by a thread of the main process
    (:func:`builtin_steps._jit.warm_up_in_background`). A warm-up that fails is
    logged at debug level on `logger` (default ``steppe.parallel``) and otherwise
    ignored: the real call reports the error.
    """
    import importlib

    logger = logger or log

    for target in targets:
        module, _, name = target.partition(":")
        try:
            getattr(importlib.import_module(module), name)()
        except Exception as error:  # the real call will raise it again, with context
            logger.debug("warm-up %s failed: %s: %s", target, type(error).__name__, error)


def _start(workers: int, targets: tuple[str, ...]) -> None:
    try:
        pool = _POOL.get(workers - 1)
        for _ in range(workers - 1):  # a submission starts a worker when none is idle
            _pool.submit(pool, run_warm_ups, targets)
    except Exception as error:  # the step's own call reports a real problem
        log.debug("starting the worker pool failed: %s: %s", type(error).__name__, error)


def start_pool(max_workers: int, warm_up: Sequence[str] = ()) -> threading.Thread | None:
    """Start the workers of the parallel steps in the background, and warm them up.

    Parameters
    ----------
    max_workers : int
        The processes a parallel step will use, this one included.
    warm_up : sequence of str
        ``"module:function"`` functions without arguments each worker runs once
        started (see :func:`builtin_steps._jit.warm_up_in_background`).

    Returns
    -------
    threading.Thread or None
        The thread starting them; None when no worker will be used.
    """
    if not uses_workers(max_workers):
        return None
    thread = threading.Thread(
        target=_start, args=(max_workers, tuple(warm_up)), name="steppe-pool-start", daemon=True
    )
    thread.start()
    return thread


@contextmanager
def parallel_session(max_workers: int, warm_up: Sequence[str] = ()) -> Iterator[RampArrays | None]:
    """Run a block with a warm worker pool and its ramps in shared memory.

    Parameters
    ----------
    max_workers : int
        The most processes a parallel step of the block will use (this one
        included).
    warm_up : sequence of str
        Warm-up functions for the workers (see :func:`start_pool`).

    Yields
    ------
    RampArrays or None
        The allocator of the block's ramp arrays, whose segments are removed when
        the block ends; None when no worker will be used.

    Examples
    --------
    >>> from pipeline_core.parallel.session import parallel_session
    >>> with parallel_session(1) as ramps:
    ...     print(ramps)
    None
    """
    if not uses_workers(max_workers):
        yield None
        return
    start_pool(max_workers, warm_up)
    ramps = RampArrays()
    try:
        yield ramps
    finally:
        ramps.release()
