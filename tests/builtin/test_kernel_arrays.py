"""The flat memory views the compiled kernels take: builtin_steps._kernel_arrays."""

import numpy as np
import pytest

from builtin_steps._kernel_arrays import flat_memory, has_contiguous_rows


def test_a_band_of_rows_is_seen_in_place_through_its_strides():
    ramp = np.arange(2 * 3 * 8 * 5, dtype=np.float32).reshape(2, 3, 8, 5)
    band = ramp[:, :, 2:6]
    flat, strides = flat_memory(band)
    assert np.shares_memory(flat, ramp) and not flat.flags.writeable
    for index in np.ndindex(band.shape):
        assert flat[int(np.dot(index, strides))] == band[index]


@pytest.mark.parametrize("view", [lambda a: a[..., ::2], lambda a: a[:, ::-1], lambda a: np.asfortranarray(a)])
def test_rows_that_are_not_contiguous_are_copied(view):
    array = view(np.arange(60.0).reshape(4, 3, 5))
    assert not has_contiguous_rows(array)
    flat, strides = flat_memory(array)
    assert not np.shares_memory(flat, array)
    for index in np.ndindex(array.shape):
        assert flat[int(np.dot(index, strides))] == array[index]


def test_axes_of_length_one_and_empty_arrays():
    array = np.zeros((1, 4, 6))
    odd = np.lib.stride_tricks.as_strided(array, (1, 4, 6), (-8, 48, 8))  # the stride of a length-1 axis is never taken
    assert has_contiguous_rows(odd)
    flat, _ = flat_memory(np.zeros((2, 0, 3)), writeable=True)
    assert flat.size == 0
