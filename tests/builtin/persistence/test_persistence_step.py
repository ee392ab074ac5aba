"""Tests of PersistenceStep: persistence windows opened by saturation or a DN threshold."""

import logging

import asdf
import numpy as np
import pytest

from builtin_steps.persistence import PersistenceStep
from builtin_steps.persistence.windows import mjd_to_epoch
from pipeline_core.datamodels.dqflags import group as GROUP
from pipeline_core.errors import ParameterError, StepError
from tests.builtin import _stepdata as sd

DNU, SAT, PERS = GROUP["DO_NOT_USE"], GROUP["SATURATED"], GROUP["PERSISTENCE"]
TGROUP = 21.47354
START = 59672.47338658912  # MJD


def ramp(nints=2, ngroups=7, ny=1, nx=3, *, detector="NRCA1", start=START):
    model = sd.make_ramp((nints, ngroups, ny, nx), value=100.0, slope=0.0, detector=detector)
    model.meta.exposure.group_time = TGROUP
    model.meta.exposure.integration_time = ngroups * TGROUP
    model.meta.exposure.start_time = start
    return model


def run(model, **params):
    return PersistenceStep.call(model, skip=False, **params)


def group_times(model):
    """Unix time of every group: start + (i * ngroups + g + 1) * TGROUP (contiguous integrations)."""
    nints, ngroups = model.data.shape[:2]
    index = np.arange(nints * ngroups).reshape(nints, ngroups) + 1
    return mjd_to_epoch(model.meta.exposure.start_time) + index * TGROUP


def in_window(times, opened, length):
    """Groups whose time lies in [opened, opened + length]."""
    return (times >= opened - 1e-6) & (times <= opened + length + 1e-6)


@pytest.mark.parametrize("length", [30, 70, 200])
def test_saturation_opens_a_window_across_integrations(length):
    model = ramp()
    model.groupdq[0, 5:, 0, 1] |= SAT
    out = run(model, persistence_time=length)
    times = group_times(model)
    expected = np.where(in_window(times, times[0, 5], length), PERS, 0)
    expected[0, 5:] |= SAT
    np.testing.assert_array_equal(out.groupdq[:, :, 0, 1], expected)
    assert out.groupdq[:, :, 0, 0].sum() == 0 and out.groupdq[:, :, 0, 2].sum() == 0
    assert out.meta.cal_step.persistence == "COMPLETE"


def test_known_flags_for_a_70_second_window():
    model = ramp()
    model.groupdq[0, 5:, 0, 1] |= SAT
    out = run(model, persistence_time=70)
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 1], [0, 0, 0, 0, 0, 34, 34])
    np.testing.assert_array_equal(out.groupdq[1, :, 0, 1], [32, 32, 0, 0, 0, 0, 0])


def test_persistence_dnu_adds_do_not_use():
    model = ramp()
    model.groupdq[0, 5:, 0, 1] |= SAT
    out = run(model, persistence_time=70, persistence_dnu=True)
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 1], [0, 0, 0, 0, 0, 35, 35])
    np.testing.assert_array_equal(out.groupdq[1, :, 0, 1], [33, 33, 0, 0, 0, 0, 0])


def test_dn_threshold_opens_a_window():
    model = ramp()
    model.data[0, :, 0, 1] = 1500.0 * np.arange(1, 8)  # first above 8000 DN: group 5 (9000)
    out = run(model, persistence_time=70, dn_threshold=8000.0)
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 1], [0, 0, 0, 0, 0, 32, 32])
    np.testing.assert_array_equal(out.groupdq[1, :, 0, 1], [32, 32, 0, 0, 0, 0, 0])
    assert out.groupdq[:, :, 0, 0].sum() == 0


def test_dn_threshold_does_not_extend_an_open_window():
    model = ramp(nints=1)
    model.data[0, :2, 0, 0] = 50_000.0  # groups 0 and 1 bright, then faint
    out = run(model, persistence_time=30, dn_threshold=10_000.0)
    # The window opened at group 0 ends 30 s later: group 1 (21.5 s later) is in, group 2 is not.
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 0], [32, 32, 0, 0, 0, 0, 0])


def test_unpropagated_saturation_keeps_the_window_open():
    model = ramp(nints=1)
    model.groupdq[0, 1, 0, 0] = SAT  # one saturated group, none after it
    out = run(model, persistence_time=30)
    # The saturated-group count stays 1, so every later group renews the window.
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 0], [0, 34, 32, 32, 32, 32, 32])


def test_no_bright_pixel_changes_nothing(tmp_path):
    model = ramp()
    before = model.groupdq.copy()
    saved = tmp_path / "windows.asdf"
    out = run(model, persistence_time=70, dn_threshold=1e6, save_persistence=str(saved))
    np.testing.assert_array_equal(out.groupdq, before)
    with asdf.open(saved) as af:
        assert len(af["NRCA1"]["rows"]) == 0 and af["NRCA1"]["pers_time"] == 70


@pytest.mark.parametrize("length", [None, 0, -100])
def test_without_positive_persistence_time_the_step_fails(length, caplog):
    model = ramp()
    model.groupdq[0, 5:, 0, 1] |= SAT
    before = model.groupdq.copy()
    with caplog.at_level(logging.WARNING):
        out = run(model, persistence_time=length)
    assert out.meta.cal_step.persistence == "FAILED"
    np.testing.assert_array_equal(out.groupdq, before)
    assert "persistence_time is" in caplog.text


