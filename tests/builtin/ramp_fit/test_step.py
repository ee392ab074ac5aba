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


@pytest.mark.parametrize(("params", "text"), [({"algorithm": "LIKELY"}, "algorithm='LIKELY'"),
                                               ({"save_opt": True}, "save_opt=True")])
def test_unprovided_options_are_refused(exposure, params, text):
    _, model, refs = exposure
    with pytest.raises(ParameterError, match=text):
        RampFitStep(**params, **refs).run(model)


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


def test_algorithm_ols_is_the_same_fit(exposure):
    _, model, refs = exposure
    a, _ = RampFitStep(**refs).run(model)
    b, _ = RampFitStep(algorithm="OLS", **refs).run(model)
    np.testing.assert_array_equal(a.data, b.data)


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
