"""Tests of GroupScaleStep."""

import numpy as np

from builtin_steps.group_scale.step import GroupScaleStep
from tests.builtin import _stepdata as sd


def test_equal_divisor_skips():
    assert GroupScaleStep.call(sd.make_ramp()).meta.cal_step.group_scale == "SKIPPED"


def test_divisor_differing_from_nframes_rescales():
    ramp = sd.make_ramp(slope=0.0)
    ramp.meta.exposure.nframes, ramp.meta.exposure.frame_divisor = 5, 4
    out = GroupScaleStep.call(ramp)
    np.testing.assert_allclose(out.data, 800.0)
    assert out.meta.cal_step.group_scale == "COMPLETE"
