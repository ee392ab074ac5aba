"""Tests of the group-scale kernel."""

import numpy as np
import pytest

from builtin_steps.group_scale.scale import scale_factor, scale_groups


@pytest.mark.parametrize(
    ("nframes", "divisor", "want"),
    [(4, 4, None), (5, 4, 0.8), (5, None, 0.8), (8, None, None), (None, 4, None), (3, 2, 2 / 3)],
)
def test_scale_factor(nframes, divisor, want):
    assert scale_factor(nframes, divisor) == (pytest.approx(want) if want else None)


def test_scale_groups_in_place():
    d = np.full((1, 2, 2, 2), 10.0, np.float32)
    scale_groups(d, 0.8)
    assert d.dtype == np.float32 and np.allclose(d, 8.0)
