"""Tests of FirstFrameStep: group 1 of MIRI ramps flagged DO_NOT_USE when ngroups > 3."""

import logging

import numpy as np
import pytest

from builtin_steps.firstframe import FirstFrameStep
from builtin_steps.firstframe.flag import flag_first_group
from pipeline_core.datamodels import RampModel

DNU, SAT, FLUX_ESTIMATED = 1, 2, 1 << 28


def miri_ramp(ngroups, nints=2, detector="MIRIMAGE"):
    rng = np.random.default_rng(ngroups)
    model = RampModel(data=rng.normal(1000.0, 5.0, (nints, ngroups, 4, 5)).astype(np.float32))
    model.meta.instrument.name = "MIRI" if detector.startswith("MIR") else "NIRCAM"
    model.meta.instrument.detector = detector
    model.meta.exposure.readpatt = "FASTR1"
    model.meta.exposure.nints, model.meta.exposure.ngroups = nints, ngroups
    model.groupdq[0, :, 0, 0] = 4  # an existing flag is kept
    return model


@pytest.mark.parametrize("ngroups", [1, 2, 3, 4, 5])
def test_first_group_flagged_only_above_three_groups(ngroups):
    ramp = miri_ramp(ngroups)
    out = FirstFrameStep.call(ramp, skip=False)
    expected = ramp.groupdq.copy()
    if ngroups > 3:
        expected[:, 0] |= DNU
        assert out.meta.cal_step.firstframe == "COMPLETE"
    else:
        assert out.meta.cal_step.firstframe == "SKIPPED"
    np.testing.assert_array_equal(out.groupdq, expected)
    np.testing.assert_array_equal(out.data, ramp.data)
    assert out.groupdq[0, 0, 0, 0] == (5 if ngroups > 3 else 4)


def test_bright_pixels_keep_group1():
    ramp = miri_ramp(5)
    ramp.groupdq[1, 2:, 1, 1] = SAT  # saturates in group 3 of integration 2 only
    ramp.groupdq[:, 2:, 2, 2] = SAT
    ramp.pixeldq[2, 2] = DNU  # a bad pixel: kept, but not counted as usable
    out = FirstFrameStep.call(ramp, skip=False)
    assert out.groupdq[1, 0, 1, 1] == 0 and out.groupdq[0, 0, 1, 1] == DNU
    assert (out.groupdq[:, 0, 2, 2] == 0).all()
    assert out.pixeldq[1, 1] == FLUX_ESTIMATED and out.pixeldq[2, 2] == FLUX_ESTIMATED | DNU
    assert out.pixeldq[3, 3] == 0 and (out.groupdq[:, 0, 3, 3] == DNU).all()
    off = FirstFrameStep.call(ramp, skip=False, bright_use_group1=False)
    assert (off.groupdq[:, 0] & DNU).all() and off.pixeldq[1, 1] == 0


def test_kernel_counts_usable_kept_pixels():
    gdq = np.zeros((1, 4, 2, 2), np.uint8)
    gdq[0, 2:, :, 0] = SAT
    pdq = np.array([[0, 0], [DNU, 0]], np.uint32)
    assert flag_first_group(gdq, pdq, bright_use_group1=True, do_not_use=DNU, saturated=SAT,
                            flux_estimated=FLUX_ESTIMATED) == 1


def test_nircam_is_skipped_unchanged(caplog):
    ramp = miri_ramp(5, detector="NRCA1")
    with caplog.at_level(logging.WARNING):
        out = FirstFrameStep.call(ramp, skip=False)
    assert out.meta.cal_step.firstframe == "SKIPPED"
    np.testing.assert_array_equal(out.groupdq, ramp.groupdq)
    assert "only for MIRI data" in caplog.text


def test_spec_matches_jwst_and_is_skipped_by_default():
    step = FirstFrameStep()
    assert step.skip is True and step.bright_use_group1 is True
    out = FirstFrameStep.call(miri_ramp(5), skip=True)
    assert out.meta.cal_step.firstframe == "SKIPPED" and not (out.groupdq[:, 0] & DNU).any()
