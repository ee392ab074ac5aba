"""The compiled iterative jump search gives the flags of the numpy functions."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.jump import twopoint
from tests.builtin.jump._random_ramps import random_ramps

JUMP_DET = 4


def _numpy_iterative(data, groupdq, gain, readnoise, *, rejection_threshold=4.0,
                     three_group_rejection_threshold=6.0, four_group_rejection_threshold=5.0,
                     nframes=1, flag_4_neighbors=True, low=10.0, high=1000.0):
    """The numpy reference: first differences, clipped-median search, neighbour seed."""
    nints, ngroups, ny, nx = data.shape
    npix = ny * nx
    gdq = groupdq.copy().reshape(nints, ngroups, npix)
    seed = np.zeros((nints, (ngroups + 7) // 8, npix), dtype=np.uint8)
    gain_f = gain.astype(np.float32).reshape(npix)
    rn2 = (readnoise.astype(np.float64).reshape(npix) * gain_f) ** 2 / nframes
    thresholds = (rejection_threshold, four_group_rejection_threshold, three_group_rejection_threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        diffs = twopoint._first_diffs(data.reshape(nints, ngroups, npix), gdq, gain_f)
        jumps = twopoint._iterative(diffs, rn2, thresholds)
        gdq[:, 1:] |= np.where(jumps, JUMP_DET, 0).astype(np.uint8)
        if flag_4_neighbors:
            seed[:] = twopoint._neighbor_seed(diffs, gdq[:, 1:], rn2, low, high)
    return gdq.reshape(groupdq.shape), seed.reshape(nints, -1, ny, nx)


@pytest.mark.parametrize("nints, ngroups", [(2, 8), (1, 10), (1, 3), (1, 4), (3, 5), (1, 20), (2, 2)])
@pytest.mark.parametrize("neighbors", [True, False])
def test_compiled_iterative_mode_is_identical(nints, ngroups, neighbors):
    rng = np.random.default_rng(10 * nints + ngroups)
    data, gdq, gain, readnoise = random_ramps(rng, nints, ngroups)
    result = twopoint.detect_jumps(data, gdq, gain, readnoise, mode="iterative", flag_4_neighbors=neighbors)
    expected_gdq, expected_seed = _numpy_iterative(data, gdq, gain, readnoise, flag_4_neighbors=neighbors)
    np.testing.assert_array_equal(result["groupdq"], expected_gdq)
    np.testing.assert_array_equal(result["neighbor_seed"], expected_seed)
    assert (result["groupdq"] & JUMP_DET).sum() > (gdq & JUMP_DET).sum()  # jumps were found


def test_compiled_search_finds_a_planted_jump():
    data = np.cumsum(np.full((1, 10, 3, 3), 100.0, np.float32), axis=1)
    data[0, 6:, 1, 1] += 2000.0
    gdq = np.zeros(data.shape, np.uint8)
    result = twopoint.detect_jumps(data, gdq, np.ones((3, 3), np.float32), np.full((3, 3), 5.0, np.float32))
    flagged = np.argwhere(result["groupdq"] & JUMP_DET)
    assert flagged.tolist() == [[0, 6, 1, 1]]
    assert result["neighbor_seed"][0, 0, 1, 1] == 1 << 6
