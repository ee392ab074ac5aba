"""map_row_slices with halo rows and RowReader inputs; row bounds; kept and reserved segments."""

from __future__ import annotations

import mmap
import os
import pickle
import re

import numpy as np
import pytest

from pipeline_core.parallel import _sharedmem
from pipeline_core.parallel import rows as parallel
from pipeline_core.errors import StepError
from pipeline_core.parallel.rows import RowReader, map_row_slices, shared_empty, shared_like
from tests.core import parallel_kernels_halo as kernels

pytestmark = pytest.mark.usefixtures("no_shared_memory_leaks", "at_least_two_cpus")

NAME = "tests.core.parallel_kernels_halo"


@pytest.fixture
def small_blocks(monkeypatch):
    """Many blocks per process: most are one or two rows, so edges are everywhere."""
    monkeypatch.setattr(parallel, "BLOCKS_PER_WORKER", 40)


@pytest.fixture
def one_block_each(monkeypatch):
    monkeypatch.setattr(parallel, "BLOCKS_PER_WORKER", 1)


def _data(ny, nx=5, seed=3):
    rng = np.random.default_rng(seed)
    return rng.integers(-50, 50, size=(ny, nx)).astype(np.float64)


# --------------------------------------------------------------------------------------
# halo
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_workers", [1, 2])
@pytest.mark.parametrize("ny", [1, 2, 3, 37, 200])
def test_halo_gives_the_serial_result(ny, max_workers, small_blocks):
    data = _data(ny)
    expected = kernels.vertical_sum3(data)["sum"]
    # an independent check of the kernel itself
    padded = np.pad(data, ((1, 1), (0, 0)))
    np.testing.assert_array_equal(expected, padded[:-2] + padded[1:-1] + padded[2:])
    result = map_row_slices(
        kernels.vertical_sum3, {"data": data}, max_workers=max_workers, row_axis=0, halo=1
    )
    assert result["sum"].dtype == np.float64 and result["sum"].shape == (ny, 5)
    np.testing.assert_array_equal(result["sum"], expected)
    if max_workers == 2 and ny >= 37:
        # cut into many blocks and computed by two processes, yet identical
        assert len(set(result["pid"].ravel().tolist())) <= 2


def test_without_halo_block_edges_differ(small_blocks):
    # The kernel really needs its neighbours: no halo gives other values at block edges,
    # which is what the halo test above would catch.
    data = _data(37) + 100.0
    result = map_row_slices(kernels.vertical_sum3, {"data": data}, max_workers=2, row_axis=0)
    assert not np.array_equal(result["sum"], kernels.vertical_sum3(data)["sum"])


@pytest.mark.parametrize("ny", [2, 5, 37, 64])
def test_larger_halo_on_4d_inputs(ny, small_blocks):
    data = np.random.default_rng(ny).normal(size=(2, 3, ny, 4))
    expected = kernels.vertical_sum5(data)["sum"]
    result = map_row_slices(kernels.vertical_sum5, {"data": data}, max_workers=2, halo=2)
    np.testing.assert_array_equal(result["sum"], expected)
    # halo=1 is not enough for a kernel reaching two rows away
    if ny >= 37:
        short = map_row_slices(kernels.vertical_sum5, {"data": data}, max_workers=2, halo=1)
        assert not np.array_equal(short["sum"], expected)


@pytest.mark.parametrize("halo", [1, 3, 500])
def test_halo_spreading_flags_matches_serial(halo, small_blocks):
    flags = np.zeros((50, 7), np.uint8)
    flags[[0, 9, 10, 24, 25, 26, 49], [0, 3, 3, 6, 1, 1, 6]] = [1, 2, 4, 8, 16, 32, 64]
    result = map_row_slices(kernels.spread_flags, {"flags": flags}, max_workers=2, row_axis=0, halo=halo)
    expected = kernels.spread_flags(flags)["flags"]
    np.testing.assert_array_equal(result["flags"], expected)
    assert expected[8, 3] == 2 and expected[11, 3] == 4 and expected[23, 6] == 8


def test_halo_with_out_keyword_is_refused():
    message = (
        f"kernel {NAME}.fill_out: halo=1 cannot be combined with out_keyword='out' (a block "
        "computes its halo rows but must not write them); use one or the other."
    )
    for max_workers in (1, 2):
        with pytest.raises(StepError, match=re.escape(message)):
            map_row_slices(
                kernels.fill_out, {"data": np.ones((6, 2))}, max_workers=max_workers,
                out_keyword="out", halo=1,
            )
    # halo=0 with out_keyword is fine
    result = map_row_slices(
        kernels.fill_out, {"data": np.ones((6, 2))}, max_workers=2, out_keyword="out", halo=0
    )
    np.testing.assert_array_equal(result["data"], 2.0)


