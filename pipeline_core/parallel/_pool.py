"""Forkserver process pools whose workers never re-run the main script.

``multiprocessing`` makes each new process import the parent's ``__main__`` module
(as ``__mp_main__``) so that functions defined there can be found. For a script
without an ``if __name__ == "__main__":`` guard this runs the whole script again in
every worker. steppe's workers only run functions of importable modules, so the main
module is hidden while worker processes start (:func:`submit`). With the
``forkserver`` start method, :class:`concurrent.futures.ProcessPoolExecutor` starts
its processes on submit, in the submitting thread, which is where they are hidden.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.util
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

__all__ = ["SharedPool", "hidden_main_module", "new_pool", "submit"]

# Heavy modules that steppe's workers often need: the fork server imports those the
# calling process already uses, so that workers forked from it start with them loaded.
_USUAL_MODULES = (
    "numpy",
    "pipeline_core.parallel.rows",
    "pipeline_core.steps.step",
    "pipeline_core.datamodels",
    "astropy.io.fits",
    "asdf",
)


#: Held while ``__main__`` is hidden: a thread starting workers in the background
#: and one submitting work must not interleave their swaps.
_MAIN_LOCK = threading.RLock()


@contextmanager
def hidden_main_module() -> Iterator[None]:
    """Replace ``sys.modules['__main__']`` by an empty module while the block runs.

    New processes started in the block do not import the main script or module.

    Yields
    ------
    None
    """
    with _MAIN_LOCK:  # two threads starting workers at once restore the right module
        main = sys.modules.get("__main__")
        needs_hiding = main is not None and (
            getattr(main, "__spec__", None) is not None or getattr(main, "__file__", None)
        )
        if not needs_hiding:
            yield
            return
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main  # type: ignore[assignment]


def _watch_parent() -> None:
    """Exit this worker as soon as the process that started it has gone.

    A worker blocked on its task queue would otherwise outlive a parent that was
    killed (or called ``os._exit``), and keep its fork server alive with it.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # pragma: no cover - not started by multiprocessing
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="steppe-parent-watch", daemon=True).start()


# glibc's mallopt() parameters, and the values a long-running numpy process reaches
# by itself (glibc raises its thresholds as large blocks are freed, up to these).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 64 << 20


def _keep_freed_memory() -> None:
    """Let this worker reuse the memory of freed numpy temporaries (glibc only).

    A new process gives every array above 128 KiB pages of its own, obtained and
    returned to the system for each use, and zero-filled by the system each time: a
    worker computing block after block would spend much of its time there (about
    half, for the ramp fit). With the thresholds a long-running process reaches, such
    temporaries come from memory the process already holds.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


def _start_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    _watch_parent()
    _keep_freed_memory()
    if initializer is not None:
        initializer(*initargs)


def new_pool(
    workers: int,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    preload: Sequence[str] = (),
) -> ProcessPoolExecutor:
    """Return a new process pool using the ``forkserver`` start method.

    Parameters
    ----------
    workers : int
        Maximum number of worker processes (started on demand).
    initializer, initargs : optional
        Run in every worker when it starts. Every worker also exits by itself when
        this process ends, even abruptly.
    preload : sequence of str, optional
        Modules the fork server imports once, so that every worker forked from it
        starts with them loaded, in addition to those of steppe's usual heavy modules
        (numpy, the data models, astropy.io.fits, asdf) that this process has already
        imported. Only effective if the fork server is not running yet (there is one
        fork server per process).

    Returns
    -------
    concurrent.futures.ProcessPoolExecutor
        The pool. Submit work with :func:`submit`.
    """
    context = multiprocessing.get_context("forkserver")
    modules = [m for m in _USUAL_MODULES if m in sys.modules]
    modules += [m for m in preload if m not in modules and m not in ("__main__", "__mp_main__")]
    context.set_forkserver_preload(modules)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(initializer, initargs),
    )


def submit(pool: ProcessPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
    """Submit ``fn(*args, **kwargs)`` to `pool`; a worker started now skips ``__main__``.

    Parameters
    ----------
    pool : concurrent.futures.ProcessPoolExecutor
        A pool from :func:`new_pool`.
    fn : callable
        A top-level function of an importable module.
    *args, **kwargs
        Its arguments.

    Returns
    -------
    concurrent.futures.Future
        The future of the call.
    """
    with hidden_main_module():
        return pool.submit(fn, *args, **kwargs)


class SharedPool:
    """A process pool kept for the life of the process and reused between calls.

    Parameters
    ----------
    initializer : callable, optional
        Run in every worker when it starts.
    preload : sequence of str, optional
        Modules the fork server imports once (see :func:`new_pool`).

    Notes
    -----
    The pool is created on first use, grown when more workers are asked for, replaced
    after it broke (:meth:`discard`), and shut down when the interpreter exits.
    """

    def __init__(
        self, *, initializer: Callable[[], None] | None = None, preload: Sequence[str] = ()
    ) -> None:
        self._initializer = initializer
        self._preload = tuple(preload)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._size = 0
        self._pid = 0
        self._atexit_registered = False

    def get(self, workers: int) -> ProcessPoolExecutor:
        """Return the pool, with room for at least `workers` processes.

        Parameters
        ----------
        workers : int
            Number of processes needed.

        Returns
        -------
        concurrent.futures.ProcessPoolExecutor
            The shared pool.
        """
        with self._lock:
            if self._pool is not None and self._pid != os.getpid():
                # Inherited through fork: the processes belong to the parent.
                self._pool, self._size = None, 0
            if self._pool is not None and self._size >= workers:
                return self._pool
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = new_pool(workers, initializer=self._initializer, preload=self._preload)
            self._size, self._pid = workers, os.getpid()
            if not self._atexit_registered:
                atexit.register(self.shutdown)
                # A multiprocessing child process runs no atexit handlers and waits for
                # its children before exiting: stop them first. The priority puts this
                # before the finalizers (priority 10) that close the pool's queues.
                multiprocessing.util.Finalize(None, self.shutdown, exitpriority=100)
                self._atexit_registered = True
            return self._pool

    def discard(self, pool: ProcessPoolExecutor) -> None:
        """Shut down `pool` (a broken one) so that the next call starts a new pool.

        Parameters
        ----------
        pool : concurrent.futures.ProcessPoolExecutor
            The pool returned by :meth:`get`.
        """
        with self._lock:
            if self._pool is pool:
                self._pool, self._size = None, 0
        pool.shutdown(wait=True, cancel_futures=True)

    def shutdown(self) -> None:
        """Stop the worker processes, if any; the next :meth:`get` starts new ones."""
        with self._lock:
            pool, self._pool, self._size = self._pool, None, 0
        if pool is not None and self._pid == os.getpid():
            pool.shutdown(wait=True, cancel_futures=True)
