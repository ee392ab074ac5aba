"""The statistics kernel, on ramps whose flags are known exactly."""

import numpy as np
import pytest

from steppe_example.stats import COLUMNS, summarize_groupdq

FLAGS = {"jump_flag": 4, "saturated_flag": 2, "do_not_use_flag": 1}


def ramp_flags():
    """Two integrations, 4 groups, 2 x 3 pixels, with hand-placed flags."""
    dq = np.zeros((2, 4, 2, 3), dtype=np.uint8)
    dq[0, 1, 0, 0] = 4  # integration 1: pixel (0, 0) jumps twice
    dq[0, 3, 0, 0] = 4
    dq[0, 2, 1, 2] = 4  # and pixel (1, 2) once
    dq[0, 2:, 0, 1] = 2 | 1  # pixel (0, 1) saturates from group 3 on (2 usable groups)
    dq[1, :, 1, 1] = 2 | 1  # integration 2: pixel (1, 1) saturated from the start
    return dq


def test_counts_per_integration():
    stats = summarize_groupdq(ramp_flags(), group_time=10.0, **FLAGS)
    assert list(stats) == list(COLUMNS)
    np.testing.assert_array_equal(stats["integration"], [1, 2])
    np.testing.assert_array_equal(stats["jumps"], [3, 0])
    np.testing.assert_array_equal(stats["jump_pixels"], [2, 0])
    np.testing.assert_allclose(stats["jump_fraction"], [2 / 6, 0])
    np.testing.assert_allclose(stats["jump_rate"], [3 / (6 * 4 * 10.0), 0])
    np.testing.assert_array_equal(stats["saturated_pixels"], [1, 1])
    np.testing.assert_allclose(stats["saturated_fraction"], [1 / 6, 1 / 6])
    np.testing.assert_array_equal(stats["median_usable_groups"], [4, 4])
    np.testing.assert_array_equal(stats["do_not_use_groups"], [2, 4])


def test_usable_groups_stop_at_the_first_saturated_group():
    dq = np.zeros((1, 5, 1, 3), dtype=np.uint8)
    dq[0, 1:, 0, 0] = 2  # 1 usable group
    dq[0, 3:, 0, 1] = 2  # 3 usable groups
    stats = summarize_groupdq(dq, **FLAGS)  # pixel (0, 2) keeps all 5
    assert stats["median_usable_groups"][0] == 3
    assert np.isnan(stats["jump_rate"][0])  # no group time: no rate


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 2, 2), dtype=np.uint8), "groupdq has shape (4, 2, 2); a ramp's GROUPDQ is 4-D"),
        (np.zeros((1, 2, 2, 2), dtype=np.float32), "groupdq has dtype float32; DQ flags are integers"),
    ],
)
def test_bad_input_is_refused(array, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        summarize_groupdq(array, **FLAGS)
