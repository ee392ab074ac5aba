"""Tests of the persistence-window kernel and the array-file helpers."""

import logging

import numpy as np
import pytest

from builtin_steps.persistence.arrayfile import asdf_path, read_window_ends, write_window_ends
from builtin_steps.persistence.windows import flag_persistence, mjd_to_epoch

SAT, PERS = 2, 32


def test_mjd_to_epoch():
    assert mjd_to_epoch(40587.0) == 0.0
    assert mjd_to_epoch(40588.5) == pytest.approx(1.5 * 86400)


def test_window_state_is_left_for_the_next_exposure():
    gdq = np.zeros((1, 4, 2, 2), np.uint8)
    gdq[0, 2:, 1, 1] = SAT
    data = np.zeros(gdq.shape, np.float32)
    times = np.array([[10.0, 20.0, 30.0, 40.0]])
    ends = np.zeros((2, 2))
    ends[0, 0] = 25.0  # from an earlier exposure: open for groups at 10 and 20
    invalid = flag_persistence(
        gdq, data, times, ends, persistence_time=15.0, dn_threshold=None, saturated=SAT, flag=PERS
    )
    assert invalid == 0
    np.testing.assert_array_equal(gdq[0, :, 0, 0], [PERS, PERS, 0, 0])
    np.testing.assert_array_equal(gdq[0, :, 1, 1], [0, 0, SAT | PERS, SAT | PERS])
    np.testing.assert_array_equal(ends, [[0.0, 0.0], [0.0, 45.0]])


def test_threshold_window_and_nan_signal():
    gdq = np.zeros((1, 3, 1, 2), np.uint8)
    data = np.array([[[[np.nan, 5.0]], [[np.nan, 1.0]], [[np.nan, 1.0]]]], np.float32)
    ends = np.zeros((1, 2))
    flag_persistence(
        gdq, data, np.array([[1.0, 2.0, 3.0]]), ends,
        persistence_time=1.0, dn_threshold=4.0, saturated=SAT, flag=PERS,
    )
    np.testing.assert_array_equal(gdq[0, :, 0, 0], [0, 0, 0])
    np.testing.assert_array_equal(gdq[0, :, 0, 1], [PERS, PERS, 0])


def test_asdf_path():
    assert asdf_path("a/b.fits") == "a/b.asdf"
    assert asdf_path("a/b.asdf") == "a/b.asdf"
    assert asdf_path("windows") == "windows.asdf"


def test_write_then_read_round_trip(tmp_path):
    log = logging.getLogger("test")
    ends = np.zeros((3, 4))
    ends[1, 2], ends[2, 0] = 1.7e9, 1.8e9
    path = write_window_ends(str(tmp_path / "w"), "NRCB5", "x_uncal.fits", ends, 300)
    assert path.endswith("w.asdf")
    np.testing.assert_array_equal(read_window_ends(path, "NRCB5", (3, 4), 300, log), ends)
    np.testing.assert_array_equal(read_window_ends(path, "NRCB1", (3, 4), 300, log), 0.0)
    with pytest.raises(ValueError, match="outside the data's 2 x 4 pixels"):
        read_window_ends(path, "NRCB5", (2, 4), 300, log)
