"""Saving and re-opening: arrays, metadata, the JWST file layout, atomic writes."""

from __future__ import annotations

import os

import numpy as np
import pytest
from astropy.io import fits

from pipeline_core.datamodels import (
    CubeModel,
    DarkModel,
    ImageModel,
    MaskModel,
    RampModel,
    open_model,
)
from pipeline_core.datamodels.asdf_yaml import dump_tree, load_tree
from pipeline_core.errors import DataModelError

_CHANGED_ON_SAVE = {"meta.date", "meta.filename"}


def _meta_without_save_stamps(model):
    return {k: v for k, v in model.meta.to_flat_dict().items() if k not in _CHANGED_ON_SAVE}


def _assert_same_arrays(a, b):
    assert set(a._arrays) <= set(b._arrays)
    for name, array in a._arrays.items():
        other = getattr(b, name)
        assert other.dtype == array.dtype, name
        if array.dtype.names:
            assert (other == array).all(), name
        else:
            np.testing.assert_array_equal(other, array, err_msg=name)


def test_ramp_round_trip(tmp_path, make_ramp_model):
    model = make_ramp_model(nints=2, ngroups=4, ny=8, nx=6)
    model.groupdq[1, 2, 3, 4] = 4
    model.pixeldq[0, 0] = 2**31 + 1
    model.meta.cal_step.jump = "COMPLETE"
    model.meta.ref_file.gain.name = "jwst_nircam_gain_0001.fits"
    model.meta.ref_file.crds.context_used = "jwst_1234.pmap"
    model.meta.custom_group = {"nested": {"value": [1.5, "x", True]}}
    path = model.save(tmp_path / "out_ramp.fits")
    assert path == str(tmp_path / "out_ramp.fits")
    assert model.meta.filename == "out_ramp.fits"
    back = open_model(path)
    assert type(back) is RampModel
    _assert_same_arrays(model, back)
    assert back.meta.to_flat_dict() == model.meta.to_flat_dict()
    assert back.meta.custom_group.nested.value == [1.5, "x", True]


def test_saved_file_has_the_jwst_layout(tmp_path, make_ramp_model):
    model = make_ramp_model(ny=8, nx=8)
    model.meta.cal_step.dq_init = "COMPLETE"
    model.meta.ref_file.mask.name = "mask.fits"
    model.save(tmp_path / "x_ramp.fits")
    with fits.open(tmp_path / "x_ramp.fits") as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "SCI", "PIXELDQ", "GROUPDQ", "ASDF"]
        header = hdul[0].header
        assert header["DATAMODL"] == "RampModel"
        assert header["FILENAME"] == "x_ramp.fits"
        assert header["INSTRUME"] == "NIRCAM"
        assert header["NGROUPS"] == 5
        assert header["SUBSTRT1"] == 1 and header["SUBSIZE2"] == 8
        assert header["DATE-OBS"] == "2024-05-01"
        assert header["S_DQINIT"] == "COMPLETE"
        assert header["R_MASK"] == "mask.fits"
        assert hdul["SCI"].header["EXTVER"] == 1
        assert hdul["SCI"].data.dtype == np.dtype(">f4")
        assert hdul["PIXELDQ"].data.dtype == np.uint32
        assert hdul["GROUPDQ"].data.dtype == np.uint8
        raw = hdul["ASDF"].data["ASDF_METADATA"][0].tobytes()
    tree = load_tree(raw)
    assert tree["meta"]["instrument"]["detector"] == "NRCA3"
    assert "data" not in tree  # arrays live in the FITS extensions only


def test_ramp_err_is_written_only_once_used(tmp_path, make_ramp_model):
    model = make_ramp_model(ny=4, nx=4)
    model.save(tmp_path / "a.fits")
    with fits.open(tmp_path / "a.fits") as hdul:
        assert "ERR" not in hdul
    model.err[...] = 1.0
    model.save(tmp_path / "b.fits")
    np.testing.assert_array_equal(open_model(tmp_path / "b.fits").err, 1.0)


@pytest.mark.parametrize("factory", ["make_image_model", "make_cube_model"])
def test_image_and_cube_round_trip(tmp_path, request, factory):
    model = request.getfixturevalue(factory)()
    model.dq[..., 0, 0] = 1
    model.meta.bunit_data = "DN/s"
    model.meta.bunit_err = "DN/s"
    model.meta.exposure.effective_exposure_time = 12.5
    path = model.save(tmp_path / "product.fits")
    back = open_model(path)
    assert type(back) is type(model)
    _assert_same_arrays(model, back)
    assert back.meta.to_flat_dict() == model.meta.to_flat_dict()
    with fits.open(path) as hdul:
        assert hdul["SCI"].header["BUNIT"] == "DN/s"
        assert hdul["ERR"].header["BUNIT"] == "DN/s"
        assert hdul["SCI"].header["XPOSURE"] == 12.5


