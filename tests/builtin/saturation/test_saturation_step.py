"""Tests of SaturationStep."""

import numpy as np

from builtin_steps.saturation.step import SaturationStep
from tests.builtin import _stepdata as sd


def test_flags_groups_from_reference_and_propagates_ref_dq(tmp_path):
    ramp = sd.make_ramp(value=1000.0, slope=100.0)  # groups 1000, 1100, 1200, 1300
    thr = np.full((8, 8), 5000.0, np.float32)
    thr[4, 4] = 1150.0
    thr[0, 0] = np.nan
    out = SaturationStep.call(ramp, override_saturation=sd.saturation(tmp_path, thr))
    sat = (out.groupdq[0] & 2) != 0
    assert sat[:, 4, 4].tolist() == [False, False, True, True]
    assert sat[2, 3:6, 3:6].all() and sat[2].sum() == 9  # grown by n_pix_grow_sat=1
    assert out.pixeldq[0, 0] == 1 << 21  # NaN threshold -> NO_SAT_CHECK
    assert out.meta.cal_step.saturation == "COMPLETE"


def test_no_growth_when_n_pix_grow_sat_is_zero(tmp_path):
    thr = np.full((8, 8), 5000.0, np.float32)
    thr[4, 4] = 1150.0
    out = SaturationStep.call(sd.make_ramp(slope=100.0), override_saturation=sd.saturation(tmp_path, thr), n_pix_grow_sat=0)
    assert ((out.groupdq[0, 2] & 2) != 0).sum() == 1


def test_parameters_are_the_jwst_ones():
    pars = SaturationStep().get_pars()
    assert pars["n_pix_grow_sat"] == 1 and pars["use_readpatt"] is True
