"""Tests of DQInitStep."""

import numpy as np
import pytest
from astropy.io import fits

from builtin_steps.dq_init.step import DQInitStep
from pipeline_core.errors import ParameterError, ReferenceFileError
from tests.builtin import _stepdata as sd


def test_full_frame_mask_is_cut_to_the_subarray(tmp_path):
    full = np.zeros((2048, 2048), np.uint32)
    full[200, 100] = 1 | 1024  # science pixel (0, 0) of the subarray at (101, 201)
    full[207, 107] = 2048
    ramp = sd.make_ramp()
    out = DQInitStep.call(ramp, override_mask=sd.mask(tmp_path, full))
    assert out.pixeldq[0, 0] == 1025 and out.pixeldq[7, 7] == 2048
    assert out.pixeldq.sum() == 1025 + 2048
    assert (out.groupdq[0, :, 0, 0] == 1).all() and out.groupdq.sum() == 4
    assert out.meta.cal_step.dq_init == "COMPLETE"
    assert ramp.pixeldq.sum() == 0  # the caller's model is not modified


def test_mask_not_covering_the_subarray_is_a_clear_error(tmp_path):
    path = sd.mask(tmp_path, np.zeros((16, 16), np.uint32), window=(1, 1))
    with pytest.raises(ReferenceFileError, match=r"step 'dq_init': the MASK reference file .* cannot calibrate"):
        DQInitStep.call(sd.make_ramp(), override_mask=path)


def test_user_supplied_dq_is_ored_in(tmp_path):
    user = tmp_path / "user.fits"
    extra = np.zeros((8, 8), np.int32)
    extra[3, 3] = 4096
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(extra)]).writeto(user)
    out = DQInitStep.call(
        sd.make_ramp(), override_mask=sd.mask(tmp_path, np.zeros((8, 8))), user_supplied_dq=str(user)
    )
    assert out.pixeldq[3, 3] == 4096


def test_user_supplied_dq_of_wrong_shape_is_a_parameter_error(tmp_path):
    user = tmp_path / "user.fits"
    fits.PrimaryHDU(np.zeros((4, 4), np.int32)).writeto(user)
    with pytest.raises(ParameterError, match=r"user_supplied_dq=.*expected a 2-D integer image of shape \(8, 8\)"):
        DQInitStep.call(sd.make_ramp(), override_mask=sd.mask(tmp_path, np.zeros((8, 8))), user_supplied_dq=str(user))


def test_step_identity():
    assert DQInitStep.class_alias == "dq_init"
    assert DQInitStep.reference_file_types == ("mask",)
    assert "jwst.dq_init.dq_init_step.DQInitStep" in DQInitStep.legacy_class_paths
