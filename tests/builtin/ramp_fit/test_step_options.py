"""RampFitStep options beyond the default fit: LIKELY, save_opt/opt_name, group range."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from builtin_steps.ramp_fit.covariance import read_times
from builtin_steps.ramp_fit.fitopt_model import RampFitOutputModel
from builtin_steps.ramp_fit.likely import fit_likely
from builtin_steps.ramp_fit.ols import fit_ramps
from builtin_steps.ramp_fit.step import RampFitStep
from pipeline_core.datamodels import open_model
from tests.fixtures.ramps import make_ramps, ramp_model, write_gain_readnoise


@pytest.fixture
def exposure(tmp_path):
    ramps = make_ramps(shape=(2, 6, 18, 12), rate=(1.0, 300.0), seed=71)
    ramps.groupdq[0, 3, :, ::3] = 4
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    return ramps, ramp_model(ramps), refs


def _likely(ramps, groupdq=None):
    pattern = read_times(ramps.data.shape[1], 1, 0, ramps.frame_time)
    gdq = ramps.groupdq if groupdq is None else groupdq
    return fit_likely(ramps.data, gdq, ramps.pixeldq, ramps.gain, ramps.readnoise,
                      read_pattern=pattern)


def test_likely_through_the_step(exposure):
    ramps, model, refs = exposure
    rate, rateints = RampFitStep(algorithm="LIKELY", **refs).run(model)
    expected = _likely(ramps)
    np.testing.assert_array_equal(rate.data, expected["rate"])
    np.testing.assert_array_equal(rate.var_poisson, expected["rate_var_poisson"])
    np.testing.assert_array_equal(rateints.dq, expected["ints_dq"])
    assert rate.meta.cal_step.ramp_fit == "COMPLETE" and rate.meta.bunit_data == "DN/s"


def test_likely_uses_the_read_pattern_of_multi_frame_groups(exposure):
    ramps, model, refs = exposure
    model.meta.exposure.nframes = 4
    model.meta.exposure.groupgap = 1
    model.meta.exposure.frame_time = ramps.group_time / 5
    rate, _ = RampFitStep(algorithm="LIKELY", **refs).run(model)
    pattern = read_times(6, 4, 1, ramps.group_time / 5)
    expected = fit_likely(ramps.data, ramps.groupdq, ramps.pixeldq, ramps.gain, ramps.readnoise,
                          read_pattern=pattern)
    np.testing.assert_array_equal(rate.data, expected["rate"])


def test_likely_with_fewer_than_four_groups_uses_ols(tmp_path, caplog):
    ramps = make_ramps(shape=(1, 3, 8, 8), rate=(1.0, 100.0), seed=72)
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    with caplog.at_level(logging.INFO):
        rate, _ = RampFitStep(algorithm="LIKELY", **refs).run(ramp_model(ramps))
    expected = fit_ramps(ramps.data, ramps.groupdq, ramps.pixeldq, ramps.gain, ramps.readnoise,
                         group_time=ramps.group_time, frame_time=ramps.frame_time)
    np.testing.assert_array_equal(rate.data, expected["rate"])
    assert "needs at least 4 groups" in caplog.text


def test_likely_parallel_equals_serial(exposure):
    _, model, refs = exposure
    serial = RampFitStep(algorithm="LIKELY", **refs).run(model)
    parallel = RampFitStep(algorithm="LIKELY", maximum_cores="2", **refs).run(model)
    for a, b in zip(serial, parallel):
        for name in ("data", "dq", "err", "var_poisson", "var_rnoise"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_likely_first_and_last_group(exposure):
    ramps, model, refs = exposure
    rate, _ = RampFitStep(algorithm="LIKELY", firstgroup=1, **refs).run(model)
    gdq = ramps.groupdq.copy()
    gdq[:, 0] |= 1
    np.testing.assert_array_equal(rate.data, _likely(ramps, gdq)["rate"])


def test_save_opt_writes_fitopt_with_opt_name(exposure, tmp_path):
    ramps, model, refs = exposure
    out_dir = tmp_path / "out"
    rate, rateints = RampFitStep(save_opt=True, opt_name="myfit.fits", output_dir=str(out_dir),
                                 **refs).run(model)
    path = out_dir / "myfit_fitopt.fits"
    assert path.exists()
    opt = open_model(str(path))
    assert isinstance(opt, RampFitOutputModel)
    assert opt.slope.shape[0] == 2 and opt.slope.shape[2:] == (18, 12)
    assert opt.pedestal.shape == (2, 18, 12)
    assert opt.meta.instrument.detector == "NRCA3"
    # segments recombine into the integration rates of the same run
    var_r = opt.var_rnoise.astype(np.float64)
    weight = np.where(var_r > 0, 1.0 / np.where(var_r > 0, var_r, 1.0), 0.0)
    ints = (weight * opt.slope).sum(axis=1) / weight.sum(axis=1)
    np.testing.assert_allclose(ints, rateints.data, rtol=1e-6)


def test_save_opt_follows_save_results(exposure, tmp_path):
    _, model, refs = exposure
    RampFitStep(save_opt=True, output_dir=str(tmp_path), **refs).run(model)
    assert not [f for f in os.listdir(tmp_path) if "fitopt" in f]  # results not saved
    RampFitStep(save_opt=True, save_results=True, output_dir=str(tmp_path), **refs).run(model)
    assert (tmp_path / "jw01234001001_01101_00001_nrca3_fitopt.fits").exists()


def test_save_opt_with_likely_writes_nothing(exposure, tmp_path, caplog):
    _, model, refs = exposure
    with caplog.at_level(logging.INFO):
        RampFitStep(algorithm="LIKELY", save_opt=True, opt_name="x.fits",
                    output_dir=str(tmp_path), **refs).run(model)
    assert not (tmp_path / "x_fitopt.fits").exists()
    assert "no optional product" in caplog.text


_VARIANT = """\
#ASDF 1.0.0
#ASDF_STANDARD 1.6.0
%YAML 1.1
%TAG ! tag:stsci.edu:asdf/
--- !core/asdf-1.1.0
class: jwst.ramp_fitting.ramp_fit_step.RampFitStep
name: RampFitStep
parameters:
  algorithm: LIKELY
  firstgroup: 1
  input_dir: ''
  int_name: ''
  lastgroup: null
  maximum_cores: '1'
  opt_name: ''
  output_dir: null
  output_ext: .fits
  output_file: null
  output_use_index: true
  output_use_model: false
  post_hooks: []
  pre_hooks: []
  save_opt: true
  save_results: false
  search_output_file: true
  skip: false
  suffix: null
  suppress_one_group: true
...
"""


def test_jwst_parameter_file_with_likely(exposure, tmp_path):
    ramps, model, refs = exposure
    path = tmp_path / "ramp_fit_variant.asdf"
    path.write_text(_VARIANT)
    step = RampFitStep.from_config_file(str(path), **refs)
    assert step.algorithm == "LIKELY" and step.firstgroup == 1 and step.save_opt is True
    rate, _ = step.run(model)
    gdq = ramps.groupdq.copy()
    gdq[:, 0] |= 1
    np.testing.assert_array_equal(rate.data, _likely(ramps, gdq)["rate"])
