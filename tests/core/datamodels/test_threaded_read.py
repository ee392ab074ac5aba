"""Large images read on several threads: the same values, the file left where one thread would leave it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from astropy.io import fits

from pipeline_core.datamodels import open_model, rawio
from pipeline_core.errors import DataModelError


@pytest.fixture
def small_parts(monkeypatch):
    """Read images of 64 KiB and more on threads, in parts of 16 KiB; record each threaded read."""
    monkeypatch.setattr(rawio, "THREADED_MIN_BYTES", 64 * 1024)
    monkeypatch.setattr(rawio, "_THREAD_PART_BYTES", 16 * 1024)
    monkeypatch.setattr(rawio, "CHUNK_BYTES", 4 * 1024)
    calls = []
    real = rawio._read_on_threads

    def recording(handle, flat, raw_dtype, bzero, bscale, threads):
        calls.append((flat.nbytes, threads, handle.name))
        real(handle, flat, raw_dtype, bzero, bscale, threads)

    monkeypatch.setattr(rawio, "_read_on_threads", recording)
    return calls


def _uint16_file(path, shape=(2, 3, 64, 96)):
    raw = np.random.default_rng(5).integers(0, 65535, shape, dtype=np.uint16)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(raw, name="SCI")]).writeto(path)
    return raw


def test_uint16_ramp_on_threads_has_the_values_of_one_thread(tmp_path, small_parts, monkeypatch):
    raw = _uint16_file(tmp_path / "uncal.fits")
    one = open_model(tmp_path / "uncal.fits")
    assert small_parts == []  # one thread unless asked
    workers = set()
    real_convert = rawio.convert

    def convert(*args, **kwargs):
        workers.add(threading.current_thread().name)
        time.sleep(0.001)  # every thread gets parts
        real_convert(*args, **kwargs)

    monkeypatch.setattr(rawio, "convert", convert)
    two = open_model(tmp_path / "uncal.fits", threads=2)
    assert len(workers) == 2 and all(name.startswith("steppe-read") for name in workers)
    (nbytes, threads, name), = small_parts
    assert nbytes == raw.size * 4 and threads == 2 and name.endswith("uncal.fits")
    assert two.data.dtype == np.float32 and two.data.tobytes() == one.data.tobytes()
    np.testing.assert_array_equal(two.data, raw)


def test_float_arrays_on_threads_and_the_next_extension_read_after_them(tmp_path, small_parts):
    rng = np.random.default_rng(6)
    data = rng.normal(size=(1, 4, 64, 80)).astype(np.float32)
    data[0, 1, 3, 4] = np.nan
    groupdq = rng.integers(0, 8, data.shape, dtype=np.uint8)
    from pipeline_core.datamodels import RampModel

    path = RampModel(data=data, groupdq=groupdq).save(tmp_path / "ramp.fits")
    model = open_model(path, threads=2)
    assert len(small_parts) == 1  # only the float32 data are large enough; groupdq is read after them
    assert model.data.tobytes() == data.tobytes()
    np.testing.assert_array_equal(model.groupdq, groupdq)


def test_read_image_data_leaves_the_handle_after_the_values(tmp_path, small_parts):
    first = np.arange(40000, dtype=">f4")
    second = (-np.arange(7)).astype(">f4")
    path = tmp_path / "two.bin"
    path.write_bytes(first.tobytes() + second.tobytes())
    with open(path, "rb", buffering=0) as handle:
        out = np.empty(first.size, np.float32)
        rawio.read_image_data(handle, out, np.dtype(">f4"), 0, 1, threads=2)
        rest = np.empty(second.size, np.float32)
        rawio.read_image_data(handle, rest, np.dtype(">f4"), 0, 1, threads=2)
    np.testing.assert_array_equal(out, first)
    np.testing.assert_array_equal(rest, second)
    assert len(small_parts) == 1


def test_a_truncated_file_read_on_threads_names_the_file(tmp_path, small_parts):
    _uint16_file(tmp_path / "uncal.fits")
    blob = (tmp_path / "uncal.fits").read_bytes()
    (tmp_path / "cut.fits").write_bytes(blob[: len(blob) // 2])
    with open(tmp_path / "cut.fits", "rb", buffering=0) as handle:
        handle.seek(2880 * 2)
        out = np.empty(2 * 3 * 64 * 96, np.float32)
        with pytest.raises(DataModelError, match=r"cut\.fits' is truncated"):
            rawio.read_image_data(handle, out, np.dtype(">i2"), 32768, 1, threads=2)
