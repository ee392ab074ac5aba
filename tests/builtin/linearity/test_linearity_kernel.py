"""Tests of the linearity kernel."""

import numpy as np

from builtin_steps._common import NO_LIN_CORR, SATURATED
from builtin_steps.linearity.correct import apply_linearity, prepare_coefficients


def test_polynomial_applied_to_unsaturated_groups_only():
    coeffs = np.zeros((3, 2, 2), np.float32)
    coeffs[0], coeffs[1], coeffs[2] = 1.0, 2.0, 0.5
    c, dq = prepare_coefficients(coeffs)
    data = np.full((1, 2, 2, 2), 2.0, np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 1, 0, 0] = SATURATED
    apply_linearity(data, gdq, c)
    assert data[0, 0, 1, 1] == 1 + 2 * 2 + 0.5 * 4
    assert data[0, 1, 0, 0] == 2.0
    assert not dq.any()


def test_nan_zero_linear_term_and_flagged_pixels_pass_unchanged_with_no_lin_corr():
    coeffs = np.ones((3, 2, 2), np.float32)
    coeffs[2, 0, 0] = np.nan
    coeffs[1, 0, 1] = 0.0
    ref_dq = np.zeros((2, 2), np.uint32)
    ref_dq[1, 0] = NO_LIN_CORR
    c, dq = prepare_coefficients(coeffs, ref_dq)
    assert (dq == [[NO_LIN_CORR, NO_LIN_CORR], [NO_LIN_CORR, 0]]).all()
    data = np.full((1, 1, 2, 2), 3.0, np.float32)
    apply_linearity(data, np.zeros(data.shape, np.uint8), c)
    assert (data[0, 0] == [[3, 3], [3, 13]]).all()


def test_zeroframe_corrected_where_non_zero():
    c, _ = prepare_coefficients(np.stack([np.zeros((1, 2)), np.full((1, 2), 2.0)]))
    zf = np.array([[[0.0, 5.0]]], np.float32)
    apply_linearity(np.zeros((1, 1, 1, 2), np.float32), np.zeros((1, 1, 1, 2), np.uint8), c, zeroframe=zf)
    assert zf.tolist() == [[[0.0, 10.0]]]


def test_copy_false_updates_the_callers_arrays_and_copy_true_does_not():
    coeffs = np.ones((2, 1, 2), np.float32)
    coeffs[0, 0, 1] = np.nan
    dq = np.zeros((1, 2), np.uint32)
    c, d = prepare_coefficients(coeffs, dq)
    assert np.isnan(coeffs[0, 0, 1]) and dq[0, 1] == 0
    c, d = prepare_coefficients(coeffs, dq, copy=False)
    assert c is coeffs and d is dq and coeffs[:, 0, 1].tolist() == [0.0, 1.0] and dq[0, 1] == NO_LIN_CORR
