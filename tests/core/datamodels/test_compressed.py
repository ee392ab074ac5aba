"""Tile-compressed FITS images open like plain ones."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from pipeline_core.datamodels import GainModel, open_model
from pipeline_core.errors import DataModelError


def _write_compressed(path, data):
    primary = fits.PrimaryHDU()
    primary.header["REFTYPE"] = "GAIN"
    primary.header["INSTRUME"] = "NIRCAM"
    primary.header["DETECTOR"] = "NRCA1"
    fits.HDUList([primary, fits.CompImageHDU(data, name="SCI")]).writeto(path)


@pytest.mark.parametrize("lazy", [False, True])
def test_tile_compressed_image_opens(tmp_path, lazy):
    data = np.random.default_rng(1).uniform(1.5, 2.5, (64, 48)).astype(np.float32)
    path = tmp_path / "gain.fits"
    _write_compressed(path, data)
    with fits.open(path) as hdul:
        expected = hdul["SCI"].data.copy()  # astropy's decompression (quantised, lossy)
    np.testing.assert_allclose(expected, data, atol=0.05)
    with open_model(str(path), lazy=lazy) as model:
        assert isinstance(model, GainModel)
        np.testing.assert_array_equal(model.data, expected)


def test_truncated_tile_compressed_file_is_reported(tmp_path):
    path = tmp_path / "gain.fits"
    _write_compressed(path, np.ones((256, 256), np.float32) * np.arange(256, dtype=np.float32))
    raw = path.read_bytes()
    cut = tmp_path / "cut.fits"
    cut.write_bytes(raw[: len(raw) - 2 * 2880])
    with pytest.raises(DataModelError, match="truncated"):
        open_model(str(cut))