@pytest.mark.parametrize("halo", [-1, 1.0, 0.5, "1", True, None])
def test_bad_halo_is_refused(halo):
    message = f"halo={halo!r} for kernel {NAME}.vertical_sum3 must be a whole number of rows >= 0."
    for max_workers in (1, 2):
        with pytest.raises(StepError, match=re.escape(message)):
            map_row_slices(
                kernels.vertical_sum3, {"data": np.ones((6, 2))}, max_workers=max_workers,
                row_axis=0, halo=halo,
            )


def test_numpy_integer_halo_is_accepted(small_blocks):
    data = _data(20)
    result = map_row_slices(
        kernels.vertical_sum3, {"data": data}, max_workers=2, row_axis=0, halo=np.int64(1)
    )
    np.testing.assert_array_equal(result["sum"], kernels.vertical_sum3(data)["sum"])


# --------------------------------------------------------------------------------------
# RowReader inputs
# --------------------------------------------------------------------------------------


def _reads(folder):
    """(pid, start, stop, row_axis) of every read an ArrayRows logged in `folder`, sorted."""
    return sorted(tuple(int(part) for part in name.split("_")[:4]) for name in os.listdir(folder))


def test_row_reader_protocol():
    reader = kernels.ArrayRows(np.ones((3, 2)))
    assert isinstance(reader, RowReader)
    assert not isinstance(np.ones((3, 2)), RowReader)
    assert pickle.loads(pickle.dumps(reader)).shape == (3, 2)


def test_reader_is_read_whole_in_the_serial_path(tmp_path):
    array = _data(12)
    reader = kernels.ArrayRows(array, log=tmp_path)
    result = map_row_slices(
        kernels.add_and_pid, {"a": array, "b": reader}, max_workers=1, row_axis=0
    )
    np.testing.assert_array_equal(result["sum"], 2 * array)
    assert _reads(tmp_path) == [(os.getpid(), 0, 12, 0)]


@pytest.mark.parametrize("halo", [0, 1])
def test_reader_is_read_block_by_block_in_parallel(tmp_path, halo, small_blocks):
    array = _data(37, nx=4)
    other = _data(37, nx=4, seed=9)
    log = tmp_path / "log"
    log.mkdir()
    serial = map_row_slices(
        kernels.add_and_pid, {"a": other, "b": kernels.ArrayRows(array)}, max_workers=1, row_axis=0
    )
    result = map_row_slices(
        kernels.add_and_pid, {"a": other, "b": kernels.ArrayRows(array, log=log)}, max_workers=2,
        row_axis=0, halo=halo,
    )
    np.testing.assert_array_equal(result["sum"], other + array)
    np.testing.assert_array_equal(result["sum"], serial["sum"])
    reads = _reads(log)
    spans = sorted((start, stop) for _, start, stop, _ in reads)
    assert all(axis == 0 for *_, axis in reads)
    # Never read whole: the one-row probe, then one read per block (halo rows included).
    assert (0, 37) not in spans and (0, 1) in spans
    assert len(spans) > 10
    assert max(stop - start for start, stop in spans) < 37
    bounds = parallel._row_bounds(37, 2 * parallel.BLOCKS_PER_WORKER, 2)
    expected = sorted(parallel._extended(start, stop, halo, 37) for start, stop in bounds)
    spans.remove((0, 1))  # the probe
    assert spans == expected


def test_reader_is_read_in_the_worker_processes(tmp_path, one_block_each):
    data = _data(8)
    ref = _data(8, seed=5)
    log = tmp_path / "log"
    log.mkdir()
    meet = tmp_path / "meet"
    meet.mkdir()
    result = map_row_slices(
        kernels.read_pids, {"data": data, "ref": kernels.ArrayRows(ref, log=log)},
        max_workers=2, kwargs={"directory": meet},
    )
    np.testing.assert_array_equal(result["sum"], data + ref)
    pids = result["pid"][:, 0]
    assert set(pids[:4]) == {os.getpid()} and len(set(pids[4:])) == 1
    worker = int(pids[-1])
    assert worker != os.getpid()
    # the probe and the first block here, the second block in the worker
    assert _reads(log) == sorted(
        [(os.getpid(), 0, 1, -2), (os.getpid(), 0, 4, -2), (worker, 4, 8, -2)]
    )