def test_cube_int_times_round_trip(tmp_path):
    cube = CubeModel((2, 3, 3))
    cube.int_times = np.array(
        [(1, 60000.0), (2, 60000.5)],
        dtype=[("integration_number", "i4"), ("int_mid_MJD_UTC", "f8")],
    )
    back = open_model(cube.save(tmp_path / "c.fits"))
    assert back.int_times["integration_number"].tolist() == [1, 2]
    assert back.int_times["int_mid_MJD_UTC"].tolist() == [60000.0, 60000.5]


def test_reference_models_round_trip(tmp_path):
    mask = MaskModel((4, 4))
    mask.dq[1, 1] = 2**31
    mask.dq_def = np.array(
        [(0, 1, "DO_NOT_USE", "bad"), (31, 2**31, "REFERENCE_PIXEL", "ref")],
        dtype=[("BIT", "i4"), ("VALUE", "u4"), ("NAME", "U40"), ("DESCRIPTION", "U80")],
    )
    mask.meta.instrument.name = "NIRCAM"
    back = open_model(mask.save(tmp_path / "mask.fits"))
    assert type(back) is MaskModel
    assert back.dq[1, 1] == 2**31
    assert back.dq_def["NAME"].tolist() == ["DO_NOT_USE", "REFERENCE_PIXEL"]
    assert back.dq_def["VALUE"].tolist() == [1, 2**31]
    assert back.meta.reftype == "MASK"
    dark = DarkModel(data=np.ones((3, 4, 4)))
    dark.meta.exposure.ngroups = 3
    back = open_model(dark.save(tmp_path / "dark.fits"))
    assert type(back) is DarkModel and back.meta.exposure.ngroups == 3


@pytest.mark.parametrize(
    "kind", ["uncal_level1b", "uncal_rampmodel", "rate", "rateints", "dark", "linearity", "mask"]
)
def test_samples_round_trip_exactly(tmp_path, sample_files, kind):
    model = open_model(sample_files[kind])
    before = _meta_without_save_stamps(model)
    back = open_model(model.save(tmp_path / sample_files[kind].name))
    assert type(back) is type(model)
    _assert_same_arrays(model, back)
    assert _meta_without_save_stamps(back) == before


def test_level1b_saved_as_ramp_gets_dq_arrays(tmp_path, sample_files):
    model = open_model(sample_files["uncal_level1b"])
    model.save(tmp_path / "ramp.fits")
    with fits.open(tmp_path / "ramp.fits") as hdul:
        assert hdul[0].header["DATAMODL"] == "RampModel"
        assert hdul["SCI"].data.dtype == np.dtype(">f4")
        assert "PIXELDQ" in hdul and "GROUPDQ" in hdul


def test_uint16_file_from_another_writer(tmp_path):
    data = np.array([0, 1, 32767, 32768, 65535], dtype=np.uint16).reshape(1, 1, 1, 5)
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="SCI")])
    hdul[0].header["INSTRUME"] = "MIRI"
    hdul.writeto(tmp_path / "raw.fits")
    model = open_model(tmp_path / "raw.fits")
    assert type(model) is RampModel
    assert model.data.ravel().tolist() == [0.0, 1.0, 32767.0, 32768.0, 65535.0]
    assert model.meta.instrument.name == "MIRI"


def test_header_edits_win_over_a_stale_tree(tmp_path, make_image_model):
    path = make_image_model().save(tmp_path / "img.fits")
    with fits.open(path, mode="update") as hdul:
        hdul[0].header["DETECTOR"] = "NRCB1"
    assert open_model(path).meta.instrument.detector == "NRCB1"


def test_jwst_hash_makes_the_tree_authoritative(sample_files):
    # The JWST samples carry _fits_hash: values come from the tree as written.
    model = open_model(sample_files["rate"])
    assert model.meta.exposure.type == "NRC_TSIMAGE"


def test_asdf_format_round_trip(tmp_path, make_ramp_model):
    model = make_ramp_model(ny=4, nx=4)
    model.meta.cal_step.jump = "SKIPPED"
    back = open_model(model.save(tmp_path / "ramp.asdf"))
    assert type(back) is RampModel
    _assert_same_arrays(model, back)
    assert back.meta.to_flat_dict() == model.meta.to_flat_dict()


def test_save_is_atomic_and_leaves_no_temp_file(tmp_path, make_image_model, monkeypatch):
    model = make_image_model()
    target = tmp_path / "img.fits"
    model.save(target)
    before = target.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["img.fits"]

    def broken_writeto(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fits.HDUList, "writeto", broken_writeto)
    model.data[...] = 7
    with pytest.raises(OSError, match="disk full"):
        model.save(target)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["img.fits"]


def test_overwrite_false_and_missing_folder(tmp_path, make_image_model):
    model = make_image_model()
    model.save(tmp_path / "a.fits")
    with pytest.raises(DataModelError, match="the file exists. Pass overwrite=True"):
        model.save(tmp_path / "a.fits", overwrite=False)
    with pytest.raises(DataModelError, match="does not exist. Create it first"):
        model.save(tmp_path / "nope" / "a.fits")


