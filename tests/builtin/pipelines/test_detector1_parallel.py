"""Detector1Pipeline with jump and ramp_fit on two cores: the serial products.

The built-in steps run their kernels on threads; steps that need worker processes
(``parallel_threads = False``) get the ramp in shared memory from the start.
"""

import numpy as np
import pytest

from builtin_steps.pipelines.detector1 import Detector1Pipeline
from pipeline_core.parallel import _sharedmem, session
from tests.builtin import _stepdata as sd
from tests.builtin.pipelines.test_detector1 import _references
from tests.fixtures.parallel import _own_segments

pytestmark = pytest.mark.usefixtures("at_least_two_cpus")


@pytest.fixture
def ramp_allocators(monkeypatch):
    """Every RampArrays a pipeline run creates (to check that its segments are removed)."""
    made = []
    original = session.RampArrays.__init__

    def recording(self):
        original(self)
        made.append(self)

    monkeypatch.setattr(session.RampArrays, "__init__", recording)
    return made

SHAPE = (1, 4, 512, 512)  # groupdq: 1 MiB, so data and groupdq both go to shared memory


def _noisy_ramp():
    rng = np.random.default_rng(11)
    model = sd.make_ramp(SHAPE, value=1000.0, slope=10.0)
    model.data += rng.normal(0.0, 5.0, SHAPE).astype(np.float32)
    hits = rng.integers(0, 512, (2, 300))
    model.data[:, 2:, hits[0], hits[1]] += 400.0  # jumps at the third group
    return model


def _steps(tmp_path, cores):
    steps = _references(tmp_path, SHAPE[-2:])
    steps["jump"]["maximum_cores"] = cores
    steps["ramp_fit"]["maximum_cores"] = cores
    return steps


@pytest.fixture
def on_processes(monkeypatch):
    """jump and ramp_fit as steps whose kernels need worker processes."""
    from builtin_steps.jump.step import JumpStep
    from builtin_steps.ramp_fit.step import RampFitStep

    monkeypatch.setattr(JumpStep, "parallel_threads", False)
    monkeypatch.setattr(RampFitStep, "parallel_threads", False)


def _assert_same_products(serial, parallel):
    for name in ("data", "dq", "var_poisson", "var_rnoise", "err"):
        assert np.array_equal(getattr(serial, name), getattr(parallel, name), equal_nan=True), name
    assert serial.meta.exposure.primary_cosmic_rays == parallel.meta.exposure.primary_cosmic_rays
    assert (serial.dq & 4).any() or np.isfinite(serial.data).all()


def test_two_cores_on_threads_give_the_serial_products_without_shared_memory(
    tmp_path, monkeypatch, ramp_allocators
):
    raw = _noisy_ramp().save(str(tmp_path / "bench_uncal.fits"))
    serial = Detector1Pipeline.call(raw, steps=_steps(tmp_path, "none"))
    shared = []
    original = _sharedmem.shared_empty

    def counting(shape, dtype, **kwargs):
        shared.append(shape)
        return original(shape, dtype, **kwargs)

    monkeypatch.setattr(_sharedmem, "shared_empty", counting)
    parallel = Detector1Pipeline.call(raw, steps=_steps(tmp_path, 2))
    _assert_same_products(serial, parallel)
    assert shared == [] and ramp_allocators == []


def test_two_cores_on_processes_share_the_ramp_and_give_the_serial_products(
    tmp_path, monkeypatch, ramp_allocators, on_processes
):
    raw = _noisy_ramp().save(str(tmp_path / "bench_uncal.fits"))
    serial = Detector1Pipeline.call(raw, steps=_steps(tmp_path, "none"))
    copies = []
    original = _sharedmem.shared_copy

    def counting(array, **kwargs):
        copies.append((array.shape, kwargs.get("what")))
        return original(array, **kwargs)

    monkeypatch.setattr(_sharedmem, "shared_copy", counting)
    parallel = Detector1Pipeline.call(raw, steps=_steps(tmp_path, 2))
    # the ramp was never copied for the workers: it was in shared memory already
    assert not [shape for shape, _ in copies if len(shape) == 4], copies
    _assert_same_products(serial, parallel)
    # the ramp's segments (data and groupdq) are gone after the run
    (ramps,) = ramp_allocators
    assert ramps.created == 2 and ramps.segments == 0


def test_the_ramp_segments_are_removed_when_a_step_fails(tmp_path, monkeypatch, ramp_allocators, on_processes):
    from builtin_steps.jump.step import JumpStep

    seen = {}

    def failing(self, model):
        seen["shared"] = _sharedmem.spec_of(model.data) is not None
        raise RuntimeError("jump failed")

    monkeypatch.setattr(JumpStep, "process", failing)
    _sharedmem.clear_cache()
    before = _own_segments()
    with pytest.raises(RuntimeError, match="jump failed"):
        Detector1Pipeline.call(_noisy_ramp(), steps=_steps(tmp_path, 2))
    assert seen["shared"]
    (ramps,) = ramp_allocators
    assert ramps.created == 2 and ramps.segments == 0
    _sharedmem.clear_cache()
    assert _own_segments() == before


def test_serial_run_frees_the_ramp_and_leaves_the_caller_model_alone(tmp_path):
    model = _noisy_ramp()
    data = model.data.copy()
    rate = Detector1Pipeline.call(model, steps=_steps(tmp_path, "none"))
    assert rate.data.shape == SHAPE[-2:]
    assert np.array_equal(model.data, data)  # the pipeline worked on its own copy
    assert _sharedmem.spec_of(rate.data) is None


def test_with_ramp_fit_skipped_the_ramp_is_returned_whole(tmp_path):
    steps = _steps(tmp_path, "none")
    steps["ramp_fit"] = {"skip": True}
    steps["gain_scale"]["skip"] = True
    result = Detector1Pipeline.call(_noisy_ramp(), steps=steps)
    assert result.data.shape == SHAPE and np.isfinite(result.data).all()
    assert result.data.any()
