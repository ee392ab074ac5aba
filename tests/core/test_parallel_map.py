"""Row slices in a forkserver pool: pipeline_core.parallel.rows.map_row_slices."""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import threading

import numpy as np
import pytest

from pipeline_core.parallel import _sharedmem
from pipeline_core.parallel import rows as parallel
from pipeline_core.errors import StepError
from pipeline_core.parallel.rows import (
    available_cores,
    core_budget,
    map_row_slices,
    resolve_max_workers,
    shared_empty,
    shared_like,
    shutdown_pool,
)
from tests.core import parallel_kernels as kernels

pytestmark = pytest.mark.usefixtures("no_shared_memory_leaks", "at_least_two_cpus")


def _ramps(ny, seed=7, shape=(2, 6)):
    rng = np.random.default_rng(seed)
    data = rng.normal(100.0, 5.0, size=(*shape, ny, 11)).astype(np.float32)
    data[:, 3:, ny // 2, 4] += 500.0  # a jump
    groupdq = rng.integers(0, 2, size=data.shape).astype(np.uint8)
    return {"data": data, "groupdq": groupdq}


@pytest.mark.parametrize("maximum_cores", ["none", "2", "all"])
@pytest.mark.parametrize("ny", [1, 2, 7, 32])
def test_parallel_equals_serial(maximum_cores, ny):
    inputs = _ramps(ny)
    expected = kernels.ramp_statistics(**inputs, threshold=2.5)
    result = map_row_slices(
        kernels.ramp_statistics,
        inputs,
        max_workers=resolve_max_workers(maximum_cores),
        kwargs={"threshold": 2.5},
    )
    assert list(result) == list(expected)
    for key, array in expected.items():
        assert result[key].dtype == array.dtype
        np.testing.assert_array_equal(result[key], array)


@pytest.mark.parametrize(("row_axis", "shape"), [(0, (9, 4)), (-1, (3, 9)), (1, (2, 9, 3))])
def test_any_row_axis(row_axis, shape):
    data = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    result = map_row_slices(
        kernels.scale_rows, {"data": data}, max_workers=2, kwargs={"factor": 3.0}, row_axis=row_axis
    )
    np.testing.assert_array_equal(result["data"], 3.0 * data)
    # Every row was computed by one process.
    pids = np.moveaxis(result["pid"], row_axis, 0)
    assert all(len(set(row.ravel().tolist())) == 1 for row in pids)


def test_serial_path_runs_in_this_process_on_the_whole_arrays():
    data = np.ones((4, 3))
    result = map_row_slices(kernels.scale_rows, {"data": data}, max_workers=1)
    assert np.all(result["pid"] == os.getpid())
    # Not imported by workers, so anything callable will do.
    result = map_row_slices(lambda data: {"data": data + 1}, {"data": data}, max_workers=1)
    np.testing.assert_array_equal(result["data"], data + 1)


def test_a_single_row_runs_serially():
    result = map_row_slices(kernels.scale_rows, {"data": np.ones((1, 5))}, max_workers=2)
    assert np.all(result["pid"] == os.getpid())


@pytest.fixture
def one_block_each(monkeypatch):
    """One block of rows per process (blocks are otherwise taken by whoever is free)."""
    monkeypatch.setattr(parallel, "BLOCKS_PER_WORKER", 1)


def test_first_block_runs_here_the_others_in_workers(tmp_path, cpus, one_block_each):
    cpus(3)
    result = map_row_slices(
        kernels.meet, {"data": np.ones((9, 2))}, max_workers=3,
        kwargs={"directory": tmp_path, "count": 3},
    )
    pids = result["pid"][:, 0]
    assert set(pids[:3]) == {os.getpid()}
    assert len(set(pids[3:6])) == 1 and len(set(pids[6:])) == 1
    assert len({pids[0], pids[3], pids[6]}) == 3


def test_pool_is_reused_between_calls(tmp_path, one_block_each):
    shutdown_pool()  # a pool of one worker for two processes
    results = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        results.append(map_row_slices(
            kernels.meet, {"data": np.ones((4, 2))}, max_workers=2,
            kwargs={"directory": tmp_path / name},
        ))
    first, second = results
    assert first["pid"][-1, 0] == second["pid"][-1, 0] != os.getpid()


def test_blocks_are_shared_out_between_the_processes(tmp_path):
    # Several blocks per process: a process that is still busy leaves the next block
    # to another, so every block is computed once, by one of the two processes.
    data = np.arange(64.0).reshape(32, 2)
    result = map_row_slices(kernels.scale_rows, {"data": data}, max_workers=2)
    np.testing.assert_array_equal(result["data"], 2 * data)
    pids = result["pid"][:, 0]
    for start, stop in parallel._row_bounds(32, 2 * parallel.BLOCKS_PER_WORKER, 2):
        assert len(set(pids[start:stop].tolist())) == 1  # a block is one process's
    assert len(set(pids.tolist())) <= 2


def test_input_in_shared_memory_is_not_copied(monkeypatch):
    data = shared_like(np.arange(48.0).reshape(2, 12, 2))
    copies = []
    original = _sharedmem.shared_copy
    monkeypatch.setattr(
        _sharedmem, "shared_copy", lambda a, **kw: copies.append(a) or original(a, **kw)
    )
    ordinary = np.ones((2, 12, 2))
    result = map_row_slices(
        kernels.add, {"a": data[:, ::-1], "b": ordinary}, max_workers=2
    )
    np.testing.assert_array_equal(result["sum"], data[:, ::-1] + 1)
    # Only the ordinary array was copied to shared memory; the reversed view of the
    # shared one was described to the workers as it is.
    assert len(copies) == 1 and copies[0] is ordinary
    # Outputs are shared too: passing them on costs no copy either.
    again = map_row_slices(kernels.add, {"a": result["sum"], "b": result["sum"]}, max_workers=2)
    assert len(copies) == 1
    np.testing.assert_array_equal(again["sum"], 2 * result["sum"])


def test_shared_arrays_are_released_when_collected():
    array = shared_empty((3, 4), np.float32)
    name = _sharedmem.spec_of(array[1:]).name
    assert os.path.exists(f"/dev/shm/{name}") or not os.path.isdir("/dev/shm")
    view = array[::2]
    del array
    assert _sharedmem.spec_of(view).name == name  # the view keeps the segment
    del view
    # Freed: kept for the next array of the same size, pages included...
    again = shared_empty((4, 3), np.float32)
    assert _sharedmem.spec_of(again).name == name
    del again
    # ...until the cache is cleared (shutdown_pool does it too).
    _sharedmem.clear_cache()
    assert not os.path.exists(f"/dev/shm/{name}")
    assert _sharedmem.spec_of(np.ones(3)) is None


def test_cache_keeps_at_most_its_limit(monkeypatch):
    monkeypatch.setattr(_sharedmem._CACHE, "limit", 3 * 4096)
    arrays = [shared_empty(1024, np.float32) for _ in range(4)]  # one page each
    names = [_sharedmem.spec_of(a).name for a in arrays]
    while arrays:
        del arrays[0]  # freed in order
    # The oldest freed segment was removed to keep three pages.
    assert not os.path.exists(f"/dev/shm/{names[0]}")
    assert all(os.path.exists(f"/dev/shm/{n}") for n in names[1:])
    big = shared_empty(4 * 1024, np.float32)  # larger than the limit: never kept
    name = _sharedmem.spec_of(big).name
    del big
    assert not os.path.exists(f"/dev/shm/{name}")
    _sharedmem.clear_cache()


def test_inputs_are_not_modified_in_the_parallel_path():
    inputs = _ramps(8)
    before = {key: value.copy() for key, value in inputs.items()}
    map_row_slices(kernels.ramp_statistics, inputs, max_workers=2)
    for key in inputs:
        np.testing.assert_array_equal(inputs[key], before[key])


def test_kernel_error_is_reraised_with_the_rows(one_block_each):
    data = np.arange(1.0, 9.0)[:, None] * np.ones((8, 3))
    data[:4] = 0.0
    with pytest.raises(ArithmeticError, match="bad rows") as info:
        map_row_slices(kernels.fail_on_second_half, {"data": data}, max_workers=2)
    assert info.value.__notes__ == [
        "(raised by kernel tests.core.parallel_kernels.fail_on_second_half on rows 4:8 "
        "in a worker process)"
    ]


def test_kernel_error_in_this_process_is_reraised_with_the_rows(one_block_each):
    data = np.ones((8, 3))
    data[:4] = 0.0
    with pytest.raises(ArithmeticError, match="bad first rows") as info:
        map_row_slices(kernels.fail_on_first_block, {"data": data}, max_workers=2)
    assert info.value.__notes__ == [
        "(raised by kernel tests.core.parallel_kernels.fail_on_first_block on rows 0:4)"
    ]


def test_kernel_may_not_write_into_its_inputs_in_the_parallel_path():
    data = np.zeros((4, 2))
    with pytest.raises(ValueError, match="read-only"):
        map_row_slices(kernels.write_inputs, {"data": data}, max_workers=2)
    np.testing.assert_array_equal(data, 0.0)


def test_outputs_outlive_the_call():
    result = map_row_slices(kernels.scale_rows, {"data": np.ones((6, 2))}, max_workers=2)
    data = result["data"]
    del result
    data += 1.0  # writable, and its memory still mapped
    np.testing.assert_array_equal(data, 3.0)


@pytest.mark.parametrize("kernel", [kernels.exit_abruptly, kernels.segfault])
def test_a_dying_worker_raises_instead_of_hanging(kernel, one_block_each):
    message = (
        f"a worker process died while running kernel tests.core.parallel_kernels."
        f"{kernel.__name__} on 6 rows with 2 processes (it was killed, crashed or ran out "
        "of memory) and no result was produced. Run with maximum_cores='none' to run "
        "in this process and see the error, or use fewer cores to need less memory."
    )
    with pytest.raises(StepError, match=re.escape(message)):
        map_row_slices(kernel, {"data": np.ones((6, 2))}, max_workers=2)
    # The broken pool was replaced.
    result = map_row_slices(kernels.scale_rows, {"data": np.ones((6, 2))}, max_workers=2)
    np.testing.assert_array_equal(result["data"], 2.0)


def test_lambda_kernel_needs_the_serial_path():
    with pytest.raises(StepError, match=r"is a lambda or a function defined inside another"):
        map_row_slices(lambda data: {"data": data}, {"data": np.ones((4, 2))}, max_workers=2)


def test_unpicklable_kwargs_are_reported():
    with pytest.raises(StepError, match=r"the keyword arguments of kernel .* cannot be sent"):
        map_row_slices(
            kernels.scale_rows,
            {"data": np.ones((4, 2))},
            max_workers=2,
            kwargs={"factor": threading.Lock()},
        )


def test_inputs_must_share_the_rows():
    message = (
        "the inputs of kernel tests.core.parallel_kernels.ramp_statistics have different "
        "numbers of rows along axis -2: {'data': 4, 'groupdq': 5}; every input must have "
        "the same rows."
    )
    with pytest.raises(StepError, match=re.escape(message)):
        map_row_slices(
            kernels.ramp_statistics,
            {"data": np.ones((1, 3, 4, 2)), "groupdq": np.zeros((1, 3, 5, 2), np.uint8)},
            max_workers=2,
        )


def test_input_without_row_axis():
    with pytest.raises(StepError, match=re.escape("has shape (4,), which has no row axis -2")):
        map_row_slices(kernels.scale_rows, {"data": np.ones(4)}, max_workers=2)


def test_input_must_be_an_array():
    with pytest.raises(StepError, match="input 'data' of kernel .* is a list, not a numpy array"):
        map_row_slices(kernels.scale_rows, {"data": [[1.0], [2.0]]}, max_workers=2)


def test_no_inputs():
    with pytest.raises(StepError, match="was given no input arrays"):
        map_row_slices(kernels.scale_rows, {}, max_workers=2)


@pytest.mark.parametrize(
    ("kernel", "message"),
    [
        (kernels.drop_rows, "output 'total' of kernel tests.core.parallel_kernels.drop_rows "
         "has shape () for a block of 1 row(s); outputs must keep the rows along axis -2."),
        (kernels.not_a_dict, "kernel tests.core.parallel_kernels.not_a_dict returned a "
         "ndarray; a kernel must return a dict of output name to numpy array."),
        (kernels.dtype_by_block, "output 'data' of kernel tests.core.parallel_kernels."
         "dtype_by_block is float32 (4, 3) for rows 4:8 but float64 (4, 3) was expected "
         "from its first row; the kernel must treat rows independently and return the "
         "same dtype for every block."),
    ],
)
def test_bad_outputs_are_reported(kernel, message, one_block_each):
    data = np.arange(1.0, 9.0)[:, None] * np.ones((8, 3))
    data[:4] = 0.0
    with pytest.raises(StepError, match=re.escape(message)):
        map_row_slices(kernel, {"data": data}, max_workers=2)


def test_max_workers_must_be_resolved_first():
    with pytest.raises(StepError, match=re.escape("max_workers='all' for kernel")):
        map_row_slices(kernels.scale_rows, {"data": np.ones((4, 2))}, max_workers="all")


def test_nested_call_in_a_worker_runs_serially():
    data = np.arange(16.0).reshape(8, 2)
    result = map_row_slices(kernels.nested, {"data": data}, max_workers=2)
    np.testing.assert_array_equal(result["data"], 2 * data)
    # Every block's inner call ran serially, in the process that took the block.
    pids = result["pid"][:, 0]
    assert len(set(pids.tolist())) <= 2


def test_budget_of_one_core_runs_serially_with_one_log_line(caplog):
    with caplog.at_level(logging.INFO, logger="steppe.parallel"):
        with core_budget(1):
            result = map_row_slices(kernels.scale_rows, {"data": np.ones((4, 2))}, max_workers=2)
    assert np.all(result["pid"] == os.getpid())
    assert caplog.messages == [
        "kernel tests.core.parallel_kernels.scale_rows uses 1 worker(s) instead of 2: "
        "this job's share of the cores is 1"
    ]


def test_daemon_process_runs_serially_with_one_warning():
    context = multiprocessing.get_context("forkserver")
    queue = context.Queue()
    data = np.arange(12.0).reshape(6, 2)
    process = context.Process(target=kernels.run_in_process, args=(queue, data), daemon=True)
    process.start()
    try:
        values, pids, daemon_pid, records = queue.get(timeout=30)
    finally:
        process.join(timeout=30)
        queue.close()
        queue.join_thread()
    np.testing.assert_array_equal(values, 2 * data)
    assert pids == [daemon_pid]
    assert records == [
        "kernel tests.core.parallel_kernels.scale_rows runs serially instead of on 2 "
        "workers because this process is a daemon process (for instance a "
        "multiprocessing.Pool or Dask worker), which may not start child processes"
    ]


def test_not_enough_shared_memory_is_reported_before_writing(monkeypatch):
    data = shared_like(np.ones((128, 256)))

    class Tiny:
        f_bavail = 10
        f_frsize = 4096

    monkeypatch.setattr(_sharedmem.os, "statvfs", lambda path: Tiny())
    monkeypatch.setattr(_sharedmem.sys, "platform", "linux")
    monkeypatch.setattr(_sharedmem.os.path, "isdir", lambda path: True)
    with pytest.raises(StepError, match=re.escape(
        "not enough shared memory for the kernel's outputs: 0.5 MiB needed, 0.0 MiB free "
        "in /dev/shm. Enlarge /dev/shm (for a container: docker run --shm-size=...), or "
        "lower maximum_cores ('none' runs in this process without shared memory)."
    )):
        map_row_slices(kernels.scale_rows, {"data": data}, max_workers=2)
    # An input that must be copied to shared memory is checked the same way.
    with pytest.raises(StepError, match=re.escape(
        "not enough shared memory for input 'data' of kernel tests.core.parallel_kernels."
        "scale_rows: 0.2 MiB needed, 0.0 MiB free in /dev/shm."
    )):
        map_row_slices(kernels.scale_rows, {"data": np.ones((128, 256))}, max_workers=2)


@pytest.mark.skipif(available_cores() < 2, reason="the child needs two CPUs of its own")
def test_child_process_using_a_pool_exits_cleanly():
    context = multiprocessing.get_context("forkserver")
    queue = context.Queue()
    data = np.arange(12.0).reshape(6, 2)
    process = context.Process(target=kernels.run_in_process, args=(queue, data))
    process.start()
    try:
        values, pids, child_pid, records = queue.get(timeout=30)
    finally:
        process.join(timeout=30)
        queue.close()
        queue.join_thread()
    # The child and its own pool did the work; the pool was stopped so that the child
    # could exit.
    assert process.exitcode == 0
    np.testing.assert_array_equal(values, 2 * data)
    assert child_pid in pids and len(pids) == 2 and records == []


@pytest.mark.parametrize("max_workers", [1, 2])
def test_kernel_may_fill_the_outputs_in_place(max_workers):
    data = np.arange(40.0).reshape(20, 2)
    result = map_row_slices(
        kernels.fill_out, {"data": data}, max_workers=max_workers, out_keyword="out"
    )
    np.testing.assert_array_equal(result["data"], 2 * data)
    # Blocks received their rows of the outputs (the serial path calls the kernel plainly).
    assert np.all(result["given"] == (max_workers > 1))
