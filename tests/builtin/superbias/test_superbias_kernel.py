"""Tests of the superbias kernel."""

import numpy as np

from builtin_steps.superbias.subtract import subtract_superbias


def test_bias_subtracted_from_all_groups_nan_ignored_dq_propagated():
    data = np.full((2, 3, 2, 2), 100.0, np.float32)
    bias = np.array([[10.0, np.nan], [20.0, 30.0]], np.float32)
    pdq = np.zeros((2, 2), np.uint32)
    bdq = np.array([[0, 4], [0, 0]], np.uint32)
    zf = np.array([[[0.0, 50.0], [60.0, 70.0]]] * 2, np.float32)
    subtract_superbias(data, pdq, bias, bdq, zeroframe=zf)
    assert (data[1, 2] == [[90, 100], [80, 70]]).all()
    assert pdq[0, 1] == 4
    assert (zf[0] == [[0, 50], [40, 40]]).all()
