"""Tests of the saturation kernel."""

import numpy as np
import pytest

from builtin_steps._common import AD_FLOOR, DO_NOT_USE, NO_SAT_CHECK, SATURATED
from builtin_steps.saturation.flag import flag_saturation, grow, prepare_threshold, read_pattern


def _ramp(values):
    v = np.asarray(values, np.float32)
    data = np.full((1, v.size, 9, 9), 100.0, np.float32)
    data[0, :, 4, 4] = v
    return data


def test_group_reaching_threshold_and_all_later_groups_are_flagged():
    data = _ramp([100, 500, 900, 1200, 1500])
    gdq = np.zeros(data.shape, np.uint8)
    thr, _ = prepare_threshold(np.full((9, 9), 1000.0), None)
    nsat, nfloor = flag_saturation(data, gdq, thr, n_pix_grow_sat=0)
    assert (nsat, nfloor) == (1, 0)
    assert list(gdq[0, :, 4, 4] & SATURATED) == [0, 0, 0, 2, 2]
    assert not (gdq[0, :, 4, 3] & SATURATED).any()


def test_saturation_grows_to_neighbours_from_that_group_on():
    data = _ramp([100, 1200, 1300])
    gdq = np.zeros(data.shape, np.uint8)
    thr, _ = prepare_threshold(np.full((9, 9), 1000.0), None)
    flag_saturation(data, gdq, thr, n_pix_grow_sat=1)
    sat = (gdq[0] & SATURATED) != 0
    assert sat[1].sum() == 9 and sat[2].sum() == 9 and sat[0].sum() == 0
    assert sat[1, 3:6, 3:6].all()


def test_nan_and_no_sat_check_thresholds_are_never_flagged():
    data = _ramp([65535, 65535])
    gdq = np.zeros(data.shape, np.uint8)
    ref = np.full((9, 9), 1000.0, np.float32)
    ref[4, 4] = np.nan
    ref_dq = np.zeros((9, 9), np.uint32)
    ref_dq[0, 0] = NO_SAT_CHECK
    data[0, :, 0, 0] = 60000
    thr, dq = prepare_threshold(ref, ref_dq)
    flag_saturation(data, gdq, thr, n_pix_grow_sat=0)
    assert gdq[0, :, 4, 4].sum() == 0 and gdq[0, :, 0, 0].sum() == 0
    assert dq[4, 4] & NO_SAT_CHECK and dq[0, 0] & NO_SAT_CHECK


def test_ad_floor_flags_only_that_group():
    data = _ramp([0, 50, -3, 60])
    gdq = np.zeros(data.shape, np.uint8)
    thr, _ = prepare_threshold(np.full((9, 9), 1000.0), None)
    _, nfloor = flag_saturation(data, gdq, thr)
    assert nfloor == 1
    assert list(gdq[0, :, 4, 4]) == [AD_FLOOR | DO_NOT_USE, 0, AD_FLOOR | DO_NOT_USE, 0]


def test_frame_averaged_group_that_saturated_midway_is_do_not_use():
    # 4 frames per group: group 1 averages frames that crossed the threshold part-way
    frames = read_pattern(3, 4, 0)
    data = _ramp([100, 800, 1100])
    gdq = np.zeros(data.shape, np.uint8)
    thr, _ = prepare_threshold(np.full((9, 9), 1000.0), None)
    flag_saturation(data, gdq, thr, n_pix_grow_sat=0, frames=frames)
    assert gdq[0, 1, 4, 4] & DO_NOT_USE
    assert not gdq[0, 0, 4, 4] & DO_NOT_USE


def test_read_pattern_counts_frames_and_gaps():
    assert read_pattern(3, 2, 1) == [[1, 2], [4, 5], [7, 8]]


def test_zeroframe_saturated_values_are_zeroed():
    data = _ramp([100, 200])
    zf = np.full((1, 9, 9), 50.0, np.float32)
    zf[0, 2, 2] = 2000
    zf[0, 7, 7] = -1
    thr, _ = prepare_threshold(np.full((9, 9), 1000.0), None)
    flag_saturation(data, np.zeros(data.shape, np.uint8), thr, n_pix_grow_sat=1, zeroframe=zf)
    assert (zf[0, 1:4, 1:4] == 0).all() and zf[0, 7, 7] == 0 and zf[0, 5, 5] == 50


@pytest.mark.parametrize("n", [0, 1, 2])
def test_grow_is_a_box_dilation(n):
    from scipy import ndimage

    rng = np.random.default_rng(0)
    m = rng.random((3, 20, 20)) > 0.97
    want = np.stack([ndimage.binary_dilation(p, np.ones((2 * n + 1,) * 2, bool)) if n else p for p in m])
    np.testing.assert_array_equal(grow(m, n), want)


def test_prepare_threshold_in_place_only_when_asked():
    ref = np.array([[np.nan, 5.0]], np.float32)
    thr, _ = prepare_threshold(ref, None)
    assert np.isnan(ref[0, 0]) and thr[0, 0] == 65536
    thr, _ = prepare_threshold(ref, None, copy=False)
    assert thr is ref and ref[0, 0] == 65536
