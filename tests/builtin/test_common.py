"""Tests of the helpers shared by the built-in steps."""

import numpy as np
import pytest

from builtin_steps import _common
from builtin_steps._common import Window, subarray_cutout
from pipeline_core.datamodels import dqflags
from pipeline_core.errors import ReferenceFileError


@pytest.mark.parametrize(
    "name", ["DO_NOT_USE", "SATURATED", "JUMP_DET", "AD_FLOOR", "NO_LIN_CORR", "NO_SAT_CHECK", "REFERENCE_PIXEL"]
)
def test_bit_values_are_the_jwst_ones(name):
    assert getattr(_common, name) == dqflags.pixel[name]


def test_cutout_of_full_frame_reference():
    ref = np.arange(3 * 20 * 30).reshape(3, 20, 30)
    got = subarray_cutout(ref, sci_window=Window(5, 3, 4, 2))
    np.testing.assert_array_equal(got, ref[:, 2:4, 4:8])


def test_matching_reference_is_returned_as_is():
    ref = np.zeros((4, 4))
    assert subarray_cutout(ref, sci_window=Window(10, 10, 4, 4), ref_window=Window(10, 10, 4, 4)) is ref


def test_cutout_of_subarray_reference_with_offset():
    ref = np.arange(100).reshape(10, 10)
    got = subarray_cutout(ref, sci_window=Window(13, 12, 2, 2), ref_window=Window(11, 11, 10, 10))
    np.testing.assert_array_equal(got, ref[1:3, 2:4])


def test_reference_not_covering_the_subarray_is_a_clear_error():
    with pytest.raises(ReferenceFileError, match=r"mask 'm.fits' covers columns 1\.\.10 .* use a full-frame reference"):
        subarray_cutout(np.zeros((10, 10)), sci_window=Window(8, 1, 5, 5), what="mask 'm.fits'")