def test_skipped_by_default():
    step = PersistenceStep()
    assert step.skip is True and step.persistence_time is None and step.dn_threshold is None
    model = ramp()
    model.groupdq[0, 5:, 0, 1] |= SAT
    out = PersistenceStep.call(model, persistence_time=70, skip=True)
    assert out.meta.cal_step.persistence == "SKIPPED"
    assert not (out.groupdq & PERS).any()


def test_windows_carry_over_to_the_next_exposure(tmp_path):
    first = ramp(nints=1)
    first.groupdq[0, 6, 0, 2] |= SAT  # last group saturated: window runs past the exposure's end
    saved = tmp_path / "windows.fits"  # the extension becomes .asdf
    run(first, persistence_time=100, save_persistence=str(saved))
    path = tmp_path / "windows.asdf"
    assert path.exists() and not saved.exists()
    window_end = group_times(first)[0, 6] + 100
    with asdf.open(path) as af:
        entry = af["NRCA1"]
        np.testing.assert_array_equal(entry["rows"], [0])
        np.testing.assert_array_equal(entry["cols"], [2])
        assert entry["vals"][0] == pytest.approx(window_end, abs=1e-6)
        assert entry["filename"] == "test_uncal.fits"

    # The next exposure starts 10 s after the first one's last group.
    start = first.meta.exposure.start_time + (7 * TGROUP + 10) / 86400.0
    second = ramp(nints=1, start=start)
    out = run(second, persistence_time=100, persistence_array_file=str(path))
    times = group_times(second)
    expected = np.where(times[0] <= window_end, PERS, 0)
    assert expected[:4].all() and not expected[4:].any()
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 2], expected)
    assert out.groupdq[0, :, 0, :2].sum() == 0


def test_array_file_keeps_other_detectors(tmp_path):
    path = tmp_path / "windows.asdf"
    for detector, col in (("NRCA1", 1), ("NRCA2", 0)):
        model = ramp(detector=detector)
        model.groupdq[0, 3:, 0, col] |= SAT
        run(model, persistence_time=700, save_persistence=str(path))  # still open at the end
    with asdf.open(path) as af:
        assert af["NRCA1"]["cols"][0] == 1 and af["NRCA2"]["cols"][0] == 0


def test_array_file_with_another_window_length_is_not_used(tmp_path, caplog):
    path = tmp_path / "windows.asdf"
    asdf.AsdfFile(
        {"NRCA1": {"filename": "x", "rows": np.array([0]), "cols": np.array([0]),
                   "vals": np.array([mjd_to_epoch(START) + 60.0]), "pers_time": 80}}
    ).write_to(path)
    with caplog.at_level(logging.INFO):
        out = run(ramp(), persistence_time=70, persistence_array_file=str(path))
    assert out.groupdq.sum() == 0
    assert "does not equal persistence_time" in caplog.text


def test_window_ending_too_late_is_closed(tmp_path, caplog):
    path = tmp_path / "windows.asdf"
    asdf.AsdfFile(
        {"NRCA1": {"filename": "x", "rows": np.array([0, 0]), "cols": np.array([0, 1]),
                   "vals": np.array([mjd_to_epoch(START) + 60.0, mjd_to_epoch(START) + 1e6]),
                   "pers_time": 70}}
    ).write_to(path)
    with caplog.at_level(logging.INFO):
        out = run(ramp(), persistence_time=70, persistence_array_file=str(path))
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 0], [32, 32, 0, 0, 0, 0, 0])
    assert out.groupdq[:, :, 0, 1].sum() == 0
    assert "Backwards flagging found" in caplog.text


def test_missing_array_file_starts_empty(tmp_path):
    model = ramp()
    model.groupdq[0, 5:, 0, 1] |= SAT
    out = run(model, persistence_time=70, persistence_array_file=str(tmp_path / "none.asdf"))
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 1], [0, 0, 0, 0, 0, 34, 34])


def test_unreadable_array_file_is_an_error(tmp_path):
    path = tmp_path / "bad.asdf"
    path.write_text("not asdf")
    with pytest.raises(ParameterError, match="persistence_array_file=.*bad.asdf"):
        run(ramp(), persistence_time=70, persistence_array_file=str(path))


def test_array_file_for_another_subarray_is_an_error(tmp_path):
    path = tmp_path / "windows.asdf"
    asdf.AsdfFile(
        {"NRCA1": {"filename": "x", "rows": np.array([5]), "cols": np.array([0]),
                   "vals": np.array([1.0]), "pers_time": 70}}
    ).write_to(path)
    with pytest.raises(ParameterError, match="outside the data's 1 x 3 pixels"):
        run(ramp(), persistence_time=70, persistence_array_file=str(path))


def test_int_times_table_gives_the_integration_starts():
    model = ramp()
    model.groupdq[0, 5:, 0, 1] |= SAT
    table = np.zeros(2, dtype=[("integration_number", "i4"), ("int_start_MJD_UTC", "f8")])
    table["integration_number"] = [1, 2]
    table["int_start_MJD_UTC"] = [START, START + 1000.0 / 86400.0]  # long pause before integration 2
    model.int_times = table
    out = run(model, persistence_time=70)
    np.testing.assert_array_equal(out.groupdq[0, :, 0, 1], [0, 0, 0, 0, 0, 34, 34])
    assert out.groupdq[1, :, 0, 1].sum() == 0  # the window ended during the pause


def test_missing_timing_is_an_error():
    model = ramp()
    model.meta.exposure.group_time = None
    with pytest.raises(StepError, match="TGROUP"):
        run(model, persistence_time=70)
    model = ramp()
    model.meta.exposure.start_time = None
    with pytest.raises(StepError, match="EXPSTART"):
        run(model, persistence_time=70)
