"""Compiled per-pixel kernels: numba, compiled on first use and cached on disk.

:func:`lazy_njit` wraps a plain Python function. Nothing is imported or
compiled when the module that defines the kernel is imported: the first call
imports numba, compiles the function (``cache=True``: the machine code is
stored on disk and later processes load it instead of compiling again) and
replaces the wrapper's target with the compiled function.

Every kernel is compiled with ``error_model="numpy"`` (a division by zero
gives inf or NaN, as numpy does, instead of raising) and without
``fastmath``, so the floating-point operations run in the order written: a
kernel that repeats a numpy computation operation by operation gives
bit-identical results.

The disk cache goes where numba puts it (``__pycache__`` beside the source,
or a per-user folder when that is not writable). When neither is writable (a
read-only installation run by a user without a home folder), the
``NUMBA_CACHE_DIR`` environment variable is set to a folder of the system's
temporary directory before numba is imported; set it yourself to choose
another place.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import types
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["lazy_njit", "ensure_cache_dir", "warm_up_in_background"]

_LOCK = threading.RLock()


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def ensure_cache_dir() -> str | None:
    """Choose a writable numba cache folder when the default ones are not.

    Returns
    -------
    str or None
        The ``NUMBA_CACHE_DIR`` set (or already set), or None when numba's own
        choice (the package's ``__pycache__``) is writable.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    if _writable(Path(__file__).parent / "__pycache__"):
        return None
    for base in (Path.home() / ".cache", Path(tempfile.gettempdir())):
        try:
            folder = base / f"steppe-numba-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
        except RuntimeError:  # no home folder
            continue
        if _writable(folder):
            os.environ["NUMBA_CACHE_DIR"] = str(folder)
            return str(folder)
    return None


class _LazyKernel:
    """A function compiled by numba on its first call."""

    def __init__(self, func: Callable[..., Any], options: dict[str, Any]) -> None:
        self.py_func = func
        self._options = options
        self._compiled: Callable[..., Any] | None = None
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__module__ = func.__module__
        self.__qualname__ = func.__qualname__

    def compiled(self) -> Callable[..., Any]:
        """Return the compiled dispatcher (importing numba on first use)."""
        if self._compiled is None:
            with _LOCK:
                if self._compiled is None:
                    cache_dir = ensure_cache_dir()
                    import numba

                    if cache_dir and getattr(numba.config, "CACHE_DIR", "") != cache_dir:
                        numba.config.CACHE_DIR = cache_dir
                    options = {"cache": True, "nogil": True, "error_model": "numpy", **self._options}
                    self._compiled = numba.njit(**options)(self._with_compiled_callees())
        return self._compiled

    def _with_compiled_callees(self) -> Callable[..., Any]:
        """The function, seeing the compiled form of the lazy kernels it calls."""
        func = self.py_func
        callees = {
            name: value.compiled()
            for name in func.__code__.co_names
            if isinstance(value := func.__globals__.get(name), _LazyKernel)
        }
        if not callees:
            return func
        scope = {**func.__globals__, **callees}
        copy = types.FunctionType(func.__code__, scope, func.__name__, func.__defaults__, func.__closure__)
        copy.__qualname__, copy.__module__, copy.__doc__ = func.__qualname__, func.__module__, func.__doc__
        return copy

    def __call__(self, *args: Any) -> Any:
        return self.compiled()(*args)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled by reference, like a module-level function
        return (_by_name, (self.__module__, self.__qualname__))


def _by_name(module: str, name: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), name)


def lazy_njit(**options: Any) -> Callable[[Callable[..., Any]], _LazyKernel]:
    """Decorate a function to be compiled by ``numba.njit`` on its first call.

    Parameters
    ----------
    **options
        Extra ``numba.njit`` options (``cache=True``, ``nogil=True`` and
        ``error_model="numpy"`` are the defaults).

    Returns
    -------
    callable
        The decorator. The decorated object calls the compiled function;
        its ``py_func`` attribute is the plain Python function.
    """

    def decorate(func: Callable[..., Any]) -> _LazyKernel:
        return _LazyKernel(func, options)

    return decorate


def warm_up_in_background(targets: Sequence[str]) -> threading.Thread:
    """Load compiled kernels in a daemon thread while this one goes on.

    A new process pays about a second before its first compiled kernel runs:
    numba's import, its code generator's set-up, and the loading of each
    kernel's machine code from the disk cache (or its compilation). A
    pipeline that will call kernels later starts this early: the thread
    holds the interpreter lock only while importing, and the numpy work of
    the first steps releases it, so most of that second overlaps with them.
    A kernel called before its warm-up is done waits for it (numba's own
    lock), so the results do not depend on the timing.

    Parameters
    ----------
    targets : sequence of str
        ``"module:function"`` names of functions without arguments that call
        the kernels on tiny arrays of the types the real call uses. A warm-up
        that fails is ignored (logged at debug level): the real call reports
        the error.

    Returns
    -------
    threading.Thread
        The started thread (join it to wait for the kernels).
    """
    from pipeline_core.parallel.session import run_warm_ups

    thread = threading.Thread(
        target=run_warm_ups, args=(tuple(targets), logging.getLogger("steppe.jit")),
        name="steppe-kernel-warm-up", daemon=True,
    )
    thread.start()
    return thread
