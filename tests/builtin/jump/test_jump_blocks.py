"""The jump step cut into row blocks (map_row_slices with halo=1) gives the serial result."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.jump import step as jump_step
from builtin_steps.jump.neighbors import flag_after_jumps, flag_four_neighbors
from builtin_steps.jump.step import JumpStep, detect_jumps_in_block
from builtin_steps.jump.twopoint import _all_do_not_use, choose_mode, detect_jumps
from pipeline_core.parallel import rows as parallel
from tests.fixtures.ramps import make_ramps, ramp_model, write_gain_readnoise

DNU, SAT, JUMP = 1, 2, 4
NO_GAIN_DNU = (1 << 19) | 1

pytestmark = pytest.mark.usefixtures("at_least_two_cpus", "no_shared_memory_leaks")


def _boundary_rows(ny, blocks_per_worker, workers=2):
    """The first and last row of every block map_row_slices makes (on threads: even blocks)."""
    bounds = parallel._row_bounds(ny, workers * blocks_per_worker, 1)
    return sorted({row for start, stop in bounds for row in (start, stop - 1)})


def _exposure(tmp_path, shape, *, seed, boundaries, bad_gain=(), pixeldq_bits=True):
    """Ramps with random jumps, large jumps on block-boundary rows, and bad gains."""
    ramps = make_ramps(shape=shape, rate=(1.0, 200.0), jump_fraction=0.01, jump_sigma=(12.0, 200.0), seed=seed)
    nints, ngroups, ny, nx = shape
    rng = np.random.default_rng(seed + 1)
    for row in boundaries:
        for _ in range(2):
            col = int(rng.integers(0, nx))
            group = int(rng.integers(2, ngroups))
            integ = int(rng.integers(0, nints))
            ramps.data[integ, group:, row, col] += np.float32(rng.uniform(300.0, 3000.0))
    # a few saturated and DO_NOT_USE groups, some next to jumps
    ramps.groupdq[0, -2:, boundaries[1], :5] |= SAT
    ramps.groupdq[:, 0, boundaries[2], 3:9] |= DNU
    gain = ramps.gain.copy()
    for (y, x), value in zip(bad_gain, [0.0, np.nan, -1.0] * len(bad_gain)):
        gain[y, x] = value
    if pixeldq_bits:
        ramps.pixeldq[::7, ::5] = 1 << 10
    refs = write_gain_readnoise(tmp_path, gain, ramps.readnoise)
    return ramps, ramp_model(ramps), refs, gain


@pytest.fixture
def block_calls(monkeypatch):
    """Record (kernel, workers, blocks, halo) of every parallel map_row_slices call (on threads)."""
    calls = []
    original, run_on_threads = parallel._run_threads, parallel.run_on_threads

    def spy(kernel, inputs, kwargs, row_axis, rows, halo, workers, *rest):
        readers = {key: value for key, value in inputs.items() if parallel._is_reader(value)}
        # the references are read block by block, from their files
        assert sorted(readers) == ["gain", "readnoise"]
        assert all(type(reader).__name__ == "ReferenceRows" for reader in readers.values())
        # the new flags are written over the step's copy of the model's flags
        assert rest[-1] == {"groupdq": "groupdq", "pixeldq": "pixeldq"}
        calls.append([kernel.__name__, workers, None, halo])
        return original(kernel, inputs, kwargs, row_axis, rows, halo, workers, *rest)

    def count(run, blocks, threads, name):
        calls[-1][2] = blocks
        return run_on_threads(run, blocks, threads, name)

    monkeypatch.setattr(parallel, "_run_threads", spy)
    monkeypatch.setattr(parallel, "run_on_threads", count)
    return calls


def _run(model, refs, maximum_cores, **params):
    return JumpStep(maximum_cores=maximum_cores, **refs, **params).run(model)


def _whole_array_truth(ramps, gain, *, rules=(), **params):
    """What the step must give: the kernels called on the whole arrays, counted as before."""
    groupdq = ramps.groupdq
    options = {
        "mode": choose_mode(groupdq),
        "nframes": ramps.nframes,
        "flag_4_neighbors": params.get("flag_4_neighbors", True),
    }
    result = detect_jumps(ramps.data, groupdq, gain, ramps.readnoise, **options)
    new = result["groupdq"]
    primary = int(np.count_nonzero(new & JUMP)) - int(np.count_nonzero(groupdq & JUMP))
    if options["flag_4_neighbors"]:
        flag_four_neighbors(new, result["neighbor_seed"])
    if rules:
        flag_after_jumps(new, ramps.data, gain, ramps.readnoise, nframes=ramps.nframes, rules=list(rules))
    bad = ~(gain > 0)
    pixeldq = ramps.pixeldq | np.where(bad, np.uint32(NO_GAIN_DNU), np.uint32(0))
    nints, ngroups, ny, nx = groupdq.shape
    # as in JWST, groups DO_NOT_USE in every pixel do not count towards the exposure time
    unusable = int(np.all((groupdq & DNU) != 0, axis=(2, 3)).sum())
    rate = 1000.0 * primary / (ramps.group_time * (nints * ngroups - nints - unusable) * ny * nx)
    return new, pixeldq, primary, rate


def _assert_identical(serial, parallel_result):
    assert serial.groupdq.dtype == parallel_result.groupdq.dtype == np.uint8
    assert serial.pixeldq.dtype == parallel_result.pixeldq.dtype == np.uint32
    np.testing.assert_array_equal(parallel_result.groupdq, serial.groupdq)
    np.testing.assert_array_equal(parallel_result.pixeldq, serial.pixeldq)
    assert (
        parallel_result.meta.exposure.primary_cosmic_rays == serial.meta.exposure.primary_cosmic_rays
    )


@pytest.mark.parametrize(
    ("shape", "blocks_per_worker", "mode"),
    [
        ((1, 10, 64, 64), 100, "iterative"),  # one-row blocks: every row is an edge
        ((2, 8, 64, 48), 5, "iterative"),
        ((1, 12, 64, 40), 16, "single_pass"),
    ],
)
def test_blocks_give_the_serial_flags(tmp_path, monkeypatch, block_calls, shape, blocks_per_worker, mode):
    monkeypatch.setattr(parallel, "BLOCKS_PER_WORKER", blocks_per_worker)
    ny, nx = shape[-2:]
    boundaries = _boundary_rows(ny, blocks_per_worker)
    assert len(boundaries) > 8
    bad = [(boundaries[3], 0), (boundaries[4], nx - 1), (boundaries[5], 7), (0, 5), (ny - 1, 2)]
    ramps, model, refs, gain = _exposure(tmp_path, shape, seed=61, boundaries=boundaries, bad_gain=bad)
    assert choose_mode(ramps.groupdq) == mode
    serial = _run(model, refs, "none")
    assert block_calls == []
    blocks = _run(model, refs, "2")
    assert block_calls == [["detect_jumps_in_block", 2, len(parallel._row_bounds(ny, 2 * blocks_per_worker, 1)), 1]]
    _assert_identical(serial, blocks)
    # one process, the rows in blocks (as for inputs over SERIAL_BLOCK_BYTES): the same
    monkeypatch.setattr(parallel, "SERIAL_BLOCK_BYTES", ramps.data.nbytes // 5)
    _assert_identical(serial, _run(model, refs, "none"))

    groupdq, pixeldq, primary, rate = _whole_array_truth(ramps, gain)
    np.testing.assert_array_equal(serial.groupdq, groupdq)
    np.testing.assert_array_equal(serial.pixeldq, pixeldq)
    assert serial.meta.exposure.primary_cosmic_rays == pytest.approx(rate, rel=1e-12)
    assert primary > 50
    # neighbour flags cross block edges: jumps on a boundary row flag the next block's row
    jumps_only = detect_jumps(
        ramps.data, ramps.groupdq, gain, ramps.readnoise, mode=mode, flag_4_neighbors=False
    )["groupdq"]
    neighbours = (groupdq & JUMP) & ~(jumps_only & JUMP)
    rows_with_neighbours = set(np.nonzero(neighbours)[2].tolist())
    assert len(rows_with_neighbours & set(boundaries)) >= 4
    # bad gains: NO_GAIN_VALUE | DO_NOT_USE there (on top of the bits already set), nowhere else
    for result in (serial, blocks):
        flagged = (result.pixeldq & NO_GAIN_DNU) == NO_GAIN_DNU
        assert sorted(zip(*np.nonzero(flagged))) == sorted(bad)
        np.testing.assert_array_equal(result.pixeldq & ~np.uint32(NO_GAIN_DNU), ramps.pixeldq)
    # the caller's model is untouched
    np.testing.assert_array_equal(model.groupdq, ramps.groupdq)
    np.testing.assert_array_equal(model.pixeldq, ramps.pixeldq)


def test_after_jump_flagging_is_the_same_in_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "BLOCKS_PER_WORKER", 50)
    shape = (1, 10, 64, 64)
    boundaries = _boundary_rows(64, 50)
    ramps, model, refs, gain = _exposure(tmp_path, shape, seed=62, boundaries=boundaries, bad_gain=[(10, 10)])
    params = {
        "after_jump_flag_dn1": 50.0,
        "after_jump_flag_time1": 2.5 * ramps.group_time,  # two groups
        "after_jump_flag_dn2": 1000.0,
        "after_jump_flag_time2": 4.5 * ramps.group_time,  # four groups
    }
    base = _run(model, refs, "none")
    serial = _run(model, refs, "none", **params)
    blocks = _run(model, refs, "2", **params)
    _assert_identical(serial, blocks)
    assert np.count_nonzero(serial.groupdq & JUMP) > np.count_nonzero(base.groupdq & JUMP)
    # the primary count does not include groups flagged after jumps
    assert serial.meta.exposure.primary_cosmic_rays == base.meta.exposure.primary_cosmic_rays
    rules = [(50.0, 2), (1000.0, 4)]
    groupdq, pixeldq, _, _ = _whole_array_truth(ramps, gain, rules=rules)
    np.testing.assert_array_equal(blocks.groupdq, groupdq)
    np.testing.assert_array_equal(blocks.pixeldq, pixeldq)


def test_neighbours_switched_off_in_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "BLOCKS_PER_WORKER", 50)
    boundaries = _boundary_rows(64, 50)
    ramps, model, refs, gain = _exposure(tmp_path, (1, 8, 64, 32), seed=63, boundaries=boundaries)
    serial = _run(model, refs, "none", flag_4_neighbors=False)
    blocks = _run(model, refs, "2", flag_4_neighbors=False)
    _assert_identical(serial, blocks)
    groupdq, _, _, _ = _whole_array_truth(ramps, gain, flag_4_neighbors=False)
    np.testing.assert_array_equal(blocks.groupdq, groupdq)


def test_a_jump_on_a_block_edge_flags_both_neighbours(tmp_path, monkeypatch):
    # one-row blocks; a single large jump at (row 20, col 10): its neighbours on rows 19
    # and 21 are in other blocks, computed by whichever process
    monkeypatch.setattr(parallel, "BLOCKS_PER_WORKER", 100)
    ramps = make_ramps(shape=(1, 8, 40, 24), rate=20.0, seed=64)
    ramps.data[0, 4:, 20, 10] += 1500.0
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    model = ramp_model(ramps)
    results = [_run(model, refs, cores) for cores in ("none", "2")]
    _assert_identical(*results)
    for result in results:
        flagged = set(map(tuple, np.argwhere(result.groupdq[0, 4, 18:23, 8:13] & JUMP).tolist()))
        assert flagged == {(1, 2), (2, 1), (2, 2), (2, 3), (3, 2)}  # the jump and its four neighbours
        assert not np.any(result.groupdq[0, [3, 5], 18:23, 8:13] & JUMP)


# --------------------------------------------------------------------------------------
# The block kernel itself
# --------------------------------------------------------------------------------------


def test_detect_jumps_in_block_outputs():
    ramps = make_ramps(shape=(2, 6, 10, 7), rate=20.0, seed=65)
    ramps.data[1, 3:, 4, 2] += 2000.0
    ramps.data[0, 2:, 7, 6] += 2000.0
    gain = ramps.gain.copy()
    gain[0, 0], gain[9, 6] = 0.0, np.nan
    pixeldq = np.zeros((10, 7), np.uint32)
    pixeldq[0, 1] = 1 << 10
    groupdq = ramps.groupdq.copy()
    out = detect_jumps_in_block(
        ramps.data, groupdq, pixeldq, gain, ramps.readnoise, mode="iterative", nframes=1
    )
    assert set(out) == {"groupdq", "pixeldq", "new_jumps"}
    np.testing.assert_array_equal(groupdq, ramps.groupdq)  # inputs untouched
    assert out["new_jumps"].shape == (10, 1) and out["new_jumps"].dtype == np.int64
    expected_rows = np.zeros((10, 1), np.int64)
    expected_rows[4] = expected_rows[7] = 1
    np.testing.assert_array_equal(out["new_jumps"], expected_rows)
    assert out["groupdq"][1, 3, 4, 2] & JUMP and out["groupdq"][0, 2, 7, 6] & JUMP
    assert out["groupdq"][1, 3, 3, 2] & JUMP and out["groupdq"][1, 3, 5, 2] & JUMP  # neighbours
    assert out["pixeldq"].dtype == np.uint32
    expected = pixeldq.copy()
    expected[0, 0] = expected[9, 6] = NO_GAIN_DNU
    np.testing.assert_array_equal(out["pixeldq"], expected)


def test_detect_jumps_in_block_with_halo_rows_matches_whole():
    # a block with one extra row on each side, its own rows kept: equal to the whole result
    ramps = make_ramps(shape=(1, 8, 24, 16), rate=(1.0, 100.0), jump_fraction=0.03, seed=66)
    options = {"mode": "iterative", "nframes": 1, "after_jump_rules": [(20.0, 2)]}
    args = (ramps.data, ramps.groupdq, ramps.pixeldq, ramps.gain, ramps.readnoise)
    whole = detect_jumps_in_block(*args, **options)
    for start, stop in [(0, 5), (5, 6), (6, 13), (13, 24)]:
        lo, hi = max(0, start - 1), min(24, stop + 1)
        part = detect_jumps_in_block(*(a[..., lo:hi, :] for a in args), **options)
        for key in whole:
            np.testing.assert_array_equal(part[key][..., start - lo : stop - lo, :], whole[key][..., start:stop, :])


# --------------------------------------------------------------------------------------
# choose_mode and groups flagged DO_NOT_USE everywhere
# --------------------------------------------------------------------------------------


def _old_choose_mode(groupdq, minimum_groups=3, minimum_sigclip_groups=100, only_use_ints=True, min_diffs_single_pass=10):
    """choose_mode as it was: every pixel of every group checked."""
    nints, ngroups = groupdq.shape[:2]
    per_int = np.all((groupdq & DNU) != 0, axis=(2, 3)).sum(axis=1)
    min_usable = ngroups - int(per_int.max(initial=0))
    total = nints * ngroups - int(per_int.sum())
    if (nints if only_use_ints else total) >= minimum_sigclip_groups:
        return "sigma_clip"
    if min_usable < minimum_groups:
        return "skip"
    if min_usable - 1 >= min_diffs_single_pass:
        return "single_pass"
    return "iterative"


def test_all_do_not_use():
    plane = np.full((3, 4), DNU | SAT, np.uint8)
    assert _all_do_not_use(plane)
    plane[0, 0] = SAT  # first pixel clear
    assert not _all_do_not_use(plane)
    plane[0, 0] = DNU
    plane[2, 3] = 0  # first pixel set, another clear
    assert not _all_do_not_use(plane)
    assert _all_do_not_use(np.zeros((0, 4), np.uint8))  # no pixel: vacuously all
    assert not _all_do_not_use(np.array([[JUMP]], np.uint8))
    # a view whose first element is not the base's first
    base = np.full((4, 4), DNU, np.uint8)
    base[0, 0] = 0
    assert _all_do_not_use(base[1:, 1:]) and not _all_do_not_use(base[::-1, ::-1])


@pytest.mark.parametrize(
    ("first_pixel_clear", "expected"), [(False, "iterative"), (True, "single_pass")]
)
def test_choose_mode_with_groups_all_do_not_use(first_pixel_clear, expected):
    # 12 groups; groups 0 and 11 unusable everywhere leave 9 differences (iterative);
    # group 11 with only its first pixel usable is not all DO_NOT_USE (10: single pass)
    gdq = np.zeros((1, 12, 5, 6), np.uint8)
    gdq[:, 0] = DNU
    gdq[:, 11] = DNU | SAT
    if first_pixel_clear:
        gdq[0, 11, 0, 0] = SAT
    assert choose_mode(gdq) == expected == _old_choose_mode(gdq)


@pytest.mark.parametrize(("clear", "expected"), [(None, "skip"), ((0, 0), "iterative"), ((4, 5), "iterative")])
def test_choose_mode_skip_depends_on_every_pixel(clear, expected):
    gdq = np.zeros((2, 4, 5, 6), np.uint8)
    gdq[1, :2] = DNU  # two groups of the second integration unusable: 2 left < 3
    if clear is not None:
        gdq[1, 1][clear] = 0
    assert choose_mode(gdq) == expected == _old_choose_mode(gdq)


def test_choose_mode_matches_the_full_check_on_random_flags():
    rng = np.random.default_rng(67)
    for trial in range(300):
        nints = int(rng.integers(1, 4))
        ngroups = int(rng.integers(3, 15))
        gdq = np.zeros((nints, ngroups, 3, 4), np.uint8)
        for i in range(nints):
            for g in range(ngroups):
                kind = rng.integers(0, 4)
                if kind == 1:  # all DO_NOT_USE
                    gdq[i, g] = DNU
                elif kind == 2:  # all but one random pixel
                    gdq[i, g] = DNU
                    gdq[i, g, rng.integers(0, 3), rng.integers(0, 4)] = SAT
                elif kind == 3:  # only the first pixel
                    gdq[i, g, 0, 0] = DNU
        kwargs = {"minimum_groups": 3, "min_diffs_single_pass": int(rng.integers(2, 12))}
        assert choose_mode(gdq, **kwargs) == _old_choose_mode(gdq, **kwargs), trial


def test_step_counts_the_same_with_groups_all_do_not_use(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "BLOCKS_PER_WORKER", 20)
    ramps = make_ramps(shape=(1, 9, 40, 24), rate=(1.0, 100.0), jump_fraction=0.01, jump_sigma=(15.0, 100.0), seed=68)
    ramps.groupdq[:, 0] |= DNU
    refs = write_gain_readnoise(tmp_path, ramps.gain, ramps.readnoise)
    model = ramp_model(ramps)
    serial = _run(model, refs, "none")
    blocks = _run(model, refs, "2")
    _assert_identical(serial, blocks)
    _, _, primary, rate = _whole_array_truth(ramps, ramps.gain)
    assert primary > 0 and serial.meta.exposure.primary_cosmic_rays == pytest.approx(rate, rel=1e-12)
    assert jump_step.NO_GAIN_VALUE == 1 << 19
