"""Tests of the two-point-difference jump detection kernel."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.jump.neighbors import flag_after_jumps, flag_four_neighbors
from builtin_steps.jump.twopoint import choose_mode, clear_frame_wide_jumps, detect_jumps
from tests.fixtures.ramps import make_ramps

DNU, SAT, JUMP = 1, 2, 4


def detect(r, **kwargs):
    """Run the kernel on a SyntheticRamps (no neighbour flagging unless asked)."""
    options = {"mode": choose_mode(r.groupdq), "flag_4_neighbors": False, "nframes": r.nframes}
    options.update(kwargs)
    return detect_jumps(r.data, r.groupdq, r.gain, r.readnoise, **options)


def jumps_of(out):
    return (out["groupdq"] & JUMP) != 0


@pytest.mark.parametrize(
    ("shape", "mode"),
    [((1, 10, 128, 128), "iterative"), ((3, 5, 96, 96), "iterative"), ((1, 14, 96, 96), "single_pass")],
)
def test_every_large_jump_is_found(shape, mode):
    ramps = make_ramps(shape=shape, rate=(0.5, 1000.0), jump_fraction=0.003, seed=31)
    assert choose_mode(ramps.groupdq) == mode
    found = jumps_of(detect(ramps))
    large = ramps.jumps & (ramps.jump_sigma >= 10)
    assert large.sum() > 100
    assert np.all(found[large])


@pytest.mark.parametrize("rate", [1.0, 20.0, 300.0])
def test_false_positives_are_rare(rate):
    ramps = make_ramps(shape=(2, 10, 128, 128), rate=rate, seed=32)
    found = jumps_of(detect(ramps))
    ndiffs = 2 * 9 * 128 * 128
    assert found.sum() / ndiffs < 3e-4


def test_thresholds_depend_on_usable_differences():
    # 4 groups (3 differences): four_group_rejection_threshold applies
    data = np.zeros((1, 4, 1, 3), dtype=np.float32)
    sigma = 10.0  # read noise of a difference in DN, gain 1, no signal
    data[0, 3:, 0, :] = [4.5 * sigma, 5.5 * sigma, 7.0 * sigma]
    gdq = np.zeros(data.shape, dtype=np.uint8)
    gain = np.ones((1, 3), dtype=np.float32)
    rn = np.full((1, 3), sigma, dtype=np.float32)
    out = detect_jumps(data, gdq, gain, rn, flag_4_neighbors=False)
    assert list(jumps_of(out)[0, 3, 0]) == [False, True, True]
    out = detect_jumps(data, gdq, gain, rn, flag_4_neighbors=False, four_group_rejection_threshold=6.0)
    assert list(jumps_of(out)[0, 3, 0]) == [False, False, True]
    # 3 groups (2 differences): three_group_rejection_threshold applies
    out = detect_jumps(data[:, 1:], gdq[:, 1:], gain, rn, flag_4_neighbors=False)
    assert list(jumps_of(out)[0, 2, 0]) == [False, False, True]


def test_several_jumps_in_one_ramp():
    ramps = make_ramps(shape=(1, 10, 16, 16), rate=5.0, seed=33)
    ramps.data[0, 3:] += 300.0
    ramps.data[0, 7:] += 150.0
    found = jumps_of(detect(ramps))
    assert np.all(found[0, 3]) and np.all(found[0, 7])
    assert found.sum() == 2 * 16 * 16


def test_saturated_and_do_not_use_groups_are_never_flagged():
    ramps = make_ramps(shape=(1, 10, 32, 32), rate=50.0, jump_fraction=0.01, seed=34)
    ramps.groupdq[0, 6:, :8] = SAT
    ramps.groupdq[0, 0, 8:16] = DNU
    ramps.data[0, 6:, :8] = 0.0  # nonsense values in saturated groups
    out = detect(ramps)
    assert not np.any(jumps_of(out) & (ramps.groupdq & (SAT | DNU) != 0))
    # input flags are kept
    assert np.all(out["groupdq"][0, 6:, :8] & SAT)


def test_input_is_not_modified():
    ramps = make_ramps(shape=(1, 6, 16, 16), rate=5.0, jump_fraction=0.05, seed=35)
    before = ramps.groupdq.copy()
    detect(ramps)
    np.testing.assert_array_equal(ramps.groupdq, before)


def test_bad_gain_pixels_are_skipped():
    ramps = make_ramps(shape=(1, 6, 8, 8), rate=5.0, seed=36)
    ramps.data[0, 3:, 0, 0] += 5000.0
    ramps.gain[0, 0] = np.nan
    assert not jumps_of(detect(ramps))[:, :, 0, 0].any()


def test_choose_mode():
    gdq = np.zeros((1, 10, 4, 4), dtype=np.uint8)
    assert choose_mode(gdq) == "iterative"
    assert choose_mode(np.zeros((1, 11, 4, 4), np.uint8)) == "single_pass"
    assert choose_mode(np.zeros((1, 2, 4, 4), np.uint8)) == "skip"
    assert choose_mode(np.zeros((100, 3, 4, 4), np.uint8)) == "sigma_clip"
    assert choose_mode(np.zeros((5, 30, 4, 4), np.uint8), only_use_ints=False) == "sigma_clip"
    flagged = np.zeros((1, 12, 4, 4), np.uint8)
    flagged[:, [0, -1]] = DNU  # two groups unusable everywhere: 9 differences left
    assert choose_mode(flagged) == "iterative"


def test_sigma_clip_mode():
    ramps = make_ramps(shape=(30, 4, 32, 32), rate=20.0, seed=37)
    ramps.data[5, 2:, 3, 3] += 2000.0
    out = detect(ramps, mode="sigma_clip")
    found = jumps_of(out)
    assert found[5, 2, 3, 3]
    assert found.sum() / (30 * 3 * 32 * 32) < 3e-3


def test_clear_frame_wide_jumps():
    gdq = np.zeros((1, 3, 2, 2), dtype=np.uint8)
    gdq[0, 1] = JUMP
    gdq[0, 1, 0, 0] = DNU
    gdq[0, 2, 0, 0] = JUMP
    clear_frame_wide_jumps(gdq)
    assert gdq[0, 1].tolist() == [[DNU, 0], [0, 0]]
    assert gdq[0, 2, 0, 0] == JUMP


def test_neighbors_are_flagged_across_row_blocks():
    ramps = make_ramps(shape=(1, 8, 16, 12), rate=10.0, seed=38)
    # a 40-sigma jump on the last row of the first block and one at a corner
    ramps.data[0, 4:, 7, 5] += 40 * 10.0
    ramps.data[0, 2:, 0, 0] += 40 * 10.0
    ramps.groupdq[0, 4, 8, 5] = SAT  # a saturated neighbour stays unflagged
    ramps.groupdq[0, 5:, 8, 5] = SAT
    whole = detect(ramps, flag_4_neighbors=True)
    parts = [
        detect_jumps(
            ramps.data[..., rows, :], ramps.groupdq[..., rows, :], ramps.gain[rows],
            ramps.readnoise[rows], flag_4_neighbors=True,
        )
        for rows in (slice(0, 8), slice(8, 16))
    ]
    for name in ("groupdq", "neighbor_seed"):
        np.testing.assert_array_equal(whole[name], np.concatenate([p[name] for p in parts], axis=-2))
    gdq = whole["groupdq"]
    flag_four_neighbors(gdq, whole["neighbor_seed"])
    expected = {(7, 5), (6, 5), (7, 4), (7, 6)}
    assert {tuple(p) for p in np.argwhere(gdq[0, 4] & JUMP)} == expected
    assert gdq[0, 4, 8, 5] == SAT
    assert {tuple(p) for p in np.argwhere(gdq[0, 2] & JUMP)} == {(0, 0), (1, 0), (0, 1)}


def test_neighbor_range_is_respected():
    ramps = make_ramps(shape=(1, 8, 8, 8), rate=10.0, seed=39)
    ramps.data[0, 4:, 4, 4] += 8 * 10.0  # detected, but below min_jump_to_flag_neighbors
    ramps.data[0, 4:, 1, 1] += 2000 * 10.0  # above max_jump_to_flag_neighbors
    out = detect(ramps, flag_4_neighbors=True)
    assert out["groupdq"][0, 4, 4, 4] & JUMP and out["groupdq"][0, 4, 1, 1] & JUMP
    assert not out["neighbor_seed"].any()


def test_after_jump_flagging():
    ramps = make_ramps(shape=(1, 10, 8, 8), rate=10.0, seed=40)
    ramps.data[0, 3:, 2, 2] += 1000.0  # large
    ramps.data[0, 3:, 5, 5] += 150.0  # small
    gdq = detect(ramps)["groupdq"]
    flag_after_jumps(
        gdq, ramps.data, ramps.gain, ramps.readnoise, nframes=1, rules=[(500.0, 2), (100.0, 1)]
    )
    assert np.flatnonzero(gdq[0, :, 2, 2] & JUMP).tolist() == [3, 4, 5]
    assert np.flatnonzero(gdq[0, :, 5, 5] & JUMP).tolist() == [3, 4]


def test_parallel_equals_serial():
    map_row_slices = pytest.importorskip("pipeline_core.parallel.rows").map_row_slices
    ramps = make_ramps(shape=(1, 8, 64, 32), rate=(1.0, 500.0), jump_fraction=0.01, seed=41)
    inputs = {"data": ramps.data, "groupdq": ramps.groupdq, "gain": ramps.gain, "readnoise": ramps.readnoise}
    serial = map_row_slices(detect_jumps, inputs, max_workers=1, kwargs={})
    parallel = map_row_slices(detect_jumps, inputs, max_workers=2, kwargs={})
    for name in serial:
        np.testing.assert_array_equal(serial[name], parallel[name])


def test_neighbors_of_late_groups():
    # seeds are bit-packed by group: groups past the first byte must work too
    ramps = make_ramps(shape=(1, 12, 6, 6), rate=10.0, seed=42)
    ramps.data[0, 10:, 3, 3] += 40 * 10.0
    out = detect(ramps, flag_4_neighbors=True)
    assert out["neighbor_seed"].shape == (1, 2, 6, 6)
    gdq = out["groupdq"]
    flag_four_neighbors(gdq, out["neighbor_seed"])
    assert {tuple(p) for p in np.argwhere(gdq[0, 10] & JUMP)} == {(3, 3), (2, 3), (4, 3), (3, 2), (3, 4)}
    assert np.count_nonzero(gdq & JUMP) == 5


def test_unknown_mode_is_an_error():
    from pipeline_core.errors import ParameterError

    ramps = make_ramps(shape=(1, 4, 4, 4), seed=43)
    with pytest.raises(ParameterError, match="mode='fast' is not a detection mode"):
        detect(ramps, mode="fast")
