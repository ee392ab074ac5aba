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


def test_miri_subarray_is_skipped():
    ramp = sd.make_ramp()
    ramp.meta.instrument.name = "MIRI"
    assert RefPixStep.call(ramp).meta.cal_step.refpix == "SKIPPED"


def test_parameters_are_the_jwst_ones():
    pars = RefPixStep().get_pars()
    assert pars["odd_even_columns"] is True and pars["use_side_ref_pixels"] is True
    assert pars["side_smoothing_length"] == 11 and pars["side_gain"] == 1.0 and pars["odd_even_rows"] is True


def test_irs2_is_recognised_by_shape_not_by_readout_pattern():
    # an 8x8 subarray with an IRS2 READPATT is an ordinary subarray (no reference pixels here)
    ramp = sd.make_ramp()
    ramp.meta.exposure.readpatt = "NRSIRS2RAPID"
    assert RefPixStep.call(ramp).meta.cal_step.refpix == "SKIPPED"


def test_all_jwst_parameters_are_in_the_spec():
    pars = RefPixStep().get_pars()
    assert pars["ovr_corr_mitigation_ftr"] == 3.0 and pars["preserve_irs2_refpix"] is False
    assert pars["irs2_mean_subtraction"] is False and pars["refpix_algorithm"] == "median"
    assert pars["sigreject"] == 4.0 and pars["gaussmooth"] == 1.0 and pars["halfwidth"] == 30
    assert pars["siglimit"] == 3.0
    assert "override_refpix" in pars and "override_sirskernel" in pars
    assert not getattr(RefPixStep, "omitted_parameters", {})


def test_siglimit_changes_the_clipping_of_reference_means():
    ramp = sd.make_ramp(value=0.0, slope=0.0, window=(1, 101))
    ramp.pixeldq[:, :4] = 1 << 31
    rng = np.random.default_rng(0)
    ramp.data[..., :4] = rng.normal(0, 1, ramp.data[..., :4].shape).astype(np.float32)
    ramp.data[..., 0, 0] = 4.0  # an outlier clipped at 1 sigma, kept at 10 sigma
    tight = RefPixStep.call(ramp.copy(), siglimit=1.0, odd_even_columns=False)
    loose = RefPixStep.call(ramp.copy(), siglimit=10.0, odd_even_columns=False)
    assert not np.allclose(tight.data, loose.data)


def test_unknown_refpix_algorithm_is_refused():
    import pytest

    from pipeline_core.errors import ParameterError

    with pytest.raises(ParameterError, match="refpix_algorithm"):
        RefPixStep.call(sd.make_ramp(), refpix_algorithm="fourier")
