"""Kernels and row readers for the halo / RowReader tests; importable, so workers find them."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import numpy as np


def vertical_sum3(data):
    """Sum of each row with the rows above and below it (zero outside the array).

    A row's result depends on its neighbours: correct across blocks only with ``halo>=1``.
    """
    padded = np.zeros((data.shape[0] + 2, *data.shape[1:]), dtype=np.float64)
    padded[1:-1] = data
    total = padded[:-2] + padded[1:-1] + padded[2:]
    return {"sum": total, "pid": np.full(data.shape[:1], os.getpid(), dtype=np.int64)[:, None]}


def vertical_sum5(data):
    """Sum over rows r-2..r+2 along axis -2 of a (..., ny, nx) array (needs ``halo=2``)."""
    ny = data.shape[-2]
    pad = [(0, 0)] * data.ndim
    pad[-2] = (2, 2)
    padded = np.pad(data.astype(np.float64), pad)
    total = sum(padded[..., k : k + ny, :] for k in range(5))
    return {"sum": total}


def spread_flags(flags):
    """OR of each row's flags with those of its two neighbours (like neighbour flagging)."""
    out = flags.copy()
    out[1:] |= flags[:-1]
    out[:-1] |= flags[1:]
    return {"flags": out}


def add_and_pid(a, b):
    """Sum of two inputs, and the pid of the process computing each row (rows on axis 0)."""
    return {"sum": a + b, "pid": np.full((a.shape[0], 1), os.getpid(), dtype=np.int64)}


def fill_out(data, *, out=None):
    """Twice the data, written into `out` when given."""
    if out is None:
        return {"data": 2 * data}
    np.multiply(data, 2, out=out["data"])
    return out


def _meet(directory, count=2, timeout=10.0):
    """Wait (up to `timeout`) until `count` processes have run a block of several rows."""
    folder = Path(directory)
    (folder / f"{os.getpid()}.pid").touch()
    deadline = time.monotonic() + timeout
    while len(list(folder.glob("*.pid"))) < count and time.monotonic() < deadline:
        time.sleep(0.005)


def kept_segment(data, *, directory, segment):
    """Twice the data, and per row: the pid, and the id of the segment kept by this process.

    ``kept`` is ``id()`` of the mapping of `segment` this process keeps between calls
    (:func:`pipeline_core.parallel._sharedmem.attached` with ``keep=True``), 0 when none (in
    the calling process, which owns the segment). Every block of several rows
    waits until two processes have run one, so a worker takes part.
    """
    from pipeline_core.parallel import _sharedmem

    if data.shape[-2] > 1:
        _meet(directory)
    kept = _sharedmem._KEPT.get(segment) if multiprocessing.parent_process() is not None else None
    rows = data.shape[-2]
    return {
        "data": 2 * data,
        "pid": np.full((rows, 1), os.getpid(), dtype=np.int64),
        "kept": np.full((rows, 1), 0 if kept is None else id(kept), dtype=np.int64),
    }


def read_pids(data, ref, *, directory):
    """Sum of the inputs with the pid of the process per row; blocks meet so a worker works."""
    if data.shape[-2] > 1:
        _meet(directory)
    return {"sum": data + ref, "pid": np.full((data.shape[-2], 1), os.getpid(), dtype=np.int64)}


class ArrayRows:
    """A picklable RowReader over an in-memory array (each read returns a new array).

    With `log` (a folder), every read leaves a file ``<pid>_<start>_<stop>_<axis>_<random>``
    there, so a test can see who read which rows.
    """

    def __init__(self, array, log=None):
        self.array = np.asarray(array)
        self.shape = self.array.shape
        self.log = None if log is None else str(log)

    def read_rows(self, start, stop, row_axis):
        if self.log is not None:
            Path(self.log, f"{os.getpid()}_{start}_{stop}_{row_axis}_{os.urandom(6).hex()}").touch()
        index = [slice(None)] * self.array.ndim
        index[row_axis] = slice(start, stop)
        return self.array[tuple(index)].copy()


class UnpicklableRows(ArrayRows):
    """A RowReader that cannot be pickled (it holds a lock)."""

    def __init__(self, array):
        import threading

        super().__init__(array)
        self.lock = threading.Lock()


def spread_rows(flags, data):
    """``spread_flags`` along axis -2 of ``(n, ny, nx)`` flags, and each row's sum of `data`."""
    out = flags.copy()
    out[:, 1:] |= flags[:, :-1]
    out[:, :-1] |= flags[:, 1:]
    return {"flags": out, "total": data.sum(axis=-1, keepdims=True)}
