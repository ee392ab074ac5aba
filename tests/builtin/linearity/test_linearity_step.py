"""Tests of LinearityStep."""

import numpy as np

from builtin_steps.linearity.step import LinearityStep
from tests.builtin import _stepdata as sd


def test_correction_skips_saturated_groups_and_flags_nan_coeffs(tmp_path):
    coeffs = np.zeros((3, 8, 8), np.float32)
    coeffs[1] = 1.0
    coeffs[2] = 1e-4
    coeffs[2, 5, 5] = np.nan
    ramp = sd.make_ramp(value=1000.0, slope=0.0)
    ramp.groupdq[0, 3, 2, 2] = 2
    out = LinearityStep.call(ramp, override_linearity=sd.linearity(tmp_path, coeffs))
    assert out.data[0, 0, 0, 0] == np.float32(1000 + 1e-4 * 1e6)
    assert out.data[0, 3, 2, 2] == 1000.0
    assert out.data[0, 0, 5, 5] == 1000.0 and out.pixeldq[5, 5] == 1 << 20
