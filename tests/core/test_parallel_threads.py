"""Row slices on threads: map_row_slices(..., threads=True)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from pipeline_core.errors import StepError
from pipeline_core.parallel import _sharedmem
from pipeline_core.parallel.threads import run_on_threads
from pipeline_core.parallel.rows import map_row_slices
from tests.core import parallel_kernels as kernels


def _ramps(ny, seed=3):
    rng = np.random.default_rng(seed)
    data = rng.normal(100.0, 5.0, size=(2, 6, ny, 11)).astype(np.float32)
    data[:, 3:, ny // 2, 4] += 500.0
    groupdq = rng.integers(0, 2, size=data.shape).astype(np.uint8)
    return {"data": data, "groupdq": groupdq}


@pytest.mark.parametrize("ny", [2, 7, 45])
@pytest.mark.parametrize("halo", [0, 1])
def test_threads_equal_the_whole_array(ny, halo):
    inputs = _ramps(ny)
    expected = kernels.ramp_statistics(**inputs, threshold=2.5)
    result = map_row_slices(
        kernels.ramp_statistics, inputs, max_workers=2, kwargs={"threshold": 2.5}, threads=True, halo=halo
    )
    assert list(result) == list(expected)
    for key, array in expected.items():
        assert result[key].dtype == array.dtype
        np.testing.assert_array_equal(result[key], array)


def test_threads_use_no_process_and_no_shared_memory(monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a worker process was asked for")

    monkeypatch.setattr("pipeline_core.parallel.rows._POOL.get", no_pool)
    monkeypatch.setattr(_sharedmem, "shared_empty", no_pool)
    names = []

    def kernel(data):  # a local function: threads need no importable kernel
        names.append(threading.current_thread().name)
        return {"data": data + 1}

    data = np.zeros((40, 3))
    result = map_row_slices(kernel, {"data": data}, max_workers=2, threads=True)
    np.testing.assert_array_equal(result["data"], data + 1)
    assert len(names) > 2  # the probe of the first row, then the blocks


def test_kernel_error_on_a_thread_names_the_block():
    def kernel(data):
        if (data[:, 0] == 30).any():
            raise ValueError("bad row")
        return {"data": data}

    data = np.repeat(np.arange(40.0)[:, None], 2, axis=1)
    with pytest.raises(ValueError, match="bad row") as info:
        map_row_slices(kernel, {"data": data}, max_workers=2, threads=True)
    assert any("in a thread" in note for note in info.value.__notes__)


def test_kernel_may_not_write_into_its_inputs_on_threads():
    def kernel(data):
        data += 1
        return {"data": data}

    with pytest.raises(ValueError, match="read-only"):
        map_row_slices(kernel, {"data": np.zeros((10, 2))}, max_workers=2, threads=True)


def test_threads_fill_the_outputs_in_place():
    data = np.arange(40.0).reshape(20, 2)
    result = map_row_slices(kernels.fill_out, {"data": data}, max_workers=2, out_keyword="out", threads=True)
    np.testing.assert_array_equal(result["data"], 2 * data)
    assert np.all(result["given"][1:])  # the blocks wrote their rows of the outputs


def test_run_on_threads_stops_after_the_first_error():
    started = []

    def run(index):
        started.append(index)
        if index == 0:
            raise RuntimeError("first block fails")

    with pytest.raises(RuntimeError, match="first block fails"):
        run_on_threads(run, 1000, 2, "test")
    assert len(started) < 1000


def test_run_on_threads_runs_every_block_once():
    seen = []
    lock = threading.Lock()

    def run(index):
        with lock:
            seen.append(index)

    run_on_threads(run, 97, 3, "test")
    assert sorted(seen) == list(range(97))


def test_a_process_that_may_not_have_children_runs_serially_on_threads_too(monkeypatch, caplog):
    monkeypatch.setattr("pipeline_core.parallel.cores.cannot_have_children", lambda: "is a daemon")
    monkeypatch.setattr("pipeline_core.parallel.rows.cannot_have_children", lambda: "is a daemon")
    names = set()

    def kernel(data):
        names.add(threading.current_thread().name)
        time.sleep(0.005)  # long enough for another thread, if there were one, to take blocks
        return {"data": data}

    with caplog.at_level("WARNING", logger="steppe.parallel"):
        map_row_slices(kernel, {"data": np.zeros((50, 2))}, max_workers=2, threads=True)
    assert names == {threading.current_thread().name}
    assert "runs serially" in caplog.text and "is a daemon" in caplog.text


def test_run_on_threads_keeps_to_the_jobs_share_of_the_cores(monkeypatch):
    monkeypatch.setattr("pipeline_core.parallel.threads.worker_budget", lambda: 1)
    names = set()

    def run(index):
        names.add(threading.current_thread().name)
        time.sleep(0.002)

    run_on_threads(run, 20, 2, "test")
    assert names == {threading.current_thread().name}


def test_threads_raise_step_errors_for_bad_outputs():
    def kernel(data):
        return {"data": data[:1]}  # drops rows

    with pytest.raises(StepError, match="keep the rows"):
        map_row_slices(kernel, {"data": np.zeros((100, 2))}, max_workers=2, threads=True)
