"""Tests of the gain-scale kernel."""

import numpy as np

from builtin_steps.gain_scale.scale import apply_gain_factor


def test_values_scale_with_factor_and_variances_with_its_square():
    d, e, vp, vr = (np.full((2, 2), 2.0, np.float32) for _ in range(4))
    apply_gain_factor(1.5, d, e, vp, vr)
    assert np.allclose(d, 3.0) and np.allclose(e, 3.0) and np.allclose(vp, 4.5) and np.allclose(vr, 4.5)