def test_only_readers_as_inputs(small_blocks):
    array = _data(30)
    result = map_row_slices(
        kernels.vertical_sum3, {"data": kernels.ArrayRows(array)}, max_workers=2, row_axis=0, halo=1
    )
    np.testing.assert_array_equal(result["sum"], kernels.vertical_sum3(array)["sum"])


def test_unpicklable_reader_is_reported():
    reader = kernels.UnpicklableRows(np.ones((6, 2)))
    with pytest.raises(StepError) as info:
        map_row_slices(kernels.add_and_pid, {"a": np.ones((6, 2)), "b": reader}, max_workers=2, row_axis=0)
    message = str(info.value)
    assert message.startswith(
        f"input 'b' of kernel {NAME}.add_and_pid is a UnpicklableRows that cannot be sent to "
        "worker processes (TypeError: "
    )
    assert message.endswith(
        "a RowReader must be picklable. Pass the array itself, or run serially with "
        "maximum_cores='none'."
    )
    # the serial path does not need to pickle it
    result = map_row_slices(kernels.add_and_pid, {"a": np.ones((6, 2)), "b": reader}, max_workers=1, row_axis=0)
    np.testing.assert_array_equal(result["sum"], 2.0)


def test_reader_rows_must_match_the_other_inputs():
    with pytest.raises(StepError, match=re.escape("{'a': 6, 'b': 5}")):
        map_row_slices(
            kernels.add_and_pid, {"a": np.ones((6, 2)), "b": kernels.ArrayRows(np.ones((5, 2)))},
            max_workers=2, row_axis=0,
        )


# --------------------------------------------------------------------------------------
# _row_bounds
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 8])
def test_row_bounds_cover_every_row_once(workers):
    for rows in list(range(1, 80)) + [97, 128, 255, 1000, 2048, 4099]:
        for blocks in (1, 2, 3, 4, 5, 7, 10, 16, 20, 40, 64, 100, 400):
            bounds = parallel._row_bounds(rows, blocks, workers)
            assert bounds[0][0] == 0 and bounds[-1][1] == rows, (rows, blocks, workers)
            assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:])), (rows, blocks, workers)
            assert all(start < stop for start, stop in bounds), (rows, blocks, workers)
            assert len(bounds) <= min(rows, blocks), (rows, blocks, workers)
            covered = np.zeros(rows, int)
            for start, stop in bounds:
                covered[start:stop] += 1
            assert np.all(covered == 1)


def test_row_bounds_with_fewer_rows_than_blocks():
    assert parallel._row_bounds(3, 20, 2) == [(0, 1), (1, 2), (2, 3)]
    assert parallel._row_bounds(1, 20, 2) == [(0, 1)]
    assert parallel._row_bounds(2, 20, 4) == [(0, 1), (1, 2)]


def test_row_bounds_with_few_blocks_or_one_worker_are_even():
    assert parallel._row_bounds(10, 3, 2) == [(0, 3), (3, 6), (6, 10)]
    assert parallel._row_bounds(12, 4, 1) == [(0, 3), (3, 6), (6, 9), (9, 12)]


@pytest.mark.parametrize(("rows", "blocks", "workers"), [(1000, 20, 2), (1000, 30, 3), (2048, 80, 8), (1000, 5, 2)])
def test_row_bounds_are_smallest_where_the_processes_meet(rows, blocks, workers):
    bounds = parallel._row_bounds(rows, blocks, workers)
    assert len(bounds) == blocks
    sizes = [stop - start for start, stop in bounds]
    meet = rows / workers
    # This process's share (the front blocks) ends at rows / workers.
    front = max(1, round(blocks / workers))
    assert abs(bounds[front - 1][1] - meet) <= 1
    # Sizes fall towards that point from both ends (to within a row of rounding).
    assert all(a >= b - 1 for a, b in zip(sizes[:front], sizes[1:front]))
    assert all(a <= b + 1 for a, b in zip(sizes[front:], sizes[front + 1 :]))
    assert min(sizes) in (sizes[front - 1], sizes[front])
    assert sizes[0] > 2 * min(sizes) and sizes[-1] > 2 * min(sizes)


# --------------------------------------------------------------------------------------
# Segments kept between calls
# --------------------------------------------------------------------------------------


