"""The shared-memory ramp of a parallel pipeline run: pipeline_core.parallel.session."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline_core.datamodels import RampModel, open_model
from pipeline_core.datamodels.allocation import arrays_from, current_allocator, new_array, new_filled
from pipeline_core.parallel import _sharedmem
from builtin_steps._shared_ramp import share_arrays
from builtin_steps._shared_ramp import shared_ramp_session as parallel_session
from pipeline_core.parallel.session import RampArrays
from tests.fixtures.parallel import _own_segments

pytestmark = pytest.mark.usefixtures("no_shared_memory_leaks", "at_least_two_cpus")

RAMP = (1, 4, 512, 512)  # groupdq (uint8): 1 MiB, the smallest array put in shared memory


def _ramp(seed: int = 3) -> RampModel:
    rng = np.random.default_rng(seed)
    return RampModel(data=rng.normal(100.0, 5.0, RAMP).astype(np.float32))


def test_one_worker_changes_nothing():
    with parallel_session(1) as ramps:
        assert ramps is None
        assert current_allocator() is None
        model = _ramp()
        assert share_arrays(model) == 0
        assert _sharedmem.spec_of(model.data) is None


def test_ramp_arrays_go_to_shared_memory_and_are_removed_after(tmp_path):
    path = _ramp().save(str(tmp_path / "r_ramp.fits"))
    expected = open_model(path).data
    before = _own_segments()
    with parallel_session(2) as ramps:
        model = open_model(path)  # read in the session: straight into shared memory
        assert _sharedmem.spec_of(model.data) is not None
        assert np.array_equal(model.data, expected)
        flags = model.groupdq  # created on first use, zero-filled, shared
        assert _sharedmem.spec_of(flags) is not None and not flags.any()
        small = new_array((8, 8), np.float32)  # not ramp-shaped: numpy's
        assert _sharedmem.spec_of(small) is None
        assert ramps.segments == 2
        assert len(_own_segments() - before) == 2
    assert ramps.segments == 0
    assert _own_segments() == before  # removed, although the arrays are still in use
    assert np.array_equal(model.data, expected)  # and still valid here
    assert current_allocator() is None


def test_segments_are_removed_when_the_block_fails():
    before = _own_segments()
    with pytest.raises(RuntimeError, match="boom"):
        with parallel_session(2) as ramps:
            model = _ramp()
            # data copied; groupdq, made on first use in the session, is shared already
            assert share_arrays(model) == 1
            assert ramps.segments == 2
            raise RuntimeError("boom")
    assert _own_segments() == before
    assert current_allocator() is None


def test_share_arrays_copies_once_and_keeps_values():
    model = _ramp()
    data = model.data.copy()
    model.groupdq[0, 1, 2, 3] = 4
    with parallel_session(2):
        assert share_arrays(model) == 2
        assert _sharedmem.spec_of(model.data) is not None
        assert _sharedmem.spec_of(model.groupdq) is not None
        assert np.array_equal(model.data, data)
        assert model.groupdq[0, 1, 2, 3] == 4 and model.groupdq.sum() == 4
        assert share_arrays(model) == 0  # already there


def test_a_model_copied_in_the_session_is_shared():
    model = _ramp()
    with parallel_session(2):
        copy = model.copy()
        assert _sharedmem.spec_of(copy.data) is not None
        assert np.array_equal(copy.data, model.data)
    assert _sharedmem.spec_of(model.data) is None


def test_freed_ramp_segment_is_not_kept_for_reuse():
    allocate = RampArrays()
    array = allocate(RAMP, np.dtype(np.float32))
    name = _sharedmem.spec_of(array).name
    assert name in _own_segments()
    del array
    assert name not in _own_segments()  # removed with its last array, not cached
    assert allocate.segments == 0


def test_new_filled_with_an_allocator_fills():
    def dirty(shape, dtype):
        return np.full(shape, 7, dtype)

    with arrays_from(dirty):
        assert not new_filled((3, 2), np.uint8, 0).any()
        assert (new_filled((3, 2), np.float32, 2.5) == 2.5).all()
    assert not new_filled((3, 2), np.uint8, 0).any()
