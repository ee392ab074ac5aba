"""Tests of JumpStep: parameters, references, flags and the parallel path."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.jump.step import JumpStep
from pipeline_core.errors import ParameterError
from tests.fixtures.ramps import make_ramps, ramp_model, write_gain_readnoise

JUMP = 4
NO_GAIN_DNU = (1 << 19) | 1


@pytest.fixture
def exposure(tmp_path):
    ramps = make_ramps(shape=(1, 8, 32, 24), rate=(1.0, 200.0), jump_fraction=0.005, seed=51)
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    return ramps, ramp_model(ramps), refs


def test_identity_and_defaults():
    step = JumpStep()
    assert JumpStep.class_alias == "jump"
    assert JumpStep.legacy_class_paths == ("jwst.jump.jump_step.JumpStep",)
    assert set(JumpStep.reference_file_types) == {"gain", "readnoise"}
    assert JumpStep.parallel
    assert step.maximum_cores == "none"
    assert (step.rejection_threshold, step.three_group_rejection_threshold) == (4.0, 6.0)
    assert step.four_group_rejection_threshold == 5.0
    assert step.flag_4_neighbors is True
    assert (step.min_jump_to_flag_neighbors, step.max_jump_to_flag_neighbors) == (10.0, 1000.0)
    assert step.after_jump_flag_dn1 == 0.0 and step.after_jump_flag_time2 == 0.0
    assert step.min_sat_area == 1.0 and step.expand_large_events is False
    assert step.minimum_sigclip_groups == 100 and step.min_diffs_single_pass == 10


#: The JWST 3.0 jump parameters (besides maximum_cores) and their defaults.
JWST_DEFAULTS = {
    "rejection_threshold": 4.0,
    "three_group_rejection_threshold": 6.0,
    "four_group_rejection_threshold": 5.0,
    "flag_4_neighbors": True,
    "max_jump_to_flag_neighbors": 1000.0,
    "min_jump_to_flag_neighbors": 10.0,
    "after_jump_flag_dn1": 0.0,
    "after_jump_flag_time1": 0.0,
    "after_jump_flag_dn2": 0.0,
    "after_jump_flag_time2": 0.0,
    "expand_large_events": False,
    "min_sat_area": 1.0,
    "min_jump_area": 5.0,
    "expand_factor": 2.0,
    "use_ellipses": False,
    "sat_required_snowball": True,
    "min_sat_radius_extend": 2.5,
    "sat_expand": 2,
    "edge_size": 25,
    "mask_snowball_core_next_int": True,
    "snowball_time_masked_next_int": 4000,
    "find_showers": False,
    "max_shower_amplitude": 4.0,
    "extend_snr_threshold": 1.2,
    "extend_min_area": 90,
    "extend_inner_radius": 1.0,
    "extend_outer_radius": 2.6,
    "extend_ellipse_expand_ratio": 1.1,
    "time_masked_after_shower": 15.0,
    "min_diffs_single_pass": 10,
    "max_extended_radius": 200,
    "minimum_groups": 3,
    "minimum_sigclip_groups": 100,
    "only_use_ints": True,
}


def test_every_jwst_parameter_with_its_default():
    step = JumpStep()
    for name, default in JWST_DEFAULTS.items():
        value = getattr(step, name)
        assert value == default and type(value) is type(default), name


def test_parameter_types_are_checked():
    with pytest.raises(ParameterError, match="sat_expand"):
        JumpStep(sat_expand="wide")


def test_flags_jumps(exposure):
    ramps, model, refs = exposure
    result = JumpStep(**refs).run(model)
    found = (result.groupdq & JUMP) != 0
    large = ramps.jumps & (ramps.jump_sigma >= 10)
    assert large.any() and np.all(found[large])
    assert result.meta.cal_step.jump == "COMPLETE"
    assert not np.any(model.groupdq & JUMP)  # the caller's model is untouched
    assert result.meta.exposure.primary_cosmic_rays > 0


def test_neighbours_can_be_switched_off(exposure):
    _, model, refs = exposure
    with_neighbours = JumpStep(**refs).run(model)
    without = JumpStep(flag_4_neighbors=False, **refs).run(model)
    assert np.count_nonzero(with_neighbours.groupdq & JUMP) > np.count_nonzero(without.groupdq & JUMP)


def test_after_jump_time_flags_following_groups(exposure):
    ramps, model, refs = exposure
    seconds = 2.5 * ramps.group_time  # two groups
    base = JumpStep(flag_4_neighbors=False, **refs).run(model)
    more = JumpStep(flag_4_neighbors=False, after_jump_flag_dn1=0.0, after_jump_flag_time1=seconds, **refs).run(model)
    assert np.count_nonzero(more.groupdq & JUMP) > np.count_nonzero(base.groupdq & JUMP)


def test_subarray_uses_the_matching_reference_window(tmp_path):
    ramps = make_ramps(shape=(1, 6, 16, 12), rate=20.0, seed=52)
    gain = np.full((40, 40), np.nan, dtype=np.float32)  # unusable outside the window
    gain[4:20, 8:20] = 2.0
    refs = write_gain_readnoise(tmp_path, gain, np.full((40, 40), 10.0, np.float32))
    model = ramp_model(ramps, xstart=9, ystart=5)
    result = JumpStep(**refs).run(model)
    assert not np.any(result.pixeldq)
    model.meta.subarray.xstart = 1  # wrong window: NaN gains flag the pixels
    result = JumpStep(**refs).run(model)
    assert np.all(result.pixeldq[:, :8] == NO_GAIN_DNU)


def test_too_few_groups_skips(tmp_path):
    ramps = make_ramps(shape=(1, 2, 8, 8), rate=20.0, seed=53)
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    result = JumpStep(**refs).run(ramp_model(ramps))
    assert result.meta.cal_step.jump == "SKIPPED"


def test_parallel_step_equals_serial(exposure):
    _, model, refs = exposure
    serial = JumpStep(**refs).run(model)
    parallel = JumpStep(maximum_cores="2", **refs).run(model)
    np.testing.assert_array_equal(serial.groupdq, parallel.groupdq)
    np.testing.assert_array_equal(serial.pixeldq, parallel.pixeldq)
