"""MIRI shower flagging on ramps with a known faint extended event (kernel level)."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.jump.showers import ShowerOptions, flag_showers, usable_differences
from tests.fixtures.ramps import make_ramps

DNU, SAT, JUMP = 1, 2, 4
REFERENCE_PIXEL = 1 << 31
GROUP_TIME = 2.775  # MIRI full-frame FASTR1 group time (s)
CENTRE = (48, 45)


def _radius(shape=(96, 96), centre=CENTRE):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.hypot(yy - centre[0], xx - centre[1])


def _shower_ramps(*, shape=(1, 20, 96, 96), group=8, integration=0, amplitude=20.0, radius=12.0, seed=81):
    """Ramps (read noise 10 DN per difference) with a faint disc appearing at `group`."""
    ramps = make_ramps(shape=shape, rate=1.0, group_time=GROUP_TIME, seed=seed)
    if amplitude:
        disc = _radius(shape[-2:]) <= radius
        ramps.data[integration, group:][:, disc] += np.float32(amplitude)  # 2 sigma per pixel
    return ramps


def _run(ramps, **options):
    params = {"groups_masked_after": 5, "max_amplitude": 4.0 * GROUP_TIME}
    params.update(options)
    return flag_showers(
        ramps.data, ramps.groupdq, ramps.pixeldq, ramps.gain, ramps.readnoise, ShowerOptions(**params)
    )


def test_known_shower_is_flagged_for_the_masked_time():
    ramps = _shower_ramps()
    before = ramps.groupdq.copy()
    groupdq, count = _run(ramps)
    assert count == 1
    np.testing.assert_array_equal(ramps.groupdq, before)  # input untouched
    flagged = (groupdq[0] & JUMP) != 0
    r = _radius()
    for group in range(20):
        if 8 <= group <= 13:  # the shower's group and 15 s // 2.775 s = 5 groups after it
            assert np.all(flagged[group][r <= 11]), group  # covers the shower (radius 12)
            assert not np.any(flagged[group][r > 17]), group  # and little beyond it
        else:
            assert not np.any(flagged[group]), group


def test_only_the_shower_group_without_masked_time():
    groupdq, count = _run(_shower_ramps(), groups_masked_after=0)
    assert count == 1
    assert np.flatnonzero(np.any(groupdq[0] & JUMP, axis=(1, 2))).tolist() == [8]


def test_noise_alone_gives_no_shower():
    ramps = _shower_ramps(amplitude=0.0)
    groupdq, count = _run(ramps)
    assert count == 0
    np.testing.assert_array_equal(groupdq, ramps.groupdq)


def test_a_shower_too_small_is_not_flagged():
    groupdq, count = _run(_shower_ramps(radius=4.0))  # area ~ 50 < extend_min_area=90
    assert count == 0 and not np.any(groupdq & JUMP)


def test_flags_are_undone_where_the_rate_would_change_too_much():
    ramps = _shower_ramps()
    groupdq, count = _run(ramps, max_amplitude=0.0)
    assert count == 1  # found, but every flagged pixel changes its mean difference
    np.testing.assert_array_equal(groupdq, ramps.groupdq)


def test_flagged_groups_and_pixels_are_left_out_and_kept():
    ramps = _shower_ramps()
    ramps.groupdq[0, 9:, 48, 45] = SAT  # saturated inside the shower: never a jump
    ramps.pixeldq[40:56, 40] = REFERENCE_PIXEL  # reference pixels: never flagged
    groupdq, count = _run(ramps)
    assert count == 1
    assert np.all(groupdq[0, 9:, 48, 45] == SAT)
    assert not np.any(groupdq[0, :, 40:56, 40] & JUMP)
    assert np.all(groupdq[0, 8:14, 40:56, 41] & JUMP)


@pytest.mark.parametrize(
    ("shape", "dnu_groups"), [((1, 6, 96, 96), []), ((1, 12, 96, 96), [0, 11])]
)
def test_too_few_differences(shape, dnu_groups):
    ramps = _shower_ramps(shape=shape, group=3)
    ramps.groupdq[:, dnu_groups] = DNU
    assert usable_differences(ramps.groupdq) < 10
    groupdq, count = _run(ramps)
    assert count == 0
    np.testing.assert_array_equal(groupdq, ramps.groupdq)


def test_many_integrations_use_clipped_statistics_across_integrations():
    ramps = _shower_ramps(shape=(8, 5, 96, 96), group=2, integration=3, amplitude=30.0)
    ramps.groupdq[5, :, 3, 7] = DNU  # NaN differences in the clipped statistics
    groupdq, count = _run(ramps, minimum_sigclip_groups=5, groups_masked_after=1, max_amplitude=np.inf)
    assert count == 1
    flagged = (groupdq & JUMP) != 0
    assert np.all(flagged[3, 2:4][:, _radius() <= 11])
    assert not np.any(flagged[[0, 1, 2, 4, 5, 6, 7]]) and not np.any(flagged[3, [0, 1, 4]])
