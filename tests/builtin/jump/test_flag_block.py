"""The one-pass search of a block of rows equals detection, count and neighbour flagging."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.jump import twopoint
from builtin_steps.jump.blocks import detect_jumps_in_block
from builtin_steps.jump.neighbors import flag_four_neighbors
from builtin_steps.jump.twopoint_compiled import _sorting_network
from tests.builtin.jump._random_ramps import FLAGS, random_ramps

JUMP_DET = 4
FLAGS_AND_8 = (*FLAGS, (8, 0.01))  # DROPOUT too: a flag the search ignores


def _detect_count_flag(data, groupdq, gain, readnoise, **options):
    """The reference: detect_jumps, the count of new jumps per row, then the neighbours."""
    result = twopoint.detect_jumps(data, groupdq, gain, readnoise, mode="iterative", **options)
    new = result["groupdq"]
    added = ((new & JUMP_DET) != 0) & ((groupdq & JUMP_DET) == 0)
    if options.get("flag_4_neighbors", True):
        flag_four_neighbors(new, result["neighbor_seed"])
    return new, added.sum(axis=(0, 1, 3))


@pytest.mark.parametrize(
    "nints, ngroups, ny, nx",
    [(2, 8, 9, 300), (3, 10, 3, 1300), (1, 3, 6, 7), (1, 2, 5, 5), (2, 5, 8, 3), (1, 20, 5, 40)],
)
@pytest.mark.parametrize("neighbors", [True, False])
def test_one_pass_equals_detection_then_flagging(nints, ngroups, ny, nx, neighbors):
    rng = np.random.default_rng(nints * 100 + ngroups * 10 + nx)
    data, gdq, gain, readnoise = random_ramps(rng, nints, ngroups, max(ny, 5), nx, flags=FLAGS_AND_8)
    options = {"flag_4_neighbors": neighbors, "nframes": 2, "min_jump_to_flag_neighbors": 5.0}
    expected = _detect_count_flag(data, gdq, gain, readnoise, **options)
    gdq_before = gdq.copy()
    result = twopoint.flag_jumps_and_neighbors(data, gdq, gain, readnoise, **options)
    np.testing.assert_array_equal(gdq, gdq_before)
    np.testing.assert_array_equal(result[0], expected[0])
    np.testing.assert_array_equal(result[1], expected[1])
    if nints * (ngroups - 1) > 2 and nx > 1:
        assert result[1].sum() > 0  # jumps were found


@pytest.mark.parametrize("layout", ["rows", "columns", "fortran", "float64"])
def test_views_and_other_layouts(layout):
    rng = np.random.default_rng(5)
    data, gdq, gain, readnoise = random_ramps(rng, 2, 6, 12, 30, flags=FLAGS_AND_8)
    if layout == "rows":
        args = (data[:, :, 3:9], gdq[:, :, 3:9], gain[3:9], readnoise[3:9])
    elif layout == "columns":
        args = (data[..., ::2], gdq[..., 1::2], gain[:, ::2], readnoise[:, 1::2])
    elif layout == "fortran":
        args = tuple(np.asfortranarray(a) for a in (data, gdq, gain, readnoise))
    else:
        args = (data.astype(np.float64), gdq, gain.astype(np.float64), readnoise.astype(np.float64))
    expected = _detect_count_flag(*(np.ascontiguousarray(a) for a in args))
    result = twopoint.flag_jumps_and_neighbors(*args)
    np.testing.assert_array_equal(result[0], expected[0])
    np.testing.assert_array_equal(result[1], expected[1])


def test_a_row_full_of_jumps():
    # every pixel of a row jumps in every integration: as many seeds as the row can hold
    rng = np.random.default_rng(8)
    shape = (2, 6, 5, 600)
    data = (rng.normal(0, 5, shape) + 50.0 * np.arange(6)[:, None, None]).astype(np.float32)
    data[:, 3:, 2] += 1000.0
    gdq = np.zeros(shape, np.uint8)
    gain = np.full((5, 600), 2.0, np.float32)
    readnoise = np.full((5, 600), 8.0, np.float32)
    expected = _detect_count_flag(data, gdq, gain, readnoise)
    result = twopoint.flag_jumps_and_neighbors(data, gdq, gain, readnoise)
    np.testing.assert_array_equal(result[0], expected[0])
    np.testing.assert_array_equal(result[1], expected[1])
    assert result[1][2] == 2 * 600
    assert np.all(result[0][:, 3, 1:4] & JUMP_DET)


def test_block_kernel_matches_the_reference_on_halo_blocks():
    rng = np.random.default_rng(11)
    data, gdq, gain, readnoise = random_ramps(rng, 2, 7, 20, 50, flags=FLAGS_AND_8)
    pixeldq = np.zeros((20, 50), np.uint32)
    whole_gdq, whole_counts = _detect_count_flag(data, gdq, gain, readnoise)
    for start, stop in [(0, 6), (6, 7), (7, 20)]:
        lo, hi = max(0, start - 1), min(20, stop + 1)
        views = (data[:, :, lo:hi], gdq[:, :, lo:hi], pixeldq[lo:hi], gain[lo:hi], readnoise[lo:hi])
        part = detect_jumps_in_block(*views, mode="iterative")
        keep = slice(start - lo, stop - lo)
        np.testing.assert_array_equal(part["groupdq"][:, :, keep], whole_gdq[:, :, start:stop])
        np.testing.assert_array_equal(part["new_jumps"][keep, 0], whole_counts[start:stop])


@pytest.mark.parametrize("m", range(1, 17))
def test_sorting_network_sorts(m):
    # the 0-1 principle: a network that sorts every sequence of 0 and 1 sorts everything
    bits = (np.arange(2**m)[:, None] >> np.arange(m)) & 1
    values = bits.T.copy()
    for low, high in _sorting_network(m):
        smaller = np.minimum(values[low], values[high])
        values[high] = np.maximum(values[low], values[high])
        values[low] = smaller
    np.testing.assert_array_equal(values, np.sort(bits, axis=1).T)


def test_empty_blocks():
    for shape in [(2, 1, 3, 4), (1, 4, 0, 4), (0, 4, 3, 4)]:
        data = np.zeros(shape, np.float32)
        gdq = np.full(shape, 8, np.uint8)
        ones = np.ones(shape[2:], np.float32)
        new, counts = twopoint.flag_jumps_and_neighbors(data, gdq, ones, ones)
        np.testing.assert_array_equal(new, gdq)
        assert counts.shape == (shape[2],) and not counts.any()
