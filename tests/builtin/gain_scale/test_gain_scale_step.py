"""Tests of GainScaleStep."""

import numpy as np

from builtin_steps.gain_scale.step import GainScaleStep
from pipeline_core.datamodels import ImageModel
from tests.builtin import _stepdata as sd


def _rate():
    rate = ImageModel((8, 8))
    rate.data[...] = 2.0
    rate.err[...] = 1.0
    rate.meta.instrument.name, rate.meta.instrument.detector = "NIRCAM", "NRCA1"
    rate.meta.observation.date, rate.meta.observation.time = "2024-01-01", "00:00:00"
    sub = rate.meta.subarray
    sub.name, sub.xstart, sub.ystart, sub.xsize, sub.ysize = "SUBTEST", 101, 201, 8, 8
    return rate


def test_gain_factor_applied(tmp_path):
    out = GainScaleStep.call(_rate(), override_gain=sd.gain(tmp_path, np.ones((8, 8)), factor=2.0))
    assert np.allclose(out.data, 4.0) and np.allclose(out.err, 2.0)
    assert out.meta.cal_step.gain_scale == "COMPLETE" and out.meta.exposure.gain_factor == 2.0


def test_no_gain_factor_skips(tmp_path):
    out = GainScaleStep.call(_rate(), override_gain=sd.gain(tmp_path, np.ones((8, 8))))
    assert out.meta.cal_step.gain_scale == "SKIPPED" and np.allclose(out.data, 2.0)
