"""Tests of RampFitStep: parameters, products, group selection, parallel path."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.ramp_fit.ols import fit_ramps
from builtin_steps.ramp_fit.step import RampFitStep
from pipeline_core.datamodels import CubeModel, ImageModel
from pipeline_core.errors import ParameterError
from tests.fixtures.ramps import make_ramps, ramp_model, write_gain_readnoise


@pytest.fixture
def exposure(tmp_path):
    ramps = make_ramps(shape=(2, 7, 24, 16), rate=(1.0, 300.0), seed=61)
    ramps.groupdq[0, 4, ::3] = 4
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    return ramps, ramp_model(ramps), refs


def test_identity_and_defaults():
    step = RampFitStep()
    assert RampFitStep.class_alias == "ramp_fit"
    assert RampFitStep.legacy_class_paths == ("jwst.ramp_fitting.ramp_fit_step.RampFitStep",)
    assert set(RampFitStep.reference_file_types) == {"gain", "readnoise"}
    assert RampFitStep.parallel and step.maximum_cores == "none"
    assert step.algorithm == "OLS_C" and step.weighting == "optimal"
    assert step.suppress_one_group is True
    assert step.firstgroup is None and step.lastgroup is None
    assert step.save_opt is False


def test_algorithm_options_are_those_of_jwst(exposure):
    _, model, refs = exposure
    assert RampFitStep.param_specs()["algorithm"].options == ("OLS_C", "LIKELY")
    with pytest.raises(ParameterError, match="'OLS'.*accepted: one of 'OLS_C', 'LIKELY'"):
        RampFitStep(algorithm="OLS", **refs).run(model)


def test_products(exposure):
    ramps, model, refs = exposure
    rate, rateints = RampFitStep(**refs).run(model)
    assert isinstance(rate, ImageModel) and isinstance(rateints, CubeModel)
    assert rate.data.shape == (24, 16) and rateints.data.shape == (2, 24, 16)
    expected = fit_ramps(ramps.data, ramps.groupdq, ramps.pixeldq, ramps.gain, ramps.readnoise,
                         group_time=ramps.group_time, frame_time=ramps.frame_time)
    np.testing.assert_array_equal(rate.data, expected["rate"])
    np.testing.assert_array_equal(rate.err, expected["rate_err"])
    np.testing.assert_array_equal(rateints.var_rnoise, expected["ints_var_rnoise"])
    np.testing.assert_array_equal(rateints.dq, expected["ints_dq"])
    for product in (rate, rateints):
        assert product.meta.cal_step.ramp_fit == "COMPLETE"
        assert product.meta.bunit_data == "DN/s"
        assert product.meta.exposure.group_time == ramps.group_time
        assert product.meta.instrument.detector == "NRCA3"


def test_first_and_last_group(exposure):
    ramps, model, refs = exposure
    rate, _ = RampFitStep(firstgroup=1, lastgroup=5, **refs).run(model)
    part = fit_ramps(ramps.data[:, 1:6], ramps.groupdq[:, 1:6], ramps.pixeldq, ramps.gain,
                     ramps.readnoise, group_time=ramps.group_time, frame_time=ramps.frame_time)
    np.testing.assert_allclose(rate.data, part["rate"], rtol=1e-5)
    assert not np.any(model.groupdq & 1)  # the input's flags are untouched


def test_missing_group_time_is_an_error(exposure):
    _, model, refs = exposure
    model.meta.exposure.group_time = None
    with pytest.raises(ParameterError, match="group time"):
        RampFitStep(**refs).run(model)


def test_parallel_step_equals_serial(exposure):
    _, model, refs = exposure
    serial = RampFitStep(**refs).run(model)
    parallel = RampFitStep(maximum_cores="2", **refs).run(model)
    for a, b in zip(serial, parallel):
        for name in ("data", "dq", "err", "var_poisson", "var_rnoise"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


_PRODUCT_ARRAYS = ("data", "dq", "err", "var_poisson", "var_rnoise")


def test_fit_in_bands_of_rows_equals_the_whole_fit(exposure, monkeypatch):
    import builtin_steps.ramp_fit.step as step_module

    ramps, model, refs = exposure
    monkeypatch.setattr(step_module, "_BAND_PIXELS", 5 * 16)  # bands of 5 rows, the last one of 4
    rate, rateints = RampFitStep(**refs).run(model)
    whole = fit_ramps(ramps.data, ramps.groupdq, ramps.pixeldq, ramps.gain, ramps.readnoise,
                      group_time=ramps.group_time, frame_time=ramps.frame_time)
    for product, prefix in ((rate, "rate"), (rateints, "ints")):
        for name, key in zip(_PRODUCT_ARRAYS, ("", "_dq", "_err", "_var_poisson", "_var_rnoise")):
            np.testing.assert_array_equal(getattr(product, name), whole[prefix + key])


def test_subarray_uses_the_matching_part_of_full_frame_references(tmp_path):
    ramps = make_ramps(shape=(1, 5, 6, 8), rate=(1.0, 50.0), seed=7)
    gain = np.full((30, 40), 9.0, np.float32)
    readnoise = np.full((30, 40), 99.0, np.float32)
    gain[10:16, 20:28] = ramps.gain
    readnoise[10:16, 20:28] = ramps.readnoise
    refs = write_gain_readnoise(tmp_path, gain, readnoise)
    rate, _ = RampFitStep(**refs).run(ramp_model(ramps, xstart=21, ystart=11))
    expected = fit_ramps(ramps.data, ramps.groupdq, ramps.pixeldq, ramps.gain, ramps.readnoise,
                         group_time=ramps.group_time, frame_time=ramps.frame_time)
    np.testing.assert_array_equal(rate.data, expected["rate"])
    np.testing.assert_array_equal(rate.var_rnoise, expected["rate_var_rnoise"])


def test_average_dark_current_adds_to_the_poisson_variance(exposure):
    ramps, model, refs = exposure
    plain, plain_ints = RampFitStep(**refs).run(model)
    model.meta.exposure.average_dark_current = 0.5
    dark, dark_ints = RampFitStep(**refs).run(model)
    expected = fit_ramps(ramps.data, ramps.groupdq, ramps.pixeldq, ramps.gain, ramps.readnoise,
                         group_time=ramps.group_time, frame_time=ramps.frame_time,
                         dark_current=np.full(ramps.gain.shape, 0.5, np.float32))
    np.testing.assert_array_equal(dark.var_poisson, expected["rate_var_poisson"])
    np.testing.assert_array_equal(dark.data, plain.data)  # the weights of the mean do not change
    np.testing.assert_array_equal(dark.var_rnoise, plain.var_rnoise)
    # a clean ramp of n groups: var_p = (median rate + dark) / (t_group * gain * (n - 1))
    n = ramps.data.shape[1]
    clean = ~np.any(ramps.groupdq[1] != 0, axis=0)
    extra = 0.5 / (ramps.group_time * ramps.gain * (n - 1))
    np.testing.assert_allclose(dark_ints.var_poisson[1][clean], (plain_ints.var_poisson[1] + extra)[clean],
                               rtol=1e-5)
    assert np.all(dark.var_poisson >= plain.var_poisson)
