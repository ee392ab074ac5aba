"""Tests of SuperBiasStep."""

import numpy as np

from builtin_steps.superbias.step import SuperBiasStep
from tests.builtin import _stepdata as sd


def test_bias_subtracted_and_dq_ored(tmp_path):
    bias = np.full((8, 8), 900.0, np.float32)
    dq = np.zeros((8, 8), np.uint32)
    dq[1, 1] = 1 << 22
    out = SuperBiasStep.call(sd.make_ramp(), override_superbias=sd.superbias(tmp_path, bias, dq))
    np.testing.assert_allclose(out.data[0, :, 2, 2], [100, 110, 120, 130])
    assert out.pixeldq[1, 1] == 1 << 22
    assert out.meta.cal_step.superbias == "COMPLETE"


def test_subarray_reference_with_its_own_window(tmp_path):
    bias = np.arange(16 * 16, dtype=np.float32).reshape(16, 16)
    path = sd.superbias(tmp_path, bias, window=(97, 197))
    out = SuperBiasStep.call(sd.make_ramp(value=0.0, slope=0.0), override_superbias=path)
    np.testing.assert_allclose(out.data[0, 0], -bias[4:12, 4:12])
