"""Tests of the dark-current kernel."""

import numpy as np

from builtin_steps.dark_current.subtract import average_dark, frames_needed, subtract_dark


def _dark(nframes=12):
    return np.arange(nframes, dtype=np.float32)[:, None, None] * np.ones((1, 2, 2), np.float32)


def test_frames_needed():
    assert frames_needed(3, 4, 1) == 14


def test_one_frame_per_group_uses_dark_frames_directly():
    np.testing.assert_array_equal(average_dark(_dark(), ngroups=3, nframes=1, groupgap=0)[:, 0, 0], [0, 1, 2])
    np.testing.assert_array_equal(average_dark(_dark(), ngroups=3, nframes=1, groupgap=2)[:, 0, 0], [0, 3, 6])


def test_frames_averaged_with_gaps():
    got = average_dark(_dark(), ngroups=3, nframes=2, groupgap=1)[:, 0, 0]
    np.testing.assert_allclose(got, [0.5, 3.5, 6.5])


def test_nan_becomes_zero():
    d = _dark()
    d[0, 0, 0] = np.nan
    assert average_dark(d, ngroups=2, nframes=1, groupgap=0)[0, 0, 0] == 0


def test_subtract_3d_and_4d_darks_and_or_dq():
    data = np.full((2, 2, 2, 2), 10.0, np.float32)
    pdq = np.zeros((2, 2), np.uint32)
    ddq = np.zeros((2, 2), np.uint32)
    ddq[0, 1] = 8
    subtract_dark(data, pdq, _dark(2), ddq)
    assert data[1, 1, 0, 0] == 9 and data[0, 0, 0, 0] == 10 and pdq[0, 1] == 8
    data = np.full((3, 2, 2, 2), 10.0, np.float32)
    dark4 = np.stack([_dark(2), _dark(2) + 1])
    subtract_dark(data, pdq, dark4)
    assert data[2, 1, 0, 0] == 8 and data[0, 1, 0, 0] == 9


def test_group_frames_and_average_frames_match_average_dark():
    from builtin_steps.dark_current.subtract import average_frames, group_frames

    dark = np.random.default_rng(5).normal(size=(2, 12, 3, 3)).astype(np.float32)
    dark[1, 4, 0, 0] = np.nan
    whole = average_dark(dark, ngroups=4, nframes=2, groupgap=1)
    assert group_frames(2, 2, 1, 12) == slice(6, 8) and group_frames(3, 4, 0, 14) == slice(12, 14)
    for g in range(4):
        plane = average_frames(dark[:, group_frames(g, 2, 1, 12)])
        np.testing.assert_array_equal(plane, whole[:, g])
    single = dark[:, 4:5]
    plane = average_frames(single)
    assert plane[1, 0, 0] == 0 and np.isnan(dark[1, 4, 0, 0])  # the input keeps its NaN


def test_subtract_group_for_all_or_some_integrations_and_or_dq():
    from builtin_steps.dark_current.subtract import or_dark_dq, subtract_group

    data = np.full((3, 2, 2, 2), 10.0, np.float32)
    subtract_group(data, 1, np.full((2, 2), 4.0, np.float32))
    subtract_group(data, 0, np.ones((2, 2), np.float32), range(1, 3))
    np.testing.assert_array_equal(data[:, :, 0, 0], [[10, 6], [9, 6], [9, 6]])
    pdq = np.zeros((2, 2), np.uint32)
    or_dark_dq(pdq, np.array([[[1, 0], [0, 0]], [[0, 4], [0, 0]]], np.uint32))
    np.testing.assert_array_equal(pdq, [[1, 4], [0, 0]])
