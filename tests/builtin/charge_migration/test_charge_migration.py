"""Tests of ChargeMigrationStep and its kernel."""

import logging

import numpy as np
import pytest

from builtin_steps.charge_migration import ChargeMigrationStep
from builtin_steps.charge_migration.flag import flag_charge_migration
from pipeline_core.datamodels.dqflags import group as GROUP
from tests.builtin import _stepdata as sd

DNU, SAT, JUMP, CHLO = GROUP["DO_NOT_USE"], GROUP["SATURATED"], GROUP["JUMP_DET"], GROUP["CHARGELOSS"]
FLAG = CHLO | DNU


def _ramp(shape=(2, 5, 6, 7)):
    ramp = sd.make_ramp(shape, value=1000.0, slope=1000.0)  # 1000, 2000, ... DN
    return ramp


def _expected(data, gdq, threshold):
    """Reference rule written pixel by pixel."""
    out = gdq.copy()
    nints, ngroups, ny, nx = data.shape
    for i, g, y, x in np.ndindex(data.shape):
        if data[i, g, y, x] > threshold and gdq[i, g, y, x] != DNU:
            for yy, xx in ((y, x), (y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= yy < ny and 0 <= xx < nx:
                    out[i, g:, yy, xx] |= FLAG
    return out


def test_bright_pixel_and_its_four_neighbours_flagged_from_crossing_on():
    ramp = _ramp()
    ramp.data[0, :, 2, 3] = [10_000, 20_000, 30_000, 40_000, 50_000]
    out = ChargeMigrationStep.call(ramp, skip=False, signal_threshold=25_000)
    gdq = out.groupdq
    for y, x in ((2, 3), (1, 3), (3, 3), (2, 2), (2, 4)):
        np.testing.assert_array_equal(gdq[0, :, y, x], [0, 0, FLAG, FLAG, FLAG])
    assert gdq[0, :, 1, 2].sum() == 0  # diagonal neighbour untouched
    assert gdq[1].sum() == 0  # other integration untouched
    assert np.count_nonzero(gdq) == 5 * 3
    assert out.meta.cal_step.charge_migration == "COMPLETE"


def test_random_ramps_match_the_pixel_by_pixel_rule():
    rng = np.random.default_rng(42)
    data = rng.uniform(0, 30_000, (2, 6, 9, 11)).astype(np.float32)
    data[0, 2, 3, 3] = np.nan
    gdq = rng.choice(np.array([0, DNU, SAT, DNU | SAT, JUMP], np.uint8), size=data.shape, p=[0.7, 0.1, 0.1, 0.05, 0.05])
    expected = _expected(data, gdq, 25_000.0)
    got = gdq.copy()
    changed = flag_charge_migration(data, got, 25_000.0, do_not_use=DNU, chargeloss=CHLO)
    np.testing.assert_array_equal(got, expected)
    assert changed == np.count_nonzero(got != gdq)


def test_group_flagged_exactly_do_not_use_does_not_start_flagging():
    data = np.full((1, 3, 3, 3), 100.0, np.float32)
    data[0, 1, 1, 1] = 50_000
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 1, 1, 1] = DNU
    flag_charge_migration(data, gdq, 25_000, do_not_use=DNU, chargeloss=CHLO)
    assert gdq[0, :, 0, 1].sum() == 0
    gdq[0, 1, 1, 1] = DNU | SAT  # not exactly DO_NOT_USE: starts the flagging
    flag_charge_migration(data, gdq, 25_000, do_not_use=DNU, chargeloss=CHLO)
    np.testing.assert_array_equal(gdq[0, :, 0, 1], [0, FLAG, FLAG])
    np.testing.assert_array_equal(gdq[0, :, 1, 1], [0, DNU | SAT | CHLO, FLAG])


def test_all_saturated_pixel_above_threshold_flagged_from_first_group():
    ramp = _ramp((1, 3, 4, 4))
    ramp.data[0, :, 0, 0] = 60_000
    ramp.groupdq[0, :, 0, 0] = SAT
    out = ChargeMigrationStep.call(ramp, skip=False)
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 0], SAT | FLAG)
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 1], FLAG)
    np.testing.assert_array_equal(out.groupdq[0, :, 1, 0], FLAG)  # edges: no wrap-around
    assert out.groupdq[0, :, 3, 0].sum() == 0


@pytest.mark.parametrize("ngroups", [1, 2])
def test_fewer_than_three_groups_skipped(ngroups, caplog):
    ramp = _ramp((1, ngroups, 4, 4))
    ramp.data[...] = 60_000
    with caplog.at_level(logging.INFO):
        out = ChargeMigrationStep.call(ramp, skip=False)
    assert out.meta.cal_step.charge_migration == "SKIPPED"
    assert out.groupdq.sum() == 0
    assert "Too few groups" in caplog.text


def test_skipped_by_default():
    ramp = _ramp((1, 3, 4, 4))
    ramp.data[...] = 60_000
    step = ChargeMigrationStep()
    assert step.skip is True and step.signal_threshold == 25_000.0
    out = ChargeMigrationStep.call(ramp, skip=True)
    assert out.meta.cal_step.charge_migration == "SKIPPED"
    assert out.groupdq.sum() == 0


def test_nothing_above_threshold_changes_nothing():
    ramp = _ramp((1, 4, 5, 5))
    out = ChargeMigrationStep.call(ramp, skip=False, signal_threshold=1e6)
    assert out.groupdq.sum() == 0
    assert out.meta.cal_step.charge_migration == "COMPLETE"
