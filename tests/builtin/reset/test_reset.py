"""Tests of ResetStep: the reset anomaly of each integration and group is subtracted exactly."""

import logging

import numpy as np
import pytest

from builtin_steps.reset import ResetStep
from builtin_steps.reset.subtract import subtract_reset
from pipeline_core.datamodels import RampModel, ResetModel
from pipeline_core.errors import ReferenceFileError

SHAPE = (3, 5, 4, 6)  # nints, ngroups, ny, nx


def miri_ramp(shape=SHAPE, detector="MIRIMAGE"):
    rng = np.random.default_rng(7)
    model = RampModel(data=rng.uniform(1000.0, 2000.0, shape).astype(np.float32))
    meta = model.meta
    meta.instrument.name = "MIRI" if detector.startswith("MIR") else "NIRCAM"
    meta.instrument.detector = detector
    meta.exposure.readpatt = "FASTR1"
    meta.exposure.nints, meta.exposure.ngroups = shape[0], shape[1]
    meta.subarray.name = "MASK1065"
    meta.subarray.xstart, meta.subarray.ystart = 1, 1
    meta.subarray.ysize, meta.subarray.xsize = shape[2:]
    return model


def reset_file(tmp_path, data, dq=None, *, nints=None, ngroups=None):
    data = np.asarray(data, np.float32)
    dq = np.zeros(data.shape[-2:], np.uint32) if dq is None else dq
    ref = ResetModel(data=data, dq=dq)
    ref.meta.instrument.name, ref.meta.instrument.detector = "MIRI", "MIRIMAGE"
    ref.meta.exposure.nints = data.shape[0] if nints is None else nints
    ref.meta.exposure.ngroups = data.shape[1] if ngroups is None else ngroups
    ref.meta.subarray.name = "MASK1065"
    ref.meta.subarray.xstart, ref.meta.subarray.ystart = 1, 1
    ref.meta.subarray.ysize, ref.meta.subarray.xsize = data.shape[-2:]
    path = tmp_path / "reset.fits"
    ref.save(str(path))
    return str(path)


def test_reset_subtracted_per_integration_and_group(tmp_path):
    ramp = miri_ramp()
    reset = np.arange(2 * 3 * 4 * 6, dtype=np.float32).reshape(2, 3, 4, 6)
    reset[0, 1, 2, 3] = np.nan  # NaN subtracts nothing
    dq = np.zeros((4, 6), np.uint32)
    dq[1, 1] = 1 << 9
    out = ResetStep.call(ramp, override_reset=reset_file(tmp_path, reset, dq))
    expected = ramp.data.copy()
    expected[0, :3] -= np.nan_to_num(reset[0])
    expected[1, :3] -= reset[1]
    expected[2, :3] -= reset[1]  # beyond the reference's integrations: its last one
    np.testing.assert_array_equal(out.data, expected)
    assert out.pixeldq[1, 1] == 1 << 9
    assert out.meta.cal_step.reset == "COMPLETE"


def test_segment_starts_at_its_integration(tmp_path):
    ramp = miri_ramp()
    ramp.meta.exposure.integration_start = 2
    reset = np.stack([np.full((5, 4, 6), v, np.float32) for v in (1.0, 2.0, 3.0)])
    out = ResetStep.call(ramp, override_reset=reset_file(tmp_path, reset))
    offsets = np.broadcast_to(-np.array([2.0, 3.0, 3.0])[:, None, None, None], SHAPE)
    np.testing.assert_allclose(out.data - ramp.data, offsets)


def test_groups_limited_by_reference_ngroups_keyword(tmp_path):
    ramp = miri_ramp()
    reset = np.ones((1, 5, 4, 6), np.float32)
    out = ResetStep.call(ramp, override_reset=reset_file(tmp_path, reset, ngroups=2))
    np.testing.assert_array_equal((ramp.data - out.data)[:, :, 0, 0], [[1, 1, 0, 0, 0]] * 3)


def test_kernel_single_group():
    data = np.full((2, 1, 2, 2), 10.0, np.float32)
    subtract_reset(data, np.full((1, 4, 2, 2), 3.0, np.float32), ngroups=4, nints=1)
    assert (data == 7.0).all()


@pytest.mark.parametrize(("detector", "override"), [("NRCA1", None), ("MIRIMAGE", "N/A")])
def test_not_applicable_is_skipped_unchanged(tmp_path, detector, override, caplog):
    ramp = miri_ramp(detector=detector)
    with caplog.at_level(logging.WARNING):
        out = ResetStep.call(ramp, override_reset=override or reset_file(tmp_path, np.ones((1, 5, 4, 6))))
    assert out.meta.cal_step.reset == "SKIPPED"
    np.testing.assert_array_equal(out.data, ramp.data)


def test_reference_of_another_subarray_is_a_clear_error(tmp_path):
    ramp = miri_ramp()
    with pytest.raises(ReferenceFileError, match=r"RESET reference file .* cannot calibrate them"):
        ResetStep.call(ramp, override_reset=reset_file(tmp_path, np.ones((1, 5, 3, 3))))
