"""ReferenceRows and reference_row_reader: a reference image read block by block."""

from __future__ import annotations

import gzip
import pickle
import shutil

import numpy as np
import pytest

from builtin_steps._common import ReferenceRows, reference_cutout, reference_row_reader
from pipeline_core.datamodels import GainModel, RampModel, open_model
from pipeline_core.datamodels.deferred import DeferredImage
from pipeline_core.errors import ReferenceFileError
from pipeline_core.parallel.rows import RowReader, map_row_slices
from tests.core import parallel_kernels_halo as kernels

FULL = np.arange(40 * 50, dtype=np.float32).reshape(40, 50) * np.float32(0.5) - 7.0


class _Step:
    name = "probe"


def _reference(tmp_path, data=FULL, window=None, name="gain.fits"):
    ref = GainModel(data=data)
    ref.meta.reftype = "GAIN"
    if window is not None:
        ref.meta.subarray.xstart, ref.meta.subarray.ystart = window
    return ref.save(tmp_path / name)


def _science(ny, nx, xstart=1, ystart=1):
    model = RampModel(data=np.zeros((1, 3, ny, nx), np.float32))
    sub = model.meta.subarray
    sub.xstart, sub.ystart, sub.xsize, sub.ysize = xstart, ystart, nx, ny
    return model


# (science window (xstart, ystart, nx, ny), the expected cut-out of FULL)
WINDOWS = {
    "full frame": ((1, 1, 50, 40), FULL),
    "subarray": ((7, 3, 12, 9), FULL[2:11, 6:18]),
    "full width band": ((1, 20, 50, 5), FULL[19:24]),
    "right edge": ((41, 32, 10, 9), FULL[31:40, 40:50]),
    "one row": ((5, 40, 3, 1), FULL[39:40, 4:7]),
}


@pytest.mark.parametrize("window", WINDOWS, ids=list(WINDOWS))
def test_reads_the_same_values_as_the_cutout(tmp_path, window):
    (xstart, ystart, nx, ny), expected = WINDOWS[window]
    model = _science(ny, nx, xstart, ystart)
    ref = open_model(_reference(tmp_path), lazy=True)
    reader = reference_row_reader(_Step(), model, ref, "data", "gain")
    assert isinstance(reader, ReferenceRows) and isinstance(reader, RowReader)
    assert isinstance(reader.image, DeferredImage)
    assert reader.shape == (ny, nx)
    assert (reader.y0, reader.x0) == (ystart - 1, xstart - 1)
    # the cut-out of the whole reference, read separately
    cutout = reference_cutout(_Step(), model, open_model(ref.source_path), FULL, "gain")
    np.testing.assert_array_equal(cutout, expected)
    for start in range(ny):
        for stop in range(start + 1, ny + 1):
            block = reader.read_rows(start, stop, -2)
            assert block.dtype == np.float32 and block.shape == (stop - start, nx)
            np.testing.assert_array_equal(block, expected[start:stop])
    whole = reader.read_rows(0, ny, 0)
    np.testing.assert_array_equal(whole, expected)
    assert whole.flags.c_contiguous and whole.flags.writeable
    # nothing was read into the model
    assert not ref.is_loaded("data")


def test_reference_with_its_own_window(tmp_path):
    # a reference covering detector columns 5..24, rows 2..16
    data = FULL[1:16, 4:24].copy()
    ref = open_model(_reference(tmp_path, data, window=(5, 2)), lazy=True)
    model = _science(6, 8, xstart=9, ystart=4)
    reader = reference_row_reader(_Step(), model, ref, "data", "gain")
    assert (reader.y0, reader.x0) == (2, 4)
    np.testing.assert_array_equal(reader.read_rows(0, 6, -2), FULL[3:9, 8:16])
    np.testing.assert_array_equal(reader.read_rows(2, 5, 0), FULL[5:8, 8:16])


