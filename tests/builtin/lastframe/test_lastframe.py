"""Tests of LastFrameStep: last group of MIRI ramps flagged DO_NOT_USE when ngroups > 2."""

import logging

import numpy as np
import pytest

from builtin_steps.lastframe import LastFrameStep
from pipeline_core.datamodels import RampModel

DNU = 1


def miri_ramp(ngroups, nints=2, detector="MIRIFULONG"):
    model = RampModel(data=np.full((nints, ngroups, 3, 4), 500.0, np.float32))
    model.meta.instrument.name = "MIRI" if detector.startswith("MIR") else "NIRSPEC"
    model.meta.instrument.detector = detector
    model.groupdq[:, -1, 0, 0] = 2  # saturated: DO_NOT_USE is added to it
    return model


@pytest.mark.parametrize("ngroups", [1, 2, 3, 4, 5])
def test_last_group_flagged_only_above_two_groups(ngroups):
    ramp = miri_ramp(ngroups)
    out = LastFrameStep.call(ramp)
    expected = ramp.groupdq.copy()
    if ngroups > 2:
        expected[:, -1] |= DNU
        assert out.meta.cal_step.lastframe == "COMPLETE"
        assert out.groupdq[1, -1, 0, 0] == 3
    else:
        assert out.meta.cal_step.lastframe == "SKIPPED"
    np.testing.assert_array_equal(out.groupdq, expected)
    np.testing.assert_array_equal(out.data, ramp.data)


def test_non_miri_is_skipped_unchanged(caplog):
    ramp = miri_ramp(5, detector="NRS1")
    with caplog.at_level(logging.WARNING):
        out = LastFrameStep.call(ramp)
    assert out.meta.cal_step.lastframe == "SKIPPED"
    np.testing.assert_array_equal(out.groupdq, ramp.groupdq)
    assert "only for MIRI data" in caplog.text
