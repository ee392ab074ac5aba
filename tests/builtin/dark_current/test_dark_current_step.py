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


def _never_whole(monkeypatch):
    from pipeline_core.datamodels.deferred import DeferredImage

    whole = DeferredImage.read

    def refuse_cubes(self):
        if self.ndim > 2:
            raise AssertionError(f"the whole {self.shape} dark was read")
        return whole(self)

    monkeypatch.setattr(DeferredImage, "read", refuse_cubes)


def test_dark_is_read_group_by_group_never_whole(tmp_path, monkeypatch):
    from builtin_steps.dark_current.subtract import average_dark, subtract_dark

    rng = np.random.default_rng(3)
    dark = rng.normal(size=(12, 8, 8)).astype(np.float32)
    dark[5, 2, 3] = np.nan
    ramp = sd.make_ramp(shape=(2, 4, 8, 8), slope=0.0)
    ramp.meta.exposure.nframes, ramp.meta.exposure.groupgap = 2, 1
    expected = ramp.data.copy()
    subtract_dark(expected, np.zeros((8, 8), np.uint32), average_dark(dark, ngroups=4, nframes=2, groupgap=1))
    path = sd.dark(tmp_path, dark)
    _never_whole(monkeypatch)
    out = DarkCurrentStep.call(ramp, override_dark=path)
    np.testing.assert_array_equal(out.data, expected)


def test_full_frame_dark_is_cut_to_the_subarray_and_its_dq_ored(tmp_path, monkeypatch):
    dark = np.zeros((4, 40, 50), np.float32)
    dark[:, 12:20, 21:29] = np.arange(4, dtype=np.float32)[:, None, None] + 1
    dq = np.zeros((40, 50), np.uint32)
    dq[12, 21] = 8
    model = sd.DarkModel(data=dark, dq=dq)
    model.meta.exposure.nframes, model.meta.exposure.groupgap, model.meta.exposure.ngroups = 1, 0, 4
    path = sd.save_ref(tmp_path, model, "dark", window=(1, 1))
    _never_whole(monkeypatch)
    out = DarkCurrentStep.call(sd.make_ramp(slope=0.0, window=(22, 13)), override_dark=path)
    np.testing.assert_array_equal(out.data[0, :, 0, 0], [999, 998, 997, 996])
    assert out.pixeldq[0, 0] == 8 and out.pixeldq[0, 1] == 0


def test_dark_with_integrations_serves_later_science_integrations_with_its_last(tmp_path):
    dark = np.stack([_dark(4), _dark(4) + 10])
    ramp = sd.make_ramp(shape=(3, 4, 8, 8), slope=0.0)
    out = DarkCurrentStep.call(ramp, override_dark=sd.dark(tmp_path, dark))
    np.testing.assert_array_equal(out.data[:, 1, 0, 0], [999, 989, 989])


def test_dark_not_covering_the_subarray_is_a_clear_error(tmp_path):
    from pipeline_core.errors import ReferenceFileError

    path = sd.dark(tmp_path, _dark(), window=(1, 1))
    with pytest.raises(ReferenceFileError, match="dark reference .* does not contain the science subarray"):
        DarkCurrentStep.call(sd.make_ramp(), override_dark=path)


def test_reference_of_another_type_is_refused(tmp_path):
    from pipeline_core.errors import ReferenceFileError

    path = sd.gain(tmp_path, np.ones((8, 8)))
    with pytest.raises(ReferenceFileError, match="GAIN reference file.*DARK"):
        DarkCurrentStep.call(sd.make_ramp(), override_dark=path)