def test_worker_keeps_the_input_segment_between_calls(tmp_path, one_block_each):
    parallel.shutdown_pool()  # one worker, fresh
    data = shared_like(np.arange(80.0).reshape(16, 5))
    segment = _sharedmem.spec_of(data).name
    results = []
    for call in ("first", "second"):
        (tmp_path / call).mkdir()
        results.append(map_row_slices(
            kernels.kept_segment, {"data": data}, max_workers=2,
            kwargs={"directory": tmp_path / call, "segment": segment},
        ))
    for result in results:
        np.testing.assert_array_equal(result["data"], 2 * data)
    first, second = results
    worker = first["pid"][-1, 0]
    assert worker != os.getpid() and second["pid"][-1, 0] == worker
    # The worker mapped the segment once and kept the same mapping for the second call.
    assert first["kept"][-1, 0] != 0
    assert second["kept"][-1, 0] == first["kept"][-1, 0]
    assert np.all(first["kept"][:8] == 0)  # rows computed here
    # A third call on another input lets the segment go in the worker, and still works.
    (tmp_path / "third").mkdir()
    other = shared_like(np.ones((16, 5)))
    third = map_row_slices(
        kernels.kept_segment, {"data": other}, max_workers=2,
        kwargs={"directory": tmp_path / "third", "segment": segment},
    )
    np.testing.assert_array_equal(third["data"], 2.0)
    assert third["pid"][-1, 0] == worker and third["kept"][-1, 0] == 0
    # Values changed in place between calls are seen by the worker (same memory).
    data[...] = -1.0
    (tmp_path / "fourth").mkdir()
    fourth = map_row_slices(
        kernels.kept_segment, {"data": data}, max_workers=2,
        kwargs={"directory": tmp_path / "fourth", "segment": segment},
    )
    np.testing.assert_array_equal(fourth["data"], -2.0)


def test_attached_keep_and_keep_only_in_this_process():
    first = shared_empty((4, 6), np.float32)
    first[...] = np.arange(24).reshape(4, 6)
    second = shared_empty((3, 5), np.int16)
    second[...] = 7
    specs = {"a": _sharedmem.spec_of(first), "b": _sharedmem.spec_of(second[1:])}
    names = {spec.name for spec in specs.values()}
    _sharedmem.keep_only(set())
    assert not _sharedmem._kept()
    try:
        with _sharedmem.attached(specs, keep=True) as views:
            np.testing.assert_array_equal(views.arrays["a"], first)
            np.testing.assert_array_equal(views.arrays["b"], 7)
            assert views.arrays["b"].shape == (2, 5)
            assert views._ready == frozenset()  # mapped for the first time
            views.arrays["a"][0, 0] = -5.0  # the same memory
            kept = dict(_sharedmem._kept())
        assert first[0, 0] == -5.0
        assert set(kept) == names
        with _sharedmem.attached(specs, keep=True) as views:
            assert views._ready == frozenset({"a", "b"})
            assert {name: _sharedmem._kept()[name] for name in names} == kept
            np.testing.assert_array_equal(views.arrays["a"], first)
            # kept segments are neither prefaulted nor reserved again
            views.prefault("a", views.arrays["a"][:2], -2)
            views.reserve("b", views.arrays["b"][:1], -2)
        # Only "a" still wanted: "b" is unmapped, "a" stays.
        _sharedmem.keep_only({specs["a"].name})
        assert set(_sharedmem._kept()) == {specs["a"].name}
        with _sharedmem.attached(specs, keep=True) as views:
            assert views._ready == frozenset({"a"})
            np.testing.assert_array_equal(views.arrays["b"], 7)
        # Not kept: nothing is added.
        _sharedmem.keep_only(set())
        with _sharedmem.attached(specs) as views:
            assert views._ready == frozenset()
            np.testing.assert_array_equal(views.arrays["a"][0, 1:], np.arange(1, 6))
            del views
        assert not _sharedmem._kept()
    finally:
        _sharedmem.keep_only(set())


def test_attached_ready_skips_the_page_work(monkeypatch):
    array = shared_empty((64, 1024), np.float32)
    spec = {"x": _sharedmem.spec_of(array)}
    calls = []
    monkeypatch.setattr(_sharedmem, "_populate", lambda *args: calls.append(args[-1]))
    monkeypatch.setattr(_sharedmem.sys, "platform", "linux")
    try:
        with _sharedmem.attached(spec, keep=True) as views:
            views.prefault("x", views.arrays["x"][:8], -2)
            views.reserve("x", views.arrays["x"][8:16], -2)
        assert calls == [_sharedmem._MADV_POPULATE_READ, _sharedmem._MADV_POPULATE_WRITE]
        with _sharedmem.attached(spec, keep=True) as views:
            views.prefault("x", views.arrays["x"][:8], -2)
            views.reserve("x", views.arrays["x"][8:16], -2)
        assert len(calls) == 2
    finally:
        _sharedmem.keep_only(set())


