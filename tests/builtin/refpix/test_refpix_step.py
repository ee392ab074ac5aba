"""Tests of RefPixStep."""

import numpy as np

from builtin_steps.refpix.step import RefPixStep
from tests.builtin import _stepdata as sd


def test_subarray_with_reference_columns_is_corrected():
    ramp = sd.make_ramp(value=0.0, slope=0.0, window=(1, 101))
    ramp.data[...] += np.array([3.0, 4.0, 5.0, 6.0], np.float32)[None, :, None, None]
    ramp.pixeldq[:, :4] = 1 << 31
    out = RefPixStep.call(ramp)
    assert np.abs(out.data).max() < 1e-5
    assert out.meta.cal_step.refpix == "COMPLETE"


def test_subarray_without_reference_pixels_is_skipped():
    out = RefPixStep.call(sd.make_ramp())
    assert out.meta.cal_step.refpix == "SKIPPED"


def test_miri_is_skipped():
    ramp = sd.make_ramp()
    ramp.meta.instrument.name = "MIRI"
    assert RefPixStep.call(ramp).meta.cal_step.refpix == "SKIPPED"


def test_parameters_are_the_jwst_ones():
    pars = RefPixStep().get_pars()
    assert pars["odd_even_columns"] is True and pars["use_side_ref_pixels"] is True
    assert pars["side_smoothing_length"] == 11 and pars["side_gain"] == 1.0 and pars["odd_even_rows"] is True


def test_irs2_readout_is_skipped():
    ramp = sd.make_ramp()
    ramp.meta.exposure.readpatt = "NRSIRS2RAPID"
    assert RefPixStep.call(ramp).meta.cal_step.refpix == "SKIPPED"