def test_reference_not_covering_the_science_is_an_error(tmp_path):
    ref = open_model(_reference(tmp_path), lazy=True)
    with pytest.raises(ReferenceFileError, match=r"step probe: gain reference 'gain.fits' covers columns 1\.\.50"):
        reference_row_reader(_Step(), _science(9, 12, xstart=45), ref, "data", "gain")


def test_is_picklable_and_reads_the_same_after(tmp_path):
    model = _science(9, 12, 7, 3)
    reader = reference_row_reader(_Step(), model, open_model(_reference(tmp_path), lazy=True), "data", "gain")
    twin = pickle.loads(pickle.dumps(reader))
    assert isinstance(twin, ReferenceRows)
    assert (twin.y0, twin.x0, twin.shape) == (reader.y0, reader.x0, reader.shape)
    assert twin.image.path == reader.image.path and twin.image.offset == reader.image.offset
    np.testing.assert_array_equal(twin.read_rows(3, 7, -2), FULL[5:9, 6:18])
    assert len(pickle.dumps(reader)) < 2000  # cheap to send: no pixels


@pytest.mark.parametrize("row_axis", [1, -1, 2])
def test_other_row_axes_are_refused(tmp_path, row_axis):
    reader = reference_row_reader(
        _Step(), _science(9, 12, 7, 3), open_model(_reference(tmp_path), lazy=True), "data", "gain"
    )
    with pytest.raises(ValueError, match=f"ReferenceRows reads rows along axis 0 \\(-2\\), not {row_axis}"):
        reader.read_rows(0, 2, row_axis)


def test_in_memory_reference_gives_the_cutout_array(tmp_path):
    model = _science(9, 12, 7, 3)
    ref = GainModel(data=FULL.copy())
    got = reference_row_reader(_Step(), model, ref, "data", "gain")
    assert isinstance(got, np.ndarray) and not isinstance(got, ReferenceRows)
    np.testing.assert_array_equal(got, FULL[2:11, 6:18])
    assert np.shares_memory(got, ref.data)  # a view, no copy


def test_reference_already_read_gives_the_cutout_array(tmp_path):
    model = _science(9, 12, 7, 3)
    ref = open_model(_reference(tmp_path), lazy=True)
    ref.data  # noqa: B018 - read now
    got = reference_row_reader(_Step(), model, ref, "data", "gain")
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, FULL[2:11, 6:18])
    eager = reference_row_reader(_Step(), model, open_model(ref.source_path), "data", "gain")
    assert isinstance(eager, np.ndarray)
    np.testing.assert_array_equal(eager, FULL[2:11, 6:18])


def test_compressed_reference_gives_an_array(tmp_path):
    path = _reference(tmp_path)
    packed = tmp_path / "gain.fits.gz"
    with open(path, "rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    ref = open_model(packed, lazy=True)
    got = reference_row_reader(_Step(), _science(9, 12, 7, 3), ref, "data", "gain")
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, FULL[2:11, 6:18])


@pytest.mark.usefixtures("no_shared_memory_leaks", "at_least_two_cpus")
@pytest.mark.parametrize("max_workers", [1, 2])
def test_map_row_slices_reads_it_like_the_array(tmp_path, max_workers, monkeypatch):
    from pipeline_core.parallel import rows as parallel

    monkeypatch.setattr(parallel, "BLOCKS_PER_WORKER", 20)
    model = _science(30, 20, xstart=11, ystart=6)
    reader = reference_row_reader(_Step(), model, open_model(_reference(tmp_path), lazy=True), "data", "gain")
    data = np.random.default_rng(2).normal(size=(30, 20)).astype(np.float32)
    result = map_row_slices(
        kernels.add_and_pid, {"a": data, "b": reader}, max_workers=max_workers, row_axis=0
    )
    np.testing.assert_array_equal(result["sum"], data + FULL[5:35, 10:30])
    halo = map_row_slices(
        kernels.vertical_sum3, {"data": reader}, max_workers=max_workers, row_axis=0, halo=1
    )
    np.testing.assert_array_equal(halo["sum"], kernels.vertical_sum3(FULL[5:35, 10:30])["sum"])
