"""Products written here open with JWST's own data models (when installed)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline_core.datamodels import open_model

jwst_models = pytest.importorskip("stdatamodels.jwst.datamodels")


def _check_common(ours, theirs):
    assert theirs.meta.instrument.name == ours.meta.instrument.name
    assert theirs.meta.instrument.detector == ours.meta.instrument.detector
    assert theirs.meta.exposure.ngroups == ours.meta.exposure.ngroups
    assert theirs.meta.exposure.nints == ours.meta.exposure.nints
    assert theirs.meta.exposure.readpatt == ours.meta.exposure.readpatt
    assert theirs.meta.subarray.xstart == ours.meta.subarray.xstart
    assert theirs.meta.subarray.ystart == ours.meta.subarray.ystart
    assert theirs.meta.observation.date == ours.meta.observation.date
    assert theirs.meta.filename == ours.meta.filename


def test_ramp_opens_as_jwst_rampmodel(tmp_path, make_ramp_model):
    ramp = make_ramp_model(nints=2, ngroups=3, ny=8, nx=8)
    ramp.groupdq[1, 2, 3, 4] = 4
    ramp.pixeldq[0, 1] = 1
    ramp.err[...] = 2.0  # written as an ERR extension, which JWST's RampModel keeps aside
    ramp.meta.cal_step.dq_init = "COMPLETE"
    ramp.meta.ref_file.mask.name = "jwst_nircam_mask_0001.fits"
    path = ramp.save(tmp_path / "jw01234001001_01101_00001_nrca3_ramp.fits")
    with jwst_models.open(path) as theirs:
        assert type(theirs).__name__ == "RampModel"
        np.testing.assert_array_equal(theirs.data, ramp.data)
        np.testing.assert_array_equal(theirs.groupdq, ramp.groupdq)
        np.testing.assert_array_equal(theirs.pixeldq, ramp.pixeldq)
        assert theirs.meta.cal_step.dq_init == "COMPLETE"
        assert theirs.meta.ref_file.mask.name == "jwst_nircam_mask_0001.fits"
        _check_common(ramp, theirs)


def test_rate_and_rateints_open_as_jwst_models(tmp_path, make_image_model, make_cube_model):
    for model, kind in ((make_image_model(), "ImageModel"), (make_cube_model(), "CubeModel")):
        model.dq[..., 2, 2] = 2**31
        model.meta.cal_step.ramp_fit = "COMPLETE"
        model.meta.bunit_data = "DN/s"
        path = model.save(tmp_path / f"{kind}.fits")
        with jwst_models.open(path) as theirs:
            assert type(theirs).__name__ == kind
            for name in ("data", "dq", "err", "var_poisson", "var_rnoise"):
                np.testing.assert_array_equal(getattr(theirs, name), getattr(model, name))
            assert theirs.meta.cal_step.ramp_fit == "COMPLETE"
            assert theirs.meta.bunit_data == "DN/s"
            _check_common(model, theirs)


@pytest.mark.parametrize("kind", ["uncal_level1b", "rate", "rateints", "mask", "dark"])
def test_resaved_samples_open_in_jwst(tmp_path, sample_files, kind):
    ours = open_model(sample_files[kind])
    path = ours.save(tmp_path / sample_files[kind].name)
    with jwst_models.open(path) as theirs:
        assert type(theirs).__name__ == type(ours).__name__
        primary = ours.primary
        np.testing.assert_array_equal(getattr(theirs, primary), getattr(ours, primary))
        assert theirs.meta.instrument.detector == "NRCA3"
        assert theirs.meta.subarray.name == "SUB64P"
        if kind in ("rate", "rateints"):
            assert theirs.meta.cal_step.jump == "COMPLETE"
            assert theirs.meta.ref_file.gain.name == ours.meta.ref_file.gain.name


def test_ramp_whose_err_was_only_read_is_saved_without_err_and_opens_in_jwst(tmp_path, make_ramp_model):
    from astropy.io import fits

    ramp = make_ramp_model(nints=1, ngroups=3, ny=8, nx=8)
    assert not ramp.err.any()  # read: zeros, not written
    path = ramp.save(tmp_path / "jw01234001001_01101_00001_nrca3_ramp.fits")
    with fits.open(path) as hdul:
        assert "ERR" not in hdul
    with jwst_models.open(path) as theirs:
        assert type(theirs).__name__ == "RampModel"
        np.testing.assert_array_equal(theirs.data, ramp.data)
        np.testing.assert_array_equal(theirs.groupdq, ramp.groupdq)


@pytest.mark.parametrize("kind", ["uncal_level1b", "dark"])
def test_lazily_opened_samples_resave_for_jwst(tmp_path, sample_files, kind):
    ours = open_model(sample_files[kind], lazy=True)
    assert not ours.is_loaded(ours.primary)
    path = ours.save(tmp_path / sample_files[kind].name)
    with jwst_models.open(path) as theirs:
        assert type(theirs).__name__ == type(ours).__name__
        np.testing.assert_array_equal(getattr(theirs, ours.primary), getattr(ours, ours.primary))