def test_save_refuses_inconsistent_arrays(tmp_path):
    model = ImageModel((4, 4))
    model.err = np.zeros((3, 3))
    with pytest.raises(DataModelError, match="ERR has shape"):
        model.save(tmp_path / "bad.fits")
    assert not (tmp_path / "bad.fits").exists()


def test_values_that_fit_no_header_stay_in_the_tree(tmp_path):
    model = ImageModel((2, 2))
    model.meta.instrument.name = "NIRCAM — é"  # not ASCII: no INSTRUME card
    model.meta.exposure.frame_time = float("nan")
    back = open_model(model.save(tmp_path / "u.fits"))
    assert back.meta.instrument.name == "NIRCAM — é"
    with fits.open(tmp_path / "u.fits") as hdul:
        assert "INSTRUME" not in hdul[0].header
        assert "TFRAME" not in hdul[0].header


def test_asdf_document_round_trip():
    tree = {"meta": {"a": np.int64(2), "b": (1, 2), "c": {"d": "09999", "e": None, "f": True}}}
    back = load_tree(dump_tree(tree))
    assert back["meta"] == {"a": 2, "b": [1, 2], "c": {"d": "09999", "e": None, "f": True}}


def test_tree_values_keep_their_exact_form(tmp_path):
    model = ImageModel((2, 2))
    model.meta.instrument.filter = "F200W  "  # trailing blanks are lost in a header
    model.meta.exposure.frame_time = 0.1 + 0.2
    model.meta.exposure.group_time = 21  # an int where JWST expects a float
    back = open_model(model.save(tmp_path / "exact.fits"))
    assert back.meta.instrument.filter == "F200W  "
    assert back.meta.exposure.frame_time == 0.1 + 0.2
    assert type(back.meta.exposure.group_time) is int


def test_gzip_compressed_file(tmp_path, make_ramp_model):
    model = make_ramp_model(ny=4, nx=4)
    path = model.save(tmp_path / "ramp.fits.gz")
    with open(path, "rb") as handle:
        assert handle.read(2) == b"\x1f\x8b"
    back = open_model(path)
    assert type(back) is RampModel
    _assert_same_arrays(model, back)
    assert back.meta.instrument.detector == "NRCA3"


def test_scaled_integer_image(tmp_path):
    values = np.array([[0.0, 2.0], [10.0, 64.0]])
    hdu = fits.ImageHDU(values.copy(), name="SCI")
    hdu.scale("int16", bscale=2.0, bzero=10.0)
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp_path / "scaled.fits")
    with fits.open(tmp_path / "scaled.fits", do_not_scale_image_data=True) as hdul:
        assert hdul["SCI"].header["BSCALE"] == 2.0
    model = open_model(tmp_path / "scaled.fits")
    assert type(model) is ImageModel
    np.testing.assert_array_equal(model.data, values.astype(np.float32))


def test_header_keywords_alone_fill_the_tree(tmp_path):
    primary = fits.PrimaryHDU()
    cards = {
        "INSTRUME": "NIRCAM", "DETECTOR": "NRCB2", "EXP_TYPE": "NRC_IMAGE",
        "READPATT": "BRIGHT2", "NINTS": 2, "NGROUPS": 3, "NFRAMES": 2, "GROUPGAP": 0,
        "TFRAME": 10.73677, "TGROUP": 21.47354, "SUBARRAY": "FULL", "SUBSTRT1": 1,
        "SUBSTRT2": 1, "SUBSIZE1": 4, "SUBSIZE2": 4, "DATE-OBS": "2024-05-01",
        "TIME-OBS": "12:00:00", "S_JUMP": "COMPLETE", "S_SATURA": "SKIPPED",
        "R_GAIN": "jwst_nircam_gain_0001.fits", "CRDS_CTX": "jwst_1234.pmap",
        "ZEROFRAM": False,
    }  # fmt: skip
    for key, value in cards.items():
        primary.header[key] = value
    sci = fits.ImageHDU(np.zeros((2, 3, 4, 4), np.float32), name="SCI")
    fits.HDUList([primary, sci]).writeto(tmp_path / "headers.fits")
    meta = open_model(tmp_path / "headers.fits").meta
    assert meta.instrument.detector == "NRCB2"
    assert (meta.exposure.nints, meta.exposure.ngroups, meta.exposure.nframes) == (2, 3, 2)
    assert meta.exposure.group_time == 21.47354 and meta.exposure.readpatt == "BRIGHT2"
    assert (meta.subarray.name, meta.subarray.xsize, meta.subarray.ystart) == ("FULL", 4, 1)
    assert (meta.observation.date, meta.observation.time) == ("2024-05-01", "12:00:00")
    assert meta.cal_step.jump == "COMPLETE" and meta.cal_step.saturation == "SKIPPED"
    assert meta.ref_file.gain.name == "jwst_nircam_gain_0001.fits"
    assert meta.ref_file.crds.context_used == "jwst_1234.pmap"
    assert meta.exposure.zero_frame is False
    assert meta.exposure.type == "NRC_IMAGE"
