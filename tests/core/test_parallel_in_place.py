"""map_row_slices(..., in_place=): outputs written over their inputs, with the results of new arrays."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline_core.errors import StepError
from pipeline_core.parallel import rows as rows_module
from pipeline_core.parallel.rows import map_row_slices
from tests.core import parallel_kernels_halo as kernels


def _flags(ny, seed=4):
    rng = np.random.default_rng(seed)
    return (rng.random((3, ny, 7)) < 0.05).astype(np.uint8) * rng.integers(1, 255, (3, ny, 7), dtype=np.uint8)


def _spread_and_count(flags, data):
    """Flags spread to the neighbouring rows (a halo of 1), and a per-row sum that is a new array."""
    spread = kernels.spread_flags(flags.swapaxes(0, 1))["flags"].swapaxes(0, 1)
    return {"flags": np.ascontiguousarray(spread), "total": data.sum(axis=-1, keepdims=True)}


@pytest.fixture(params=["whole", "serial blocks", "threads", "processes"])
def how(request, monkeypatch):
    if request.param == "serial blocks":
        monkeypatch.setattr(rows_module, "SERIAL_BLOCK_BYTES", 512)
    if request.param == "threads":
        monkeypatch.setattr(rows_module, "THREAD_BLOCK_BYTES", 512)
    return request.param


@pytest.mark.parametrize("ny", [1, 5, 64])
def test_in_place_gives_the_results_of_new_arrays(how, ny):
    flags = _flags(ny)
    data = np.arange(flags.size, dtype=np.float64).reshape(flags.shape)
    expected = _spread_and_count(flags, data)
    workers = 1 if how in ("whole", "serial blocks") else 2
    kernel = kernels.spread_rows if how == "processes" else _spread_and_count
    if how == "processes":
        expected = kernels.spread_rows(flags, data)
    original = flags.copy()
    fresh = map_row_slices(kernel, {"flags": original, "data": data}, max_workers=workers,
                           halo=1, threads=how == "threads")
    result = map_row_slices(kernel, {"flags": flags, "data": data}, max_workers=workers,
                            halo=1, threads=how == "threads", in_place={"flags": "flags"})
    assert result["flags"] is flags  # written over the input
    for key in expected:
        np.testing.assert_array_equal(result[key], expected[key])
        np.testing.assert_array_equal(fresh[key], expected[key])
    np.testing.assert_array_equal(original, _flags(ny))  # without in_place the input is kept


def test_in_place_allocates_no_array_of_the_output_on_threads(monkeypatch):
    monkeypatch.setattr(rows_module, "THREAD_BLOCK_BYTES", 4096)
    flags = _flags(400)
    data = np.ones(flags.shape)
    allocated = []
    real_empty = np.empty

    def recording_empty(shape, dtype=float, *args, **kwargs):
        allocated.append((tuple(np.atleast_1d(shape)), np.dtype(dtype)))
        return real_empty(shape, dtype, *args, **kwargs)

    monkeypatch.setattr(rows_module.np, "empty", recording_empty)
    map_row_slices(_spread_and_count, {"flags": flags, "data": data}, max_workers=2, halo=1,
                   threads=True, in_place={"flags": "flags"})
    assert (flags.shape, np.dtype(np.uint8)) not in allocated
    assert (tuple(flags.shape[:-1]) + (1,), np.dtype(np.float64)) in allocated  # the new output


@pytest.mark.parametrize(
    "in_place, inputs, match",
    [
        ({"flags": "missing"}, None, "not a writable input array"),
        ({"flags": "frozen"}, None, "not a writable input array"),
        ({"total": "data"}, None, "shape and dtype"),
    ],
)
def test_in_place_refuses_what_it_cannot_overwrite(in_place, inputs, match):
    flags = _flags(6)
    frozen = flags.copy()
    frozen.flags.writeable = False
    arrays = {"flags": flags, "data": np.ones(flags.shape), "frozen": frozen}
    with pytest.raises(StepError, match=match):
        map_row_slices(lambda flags, data, frozen: _spread_and_count(flags, data), arrays,
                       max_workers=1, halo=1, in_place=in_place)


def test_in_place_cannot_be_combined_with_out_keyword():
    flags = _flags(6)
    with pytest.raises(StepError, match="in_place"):
        map_row_slices(_spread_and_count, {"flags": flags, "data": np.ones(flags.shape)},
                       max_workers=1, out_keyword="out", in_place={"flags": "flags"})
