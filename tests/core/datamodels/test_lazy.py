"""Lazily opened files: arrays stay in the file until used, sections are read in parts."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
from astropy.io import fits

from pipeline_core.datamodels import DarkModel, RampModel, open_model
from pipeline_core.errors import DataModelError


@pytest.fixture
def dark_path(tmp_path):
    data = np.arange(2 * 5 * 6 * 7, dtype=np.float32).reshape(2, 5, 6, 7)
    dq = np.arange(42, dtype=np.uint32).reshape(6, 7)
    model = DarkModel(data=data, dq=dq)
    model.meta.reftype = "DARK"
    return model.save(tmp_path / "dark.fits"), data, dq


def test_lazy_open_reads_no_array_until_used(dark_path):
    path, data, dq = dark_path
    dark = open_model(path, lazy=True)
    assert isinstance(dark, DarkModel)
    assert not dark.is_loaded("data") and not dark.is_loaded("dq")
    assert dark.shape == data.shape
    np.testing.assert_array_equal(dark.dq, dq)
    assert dark.is_loaded("dq") and not dark.is_loaded("data")
    np.testing.assert_array_equal(dark.data, data)
    assert dark.data.dtype == np.float32 and dark.data.dtype.isnative
    assert dark.is_loaded("data")


@pytest.mark.parametrize(
    "key",
    [
        0,
        -1,
        (1, 3),
        (1, -5),
        (0, slice(1, 4)),
        (slice(None), 2),
        (1, slice(None, None, 2)),
        (0, slice(4, 0, -2)),
        (0, slice(None, None, -1), slice(1, 3), slice(2, 6)),
        (1, 2, slice(1, 5), 3),
        (1, 2, 3, 4),
        (0, slice(3, 3)),
        Ellipsis,
        (Ellipsis, 0),
    ],
)
def test_read_section_equals_indexing_the_whole_array(dark_path, key):
    path, data, _ = dark_path
    dark = open_model(path, lazy=True)
    got = dark.read_section("data", key)
    np.testing.assert_array_equal(got, data[key])
    assert np.shape(got) == np.shape(data[key])
    assert not dark.is_loaded("data")


def test_read_section_reads_only_the_planes_asked_for(tmp_path):
    data = np.ones((8, 128, 128), np.float32)
    path = DarkModel(data=data).save(tmp_path / "dark.fits")
    dark = open_model(path, lazy=True)
    dark.read_section("data", 0)  # warm up
    tracemalloc.start()
    try:
        plane = dark.read_section("data", 3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert plane.shape == (128, 128)
    assert peak < 1.5 * plane.nbytes  # one plane, not the cube (8 planes)


def test_read_section_of_scaled_uint16_ramp(tmp_path):
    raw = np.arange(2 * 3 * 4 * 5, dtype=np.uint16).reshape(2, 3, 4, 5) * 1000
    path = tmp_path / "raw_uncal.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(raw, name="SCI")]).writeto(path)
    ramp = open_model(path, lazy=True)
    assert isinstance(ramp, RampModel)
    got = ramp.read_section("data", (1, slice(0, 2)))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, raw[1, 0:2].astype(np.float32))
    np.testing.assert_array_equal(ramp.data, raw.astype(np.float32))


def test_read_section_of_an_array_in_memory_indexes_it(dark_path):
    path, data, _ = dark_path
    dark = open_model(path)
    assert dark.is_loaded("data")
    np.testing.assert_array_equal(dark.read_section("data", (1, 2)), data[1, 2])


def test_read_section_errors(dark_path):
    path, _, _ = dark_path
    dark = open_model(path, lazy=True)
    with pytest.raises(IndexError, match="out of bounds"):
        dark.read_section("data", 2)
    with pytest.raises(IndexError, match="too many indices"):
        dark.read_section("data", (0, 0, 0, 0, 0))
    with pytest.raises(DataModelError, match="has no array 'coeffs'"):
        dark.read_section("coeffs", 0)
    with pytest.raises(DataModelError, match="err is not set"):
        dark.read_section("err", 0)


def test_file_changed_after_lazy_open_is_an_error(dark_path):
    path, data, _ = dark_path
    dark = open_model(path, lazy=True)
    replacement = DarkModel(data=data[:, :2] + 1)
    replacement.save(path)
    os.utime(path, ns=(1, 1))  # a different modification time even on coarse clocks
    with pytest.raises(DataModelError, match="changed .*after it was opened"):
        dark.read_section("data", 0)
    with pytest.raises(DataModelError, match="changed .*after it was opened"):
        dark.data  # noqa: B018


def test_removed_file_is_an_error(dark_path):
    path, _, _ = dark_path
    dark = open_model(path, lazy=True)
    os.remove(path)
    with pytest.raises(DataModelError, match="was removed"):
        dark.read_section("data", 0)


def test_copy_save_and_rebuild_of_a_lazy_model(dark_path, tmp_path):
    path, data, dq = dark_path
    dark = open_model(path, lazy=True)
    twin = dark.copy()
    assert not twin.is_loaded("data")
    twin.data[0, 0, 0, 0] = -1.0
    assert dark.data[0, 0, 0, 0] == data[0, 0, 0, 0]  # independent once read
    rebuilt = DarkModel(open_model(path, lazy=True))
    np.testing.assert_array_equal(rebuilt.data, data)
    out = open_model(path, lazy=True).save(tmp_path / "again.fits")
    again = open_model(out)
    np.testing.assert_array_equal(again.data, data)
    np.testing.assert_array_equal(again.dq, dq)


def test_compressed_files_are_read_at_once(tmp_path, dark_path):
    import gzip
    import shutil

    path, data, _ = dark_path
    packed = tmp_path / "dark.fits.gz"
    with open(path, "rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    dark = open_model(packed, lazy=True)
    assert dark.is_loaded("data")
    np.testing.assert_array_equal(dark.read_section("data", (1, 2)), data[1, 2])


def test_default_err_is_not_saved_until_written(tmp_path):
    ramp = RampModel(data=np.ones((1, 3, 4, 4), np.float32))
    assert not ramp.err.any() and ramp.err.shape == (1, 3, 4, 4)
    with fits.open(ramp.save(tmp_path / "a_ramp.fits")) as hdul:
        assert "ERR" not in hdul and "GROUPDQ" in hdul
    ramp.err[0, 1, 2, 3] = 5.0
    with fits.open(ramp.save(tmp_path / "b_ramp.fits")) as hdul:
        assert hdul["ERR"].data[0, 1, 2, 3] == 5.0
    copied = RampModel(data=np.ones((1, 3, 4, 4), np.float32))
    copied.err  # noqa: B018 - read only
    with fits.open(copied.copy().save(tmp_path / "c_ramp.fits")) as hdul:
        assert "ERR" not in hdul
    assigned = RampModel(data=np.ones((1, 3, 4, 4), np.float32), err=np.zeros((1, 3, 4, 4)))
    with fits.open(assigned.save(tmp_path / "d_ramp.fits")) as hdul:
        assert "ERR" in hdul
