"""Tests of DarkCurrentStep."""

import numpy as np
import pytest

from builtin_steps.dark_current.step import DarkCurrentStep
from tests.builtin import _stepdata as sd


def _dark(n=10):
    return np.arange(n, dtype=np.float32)[:, None, None] * np.ones((1, 8, 8), np.float32)


def test_dark_subtracted_group_by_group_and_average_recorded(tmp_path):
    out = DarkCurrentStep.call(sd.make_ramp(slope=0.0), override_dark=sd.dark(tmp_path, _dark(), average=0.02))
    np.testing.assert_allclose(out.data[0, :, 0, 0], [1000, 999, 998, 997])
    assert out.meta.cal_step.dark_sub == "COMPLETE"
    assert out.meta.exposure.average_dark_current == pytest.approx(0.02)


def test_parameter_overrides_average_dark_current(tmp_path):
    out = DarkCurrentStep.call(
        sd.make_ramp(), override_dark=sd.dark(tmp_path, _dark(), average=0.02), average_dark_current=0.5
    )
    assert out.meta.exposure.average_dark_current == 0.5


def test_frames_averaged_to_science_readout_and_dark_output_saved(tmp_path):
    ramp = sd.make_ramp(slope=0.0)
    ramp.meta.exposure.nframes, ramp.meta.exposure.groupgap = 2, 1
    out = DarkCurrentStep.call(
        ramp, override_dark=sd.dark(tmp_path, _dark(12)), dark_output="used_dark.fits", output_dir=str(tmp_path)
    )
    np.testing.assert_allclose(out.data[0, :, 0, 0], [999.5, 996.5, 993.5, 990.5])
    assert (tmp_path / "used_dark.fits").exists()


def test_too_short_dark_skips_the_step(tmp_path):
    out = DarkCurrentStep.call(sd.make_ramp(), override_dark=sd.dark(tmp_path, _dark(3)))
    assert out.meta.cal_step.dark_sub == "SKIPPED"
    np.testing.assert_allclose(out.data[0, :, 0, 0], [1000, 1010, 1020, 1030])
