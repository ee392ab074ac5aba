"""Kernels used by the parallel tests; importable, so worker processes can find them."""

from __future__ import annotations

import ctypes
import multiprocessing
import os

import numpy as np

from pipeline_core.parallel.rows import map_row_slices


def ramp_statistics(data, groupdq, *, threshold=3.0):
    """Per-pixel slope, median difference and flagged jumps of ``(nints, ngroups, ny, nx)`` ramps."""
    diffs = np.diff(data, axis=1)
    median = np.median(diffs, axis=1)
    sigma = np.std(diffs, axis=1) + np.float32(1e-3)
    jumps = np.abs(diffs - median[:, None]) > threshold * sigma[:, None]
    flagged = groupdq.copy()
    flagged[:, 1:] |= np.where(jumps, np.uint8(4), np.uint8(0))
    groups = np.arange(data.shape[1], dtype=np.float64)
    centered = groups - groups.mean()
    slope = np.tensordot(centered, data - data.mean(axis=1, keepdims=True), axes=(0, 1))
    slope /= np.sum(centered**2)
    return {
        "slope": slope.astype(np.float32),
        "median": median,
        "groupdq": flagged,
        "cumulative": np.cumsum(data, axis=1),
    }


def scale_rows(data, *, factor=2.0):
    """Multiply by `factor` and report the pid of the process that did it."""
    return {"data": data * factor, "pid": np.full(data.shape, os.getpid(), dtype=np.int64)}


def nested(data):
    """Call map_row_slices again from inside a worker."""
    return map_row_slices(scale_rows, {"data": data}, max_workers=2)


def fail_on_second_half(data):
    """Raise for a block that does not start at row 0 (computed by a worker)."""
    _leave_a_block_to_a_worker(data)
    if data[..., 0, 0].min() > 0:
        raise ArithmeticError("bad rows")
    return {"data": data}


def _leave_a_block_to_a_worker(data):
    """In the calling process, take long enough over a block for a worker to take one."""
    import time

    if multiprocessing.parent_process() is None and data.shape[-2] > 1:
        time.sleep(0.5)


def exit_abruptly(data):
    """Kill a worker process without cleanup (as the system does when out of memory)."""
    _leave_a_block_to_a_worker(data)
    if multiprocessing.parent_process() is not None:
        os._exit(3)
    return {"data": data}


def segfault(data):
    """Crash a worker process with a segmentation fault."""
    _leave_a_block_to_a_worker(data)
    if multiprocessing.parent_process() is not None:
        ctypes.string_at(0)
    return {"data": data}


def drop_rows(data):
    """Return an output without the row axis."""
    return {"total": np.asarray(data.sum())}


def not_a_dict(data):
    """Return an array instead of a dict."""
    return data


def dtype_by_block(data):
    """Return a dtype that depends on the block (not row-separable)."""
    if data[..., 0, 0].min() > 0:
        return {"data": data.astype(np.float32)}
    return {"data": data.astype(np.float64)}


def run_in_process(queue, data):
    """Run map_row_slices with two workers and report the result and the log lines."""
    import logging

    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger = logging.getLogger("steppe.parallel")
    logger.addHandler(Collect())
    result = map_row_slices(scale_rows, {"data": data}, max_workers=2)
    pids = set(result["pid"].ravel().tolist())
    if not multiprocessing.current_process().daemon:
        # Make sure a worker takes part (a fresh pool may start after the work is done).
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            met = map_row_slices(
                meet, {"data": np.ones((64, 1))}, max_workers=2, kwargs={"directory": folder}
            )
        pids |= set(met["pid"].ravel().tolist())
    queue.put((result["data"], sorted(pids), os.getpid(), records))


def meet(data, *, directory, count=2, timeout=10.0):
    """Wait until `count` processes have run a block, so each block gets its own worker.

    Every block writes a file named after its process id in `directory` and waits for
    `count` such files (giving up after `timeout` seconds); it returns that process id.
    A one-row call (the probe for the output shapes) neither writes nor waits.
    """
    import time
    from pathlib import Path

    if data.shape[-2] == 1:
        return {"pid": np.full(data.shape, os.getpid(), dtype=np.int64)}
    folder = Path(directory)
    (folder / f"{os.getpid()}.pid").touch()
    deadline = time.monotonic() + timeout
    while len(list(folder.glob("*.pid"))) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    return {"pid": np.full(data.shape, os.getpid(), dtype=np.int64)}


def fail_on_first_block(data):
    """Raise for a block of several rows that starts with a zero (not the one-row probe)."""
    if data.shape[-2] > 1 and data[..., 0, 0].min() == 0:
        raise ArithmeticError("bad first rows")
    return {"data": data}


def write_inputs(data):
    """Modify the input in place (not allowed in the parallel path)."""
    data += 1
    return {"data": data}


def add(a, b):
    """Sum of two arrays."""
    return {"sum": a + b}


def fill_out(data, *, out=None):
    """Write twice the data into `out` (given by the parallel path) or new arrays."""
    if out is None:
        out = {"data": np.empty_like(data), "given": np.zeros(data.shape, np.uint8)}
    else:
        out["given"][...] = 1
    np.multiply(data, 2, out=out["data"])
    return out
