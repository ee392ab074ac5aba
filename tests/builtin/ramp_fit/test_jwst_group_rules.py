"""Group rules of JWST's OLS fit: PERSISTENCE groups fitted, MIRI groups left out, CHARGELOSS read noise."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from builtin_steps.ramp_fit.step import RampFitStep
from builtin_steps.ramp_fit.step_support import discard_miri_groups
from tests.fixtures.ramps import make_ramps, ramp_model, write_gain_readnoise

DO_NOT_USE, SATURATED, JUMP_DET, PERSISTENCE, CHARGELOSS = 1, 2, 4, 32, 128


@pytest.fixture
def exposure(tmp_path):
    ramps = make_ramps(shape=(2, 8, 12, 10), rate=(5.0, 200.0), seed=83)
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    return ramps, refs


def test_persistence_groups_are_fitted_and_flag_the_rate(exposure):
    ramps, refs = exposure
    clean_rate, clean_ints = RampFitStep(**refs).run(ramp_model(ramps))
    ramps.groupdq[1, 5:, 3, 4] |= PERSISTENCE  # integration 2 only
    rate, ints = RampFitStep(**refs).run(ramp_model(ramps))
    np.testing.assert_array_equal(rate.data, clean_rate.data)
    np.testing.assert_array_equal(ints.err, clean_ints.err)
    assert rate.dq[3, 4] & PERSISTENCE and ints.dq[1, 3, 4] & PERSISTENCE
    assert not ints.dq[0, 3, 4] & PERSISTENCE
    assert np.count_nonzero(rate.dq & PERSISTENCE) == 1


def test_miri_leaves_out_groups_flagged_everywhere(exposure):
    ramps, refs = exposure
    ramps.groupdq[:, 0] |= DO_NOT_USE  # firstframe
    ramps.groupdq[:, -1] |= DO_NOT_USE  # lastframe
    ramps.groupdq[0, -1, 2, 2] |= SATURATED | PERSISTENCE  # only in the dropped last group
    ramps.groupdq[0, 1, 6, 6] |= JUMP_DET  # first kept group: cleared
    model = ramp_model(ramps)
    model.meta.instrument.name, model.meta.instrument.detector = "MIRI", "MIRIMAGE"
    rate, ints = RampFitStep(**refs).run(model)
    assert rate.dq[2, 2] == 0 and ints.dq[0, 2, 2] == 0
    assert not rate.dq[6, 6] & JUMP_DET
    near_infrared, _ = RampFitStep(**refs).run(ramp_model(ramps))  # NIRCam: every group counts
    assert near_infrared.dq[2, 2] & SATURATED and near_infrared.dq[2, 2] & PERSISTENCE
    assert near_infrared.dq[6, 6] & JUMP_DET
    np.testing.assert_allclose(rate.data[3:5], near_infrared.data[3:5], rtol=1e-6)


def test_discard_keeps_two_groups_or_nothing(caplog):
    data = np.zeros((1, 3, 2, 2), np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[:, :2] = DO_NOT_USE
    log = logging.getLogger("test.discard")
    with caplog.at_level(logging.WARNING):
        kept_data, kept_gdq = discard_miri_groups(data, gdq, log=log)
    assert kept_data is data and kept_gdq is gdq
    assert "keep 1 group" in caplog.text
    gdq[:] = 0
    gdq[:, 0] = DO_NOT_USE
    kept_data, kept_gdq = discard_miri_groups(data, gdq, log=log)
    assert kept_data.shape[1] == 2 and not kept_gdq.any()


def test_chargeloss_ramps_get_the_read_noise_of_the_whole_ramp(exposure):
    ramps, refs = exposure
    whole_rate, whole_ints = RampFitStep(**refs).run(ramp_model(ramps))
    cut = ramps.groupdq.copy()
    cut[0, 5:, 4, 4] |= DO_NOT_USE
    ramps.groupdq[0, 5:, 4, 4] |= CHARGELOSS | DO_NOT_USE
    flagged_rate, flagged_ints = RampFitStep(**refs).run(ramp_model(ramps))
    ramps.groupdq[:] = cut
    cut_rate, cut_ints = RampFitStep(**refs).run(ramp_model(ramps))
    # the slope and ERR leave the groups out; VAR_RNOISE counts them (integration 1 only)
    assert flagged_rate.data[4, 4] == cut_rate.data[4, 4] and flagged_rate.err[4, 4] == cut_rate.err[4, 4]
    assert flagged_ints.var_rnoise[0, 4, 4] == pytest.approx(whole_ints.var_rnoise[0, 4, 4], rel=1e-6)
    assert flagged_ints.var_rnoise[0, 4, 4] < cut_ints.var_rnoise[0, 4, 4]
    assert flagged_ints.var_rnoise[1, 4, 4] == cut_ints.var_rnoise[1, 4, 4]
    expected = 1.0 / (1.0 / whole_ints.var_rnoise[0, 4, 4] + 1.0 / cut_ints.var_rnoise[1, 4, 4])
    assert flagged_rate.var_rnoise[4, 4] == pytest.approx(expected, rel=1e-6)
    np.testing.assert_array_equal(np.delete(flagged_rate.var_rnoise.ravel(), 4 * 10 + 4),
                                  np.delete(cut_rate.var_rnoise.ravel(), 4 * 10 + 4))
