"""The rate products over the ramp's planes: builtin_steps.ramp_fit.in_ramp."""

import numpy as np
import pytest

from builtin_steps.ramp_fit.in_ramp import products_in_ramp
from builtin_steps.ramp_fit.ols import allocate_outputs


@pytest.mark.parametrize("shape", [(2, 8, 6, 5), (1, 10, 4, 3), (3, 7, 2, 2)])
def test_products_are_disjoint_views_of_the_ramp_shaped_as_allocated(shape):
    data = np.zeros(shape, np.float32)
    products = products_in_ramp(data)
    expected = allocate_outputs(shape[0], *shape[-2:])
    assert list(products) == list(expected)
    for name, array in products.items():
        assert (array.shape, array.dtype) == (expected[name].shape, expected[name].dtype), name
        assert np.shares_memory(array, data)
        array[...] = 0
    # every product has planes of its own: writing one changes no other
    for index, array in enumerate(products.values()):
        array.view(np.uint32)[...] = index + 1
    for index, array in enumerate(products.values()):
        assert (array.view(np.uint32) == index + 1).all()


@pytest.mark.parametrize(
    "data",
    [np.zeros((2, 7, 4, 4), np.float32),  # 14 planes for 15 images
     np.zeros((2, 8, 4, 8), np.float32)[..., ::2],  # not contiguous
     np.zeros((2, 8, 4, 4), np.float64),  # 8-byte values
     np.zeros((16, 4, 4), np.float32)],  # not a ramp
)
def test_none_when_the_products_do_not_fit(data):
    assert products_in_ramp(data) is None
