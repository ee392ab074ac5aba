"""Malformed inputs give a DataModelError naming the file and the problem; reads change nothing."""

from __future__ import annotations

import hashlib
import os
import re
import shutil

import numpy as np
import pytest
from astropy.io import fits

from pipeline_core.datamodels import ImageModel, RampModel, open_model
from pipeline_core.errors import DataModelError


def _write(path, *hdus):
    fits.HDUList([fits.PrimaryHDU(), *hdus]).writeto(path)
    return path


def test_missing_file(tmp_path):
    path = tmp_path / "nope.fits"
    with pytest.raises(DataModelError, match=re.escape(f"Cannot open '{path}': no such file")):
        open_model(path)


def test_a_directory(tmp_path):
    with pytest.raises(DataModelError, match="it is a directory"):
        open_model(tmp_path)


def test_not_fits(tmp_path):
    path = tmp_path / "notes.fits"
    path.write_text("just some text, not FITS at all\n")
    with pytest.raises(
        DataModelError, match=re.escape(f"Cannot open '{path}': it is not a FITS file")
    ):
        open_model(path)


def test_missing_sci(tmp_path):
    path = _write(tmp_path / "nosci.fits", fits.ImageHDU(np.zeros((4, 4), np.float32), name="ERR"))
    with pytest.raises(DataModelError, match=re.escape(f"'{path}' has no SCI extension")):
        open_model(path)


def test_missing_sci_when_the_class_is_declared(tmp_path):
    hdul = fits.HDUList(
        [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((4, 4), np.uint8), name="GROUPDQ")]
    )
    hdul[0].header["DATAMODL"] = "RampModel"
    hdul.writeto(tmp_path / "x.fits")
    with pytest.raises(DataModelError, match="has no SCI extension, which a RampModel needs"):
        open_model(tmp_path / "x.fits")


def test_sci_of_unsupported_dimensionality(tmp_path):
    path = _write(tmp_path / "five.fits", fits.ImageHDU(np.zeros((1, 1, 1, 2, 2)), name="SCI"))
    with pytest.raises(DataModelError, match=re.escape(f"'{path}': the SCI extension is 5-D")):
        open_model(path)


def test_wrong_dimensionality_for_the_requested_class(tmp_path):
    path = _write(tmp_path / "img.fits", fits.ImageHDU(np.zeros((4, 4), np.float32), name="SCI"))
    with pytest.raises(
        DataModelError,
        match=re.escape(f"Wrong dimensionality in '{path}': extension SCI is 2-D but a RampModel"),
    ):
        RampModel(path)


def test_declared_class_disagreeing_with_content(tmp_path):
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros((2, 4, 4)), name="SCI")])
    hdul[0].header["DATAMODL"] = "ImageModel"
    hdul.writeto(tmp_path / "x.fits")
    with pytest.raises(DataModelError, match="extension SCI is 3-D but a ImageModel needs it 2-D"):
        open_model(tmp_path / "x.fits")


def test_inconsistent_shapes_between_extensions(tmp_path):
    path = _write(
        tmp_path / "shapes.fits",
        fits.ImageHDU(np.zeros((1, 3, 8, 8), np.float32), name="SCI"),
        fits.ImageHDU(np.zeros((1, 3, 8, 7), np.uint8), name="GROUPDQ"),
    )
    with pytest.raises(
        DataModelError,
        match=re.escape(
            f"Inconsistent shapes in '{path}': GROUPDQ has shape (1, 3, 8, 7) but SCI has "
            "shape (1, 3, 8, 8)"
        ),
    ):
        open_model(path)


@pytest.mark.parametrize("keep", [0.3, 0.7, 0.97])
def test_truncated_file(tmp_path, sample_files, keep):
    raw = sample_files["uncal_rampmodel"].read_bytes()
    path = tmp_path / "cut.fits"
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(DataModelError, match=re.escape(f"'{path}'")) as info:
        open_model(path)
    assert "truncated" in str(info.value)


def test_tiny_truncated_header(tmp_path):
    path = tmp_path / "stub.fits"
    path.write_bytes(b"SIMPLE  =                    T" + b" " * 50)
    with pytest.raises(DataModelError, match="truncated or corrupt"):
        open_model(path)


def test_corrupt_asdf_extension(tmp_path):
    column = fits.Column(name="ASDF_METADATA", format="8B", array=np.zeros((1, 8), np.uint8))
    path = _write(
        tmp_path / "badasdf.fits",
        fits.ImageHDU(np.zeros((4, 4), np.float32), name="SCI"),
        fits.BinTableHDU.from_columns([column], name="ASDF"),
    )
    with pytest.raises(DataModelError, match="the ASDF extension could not be read"):
        open_model(path)


def test_reading_never_modifies_the_file(tmp_path, sample_files):
    for kind in ("uncal_level1b", "rate", "dark"):
        path = tmp_path / sample_files[kind].name
        shutil.copyfile(sample_files[kind], path)
        os.chmod(path, 0o444)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        mtime = os.stat(path).st_mtime_ns
        model = open_model(path)
        model.data[...] = 0  # arrays are private copies
        model.meta.instrument.name = "CHANGED"
        model.close()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert os.stat(path).st_mtime_ns == mtime


def test_table_where_an_image_is_expected(tmp_path):
    table = fits.BinTableHDU.from_columns(
        [fits.Column(name="x", format="E", array=np.zeros(3, np.float32))], name="SCI"
    )
    path = _write(tmp_path / "tab.fits", table)
    with pytest.raises(DataModelError, match="extension SCI is a BinTableHDU, not an image"):
        ImageModel(path)