# --------------------------------------------------------------------------------------
# Reserved segments
# --------------------------------------------------------------------------------------


def _mapping(array):
    return _sharedmem._segment_map(array)


def test_reserve_whole_sets_reserved_and_a_reused_segment_stays_reserved(monkeypatch):
    reserved = []
    original = _sharedmem._reserve_in
    monkeypatch.setattr(
        _sharedmem, "_reserve_in", lambda mapping, *args: reserved.append(mapping.segment) or original(mapping, *args)
    )
    array = shared_empty((32, 1024), np.float32)
    name = _sharedmem.spec_of(array).name
    assert _mapping(array).reserved is False
    _sharedmem.reserve(array[:4])  # a block: reserved, but the segment is not marked
    assert reserved == [name] and _mapping(array).reserved is False
    _sharedmem.reserve_whole(array)
    assert _mapping(array).reserved is True and reserved == [name, name]
    _sharedmem.reserve_whole(array)  # once in its life
    _sharedmem.reserve(array[4:8])  # nothing left to do
    assert reserved == [name, name]
    del array
    again = shared_empty((1024, 32), np.float32)  # same size: the freed segment, reused
    assert _sharedmem.spec_of(again).name == name
    assert _mapping(again).reserved is True
    _sharedmem.reserve_whole(again)
    _sharedmem.reserve(again[:3])
    assert reserved == [name, name]
    # A new segment starts unreserved.
    fresh = shared_empty((32, 1024), np.float32)
    assert _sharedmem.spec_of(fresh).name != name and _mapping(fresh).reserved is False
    # Arrays outside shared memory are ignored.
    _sharedmem.reserve_whole(np.ones(4))
    _sharedmem.mark_reserved(np.ones(4))


def test_mark_reserved_needs_the_whole_segment():
    page = mmap.PAGESIZE
    array = shared_empty(4 * page, np.uint8)
    _sharedmem.mark_reserved(array[: 2 * page])  # half written: not marked
    assert _mapping(array).reserved is False
    _sharedmem.mark_reserved(array[::-1])
    assert _mapping(array).reserved is True
    # A segment is whole pages; an array ending within its last page counts as whole.
    odd = shared_empty(3 * page + 10, np.uint8)
    _sharedmem.mark_reserved(odd[: 2 * page])
    assert _mapping(odd).reserved is False
    _sharedmem.mark_reserved(odd)
    assert _mapping(odd).reserved is True
    # A view that skips the first page, and an empty array, do not count as whole.
    late = shared_empty(4 * page, np.uint8)
    _sharedmem.mark_reserved(late[page:])
    assert _mapping(late).reserved is False
    empty = shared_empty(0, np.uint8)
    _sharedmem.mark_reserved(empty)
    assert _mapping(empty).reserved is False


def test_shared_copies_and_outputs_are_reserved():
    copy = shared_like(np.ones((4, 3)))
    assert _mapping(copy).reserved is True
    big = parallel.shared_allocator((512, 1024), np.float32)  # 2 MiB: shared
    assert _mapping(big).reserved is True
    small = parallel.shared_allocator((4, 4), np.float32)
    assert _mapping(small) is None
    result = map_row_slices(kernels.vertical_sum3, {"data": _data(40)}, max_workers=2, row_axis=0, halo=1)
    assert _mapping(result["sum"]).reserved is True


@pytest.mark.parametrize("halo", [0, 1, 2])
def test_large_inputs_are_worked_on_in_blocks_in_one_process(monkeypatch, halo):
    data = np.random.default_rng(3).normal(size=(2, 3, 41, 5))
    whole = kernels.vertical_sum5(data)["sum"]
    calls = []

    def spy(**kw):
        calls.append(kw["data"].shape[-2])
        return kernels.vertical_sum5(**kw)

    monkeypatch.setattr(parallel, "SERIAL_BLOCK_BYTES", data.nbytes // 4)
    blocked = map_row_slices(spy, {"data": data}, max_workers=1, halo=halo)["sum"]
    bounds = parallel._row_bounds(41, 4, 1)
    assert calls == [min(41, e + halo) - max(0, s - halo) for s, e in bounds]
    if halo == 2:  # enough rows around each block: the same as one call
        np.testing.assert_array_equal(blocked, whole)
    else:  # too few: rows next to the block edges differ, the others do not
        edges = {r for s, e in bounds for r in (s, s + 1, e - 2, e - 1)} - {0, 1, 39, 40}
        inner = [r for r in range(41) if r not in edges]
        np.testing.assert_array_equal(blocked[..., inner, :], whole[..., inner, :])
        assert not np.array_equal(blocked, whole)
