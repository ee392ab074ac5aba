"""An image extension without data (NAXIS = 0), as stdatamodels writes for an unset array, is absent."""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from pipeline_core.datamodels import ImageModel, open_model


def test_dataless_err_extension_reads_as_absent(tmp_path):
    primary = fits.PrimaryHDU()
    primary.header["DATAMODL"] = "ImageModel"
    primary.header["TELESCOP"] = "JWST"
    sci = fits.ImageHDU(np.arange(12, dtype=np.float32).reshape(3, 4), name="SCI")
    err = fits.ImageHDU(name="ERR")  # what a jwst mask product (save_mask) holds
    assert err.header["NAXIS"] == 0
    path = tmp_path / "mask.fits"
    fits.HDUList([primary, sci, err]).writeto(path)
    model = open_model(str(path))
    assert isinstance(model, ImageModel)
    np.testing.assert_array_equal(model.data, np.arange(12, dtype=np.float32).reshape(3, 4))
    assert not model.is_loaded("err")
