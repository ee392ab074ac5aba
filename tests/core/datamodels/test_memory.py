"""Opening and saving copy each array at most once (measured with tracemalloc)."""

from __future__ import annotations

import tracemalloc

import numpy as np

from pipeline_core.datamodels import RampModel, open_model

SHAPE = (1, 10, 256, 256)


def _peak(function):
    tracemalloc.start()
    try:
        result = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_open_allocates_only_the_final_arrays(tmp_path):
    data = np.random.default_rng(1).normal(size=SHAPE).astype(np.float32)
    path = RampModel(data=data).save(tmp_path / "ramp.fits")
    open_model(path)  # warm up imports and caches
    model, peak = _peak(lambda: open_model(path))
    final = sum(array.nbytes for array in model._arrays.values())
    assert final == data.nbytes + data.size + 4 * data[0, 0].size  # data, groupdq, pixeldq
    assert peak < 1.05 * final + 256 * 1024


def test_open_uint16_ramp_converts_in_one_pass(tmp_path):
    from astropy.io import fits

    from pipeline_core.datamodels.rawio import CHUNK_BYTES as _CHUNK_BYTES

    shape = (1, 10, 512, 512)  # 5 MiB stored, 10 MiB as float32
    raw = np.random.default_rng(2).integers(0, 65535, shape, dtype=np.uint16)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(raw, name="SCI")]).writeto(tmp_path / "l1b.fits")
    open_model(tmp_path / "l1b.fits")
    model, peak = _peak(lambda: open_model(tmp_path / "l1b.fits"))
    np.testing.assert_array_equal(model.data, raw)
    # converted through one small reusable buffer, never a full-size intermediate
    assert peak < 1.02 * model.data.nbytes + _CHUNK_BYTES + 256 * 1024
    assert peak < model.data.nbytes + raw.nbytes / 2


def test_save_makes_no_copy_of_float_data(tmp_path):
    data = np.random.default_rng(3).normal(size=SHAPE).astype(np.float32)
    expected = data.copy()
    model = RampModel(data=data)
    model.save(tmp_path / "warm.fits")
    _, peak = _peak(lambda: model.save(tmp_path / "ramp.fits"))
    assert peak < 0.25 * data.nbytes + 256 * 1024
    assert model.data is data
    np.testing.assert_array_equal(model.data, expected)  # byte order restored after writing
    assert model.data.dtype.isnative
