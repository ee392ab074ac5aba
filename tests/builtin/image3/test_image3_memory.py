"""Image3 memory: the library, the on-disk median and the steps hold one exposure at a time when asked."""

from __future__ import annotations

import gc
import os
import tracemalloc

import numpy as np
import pytest

from builtin_steps.library import ModelLibrary
from builtin_steps.outlier_detection.median import MedianStack, band_rows
from pipeline_core.datamodels import ImageModel

SHAPE = (48, 56)
RA0, DEC0, SCALE = 80.4875, -69.4986, 0.031  # degrees, degrees, arcsec per pixel


def _wcs(dx: float, dy: float, shape: tuple[int, int] = SHAPE):
    """A TAN WCS whose reference pixel is moved by (dx, dy) pixels."""
    from astropy import coordinates as coord
    from astropy import units as u
    from astropy.modeling.models import Pix2Sky_TAN, RotateNative2Celestial, Scale, Shift
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS

    crpix = (shape[1] / 2.0 + dx, shape[0] / 2.0 + dy)
    transform = (Shift(-crpix[0]) & Shift(-crpix[1])) | (Scale(-SCALE / 3600) & Scale(SCALE / 3600)) | (
        Pix2Sky_TAN() | RotateNative2Celestial(RA0, DEC0, 180.0))
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    sky = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world")
    wcs = WCS([(detector, transform), (sky, None)])
    wcs.bounding_box = ((-0.5, shape[1] - 0.5), (-0.5, shape[0] - 0.5))
    return wcs


def _images(count: int, *, seed: int = 5, hits: int = 6) -> list[ImageModel]:
    """Dithered images of one scene (a smooth sky and two stars) with cosmic-ray hits."""
    rng = np.random.default_rng(seed)
    models = []
    for index in range(count):
        dx, dy = rng.uniform(-3, 3, 2)
        y, x = np.indices(SHAPE, dtype=float)
        data = 1.0 + 0.002 * (x + dx)
        for sx, sy, flux in ((20.0, 18.0, 40.0), (35.0, 30.0, 25.0)):
            data += flux / (2 * np.pi * 1.44) * np.exp(-((x - sx - dx) ** 2 + (y - sy - dy) ** 2) / 2.88)
        data += rng.normal(0.0, 0.01, SHAPE)
        cr = rng.integers(3, min(SHAPE) - 3, (hits, 2))
        data[cr[:, 0], cr[:, 1]] += 5.0
        model = ImageModel(data=data.astype(np.float32))
        model.err = np.full(SHAPE, 0.01, np.float32)
        model.dq = np.zeros(SHAPE, np.uint32)
        model.var_rnoise = np.full(SHAPE, 1e-4, np.float32)
        model.var_poisson = np.full(SHAPE, 2e-5, np.float32)
        model.var_flat = np.zeros(SHAPE, np.float32)
        model.meta.filename = f"jw01234001001_01101_{index + 1:05d}_nrca1_cal.fits"
        model.meta.observation.exposure_number = f"{index + 1:05d}"
        model.meta.exposure.exposure_time = model.meta.exposure.measurement_time = 100.0
        model.meta.bunit_data = model.meta.bunit_err = "MJy/sr"
        model.meta.wcsinfo.ra_ref, model.meta.wcsinfo.dec_ref = RA0, DEC0
        model.meta.photometry.pixelarea_steradians = float(np.deg2rad(SCALE / 3600) ** 2)
        model.meta.wcs = _wcs(dx, dy)
        models.append(model)
    return models


def _files(tmp_path, count: int, **kw) -> list[str]:
    paths = []
    for model in _images(count, **kw):
        paths.append(model.save(str(tmp_path / model.meta.filename)))
    return paths


class CountingLibrary(ModelLibrary):
    """A library that records how many members are out on loan at once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.out: set[int] = set()
        self.most_out = 0

    def __getitem__(self, index):
        model = super().__getitem__(index)
        self.out.add(index)
        self.most_out = max(self.most_out, len(self.out))
        return model

    def shelve(self, index, model, *, modify=True):
        self.out.discard(index)
        super().shelve(index, model, modify=modify)


# ---------------------------------------------------------------------------------------- median
@pytest.mark.parametrize("in_memory", [True, False])
def test_median_stack_equals_numpy_nanmedian(in_memory, tmp_path):
    rng = np.random.default_rng(3)
    stack = rng.normal(size=(7, 37, 23)).astype(np.float32)
    stack[rng.random(stack.shape) < 0.2] = np.nan
    stack[:, 5, 6] = np.nan  # NaN in every image
    with MedianStack(7, (37, 23), in_memory=in_memory, folder=str(tmp_path), buffer_size=7 * 23 * 4 * 5) as median:
        for image in stack:
            median.add(image)
        result = median.median()
        if not in_memory:
            assert median.rows == 5 and len(median.bands) == 8
            assert len(os.listdir(next(tmp_path.iterdir()))) == 8
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanmedian(stack, axis=0)
    np.testing.assert_array_equal(result, expected.astype(np.float32))
    assert np.isnan(result[5, 6])
    assert list(tmp_path.iterdir()) == []  # the band files are removed


def test_median_on_disk_holds_one_image_not_the_stack(tmp_path):
    count, shape = 40, (120, 100)
    image_bytes = shape[0] * shape[1] * 4
    rng = np.random.default_rng(1)
    images = [rng.normal(size=shape).astype(np.float32) for _ in range(4)]
    peaks = {}
    for in_memory in (True, False):
        tracemalloc.start()
        with MedianStack(count, shape, in_memory=in_memory, folder=str(tmp_path)) as median:
            for index in range(count):
                median.add(images[index % 4])
            result = median.median()
        peaks[in_memory] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        np.testing.assert_array_equal(result, np.median(np.array(images * 10), axis=0).astype(np.float32))
    assert peaks[True] > count * image_bytes
    assert peaks[False] < 6 * image_bytes  # the result, one band of every image, conversions


def test_band_rows_and_bad_input():
    assert band_rows(10, (100, 50), 4, None) == 10  # one image's worth: 100 rows / 10 images
    assert band_rows(1000, (100, 50), 4, None) == 1  # never below one row
    assert band_rows(2, (100, 50), 4, 10**9) == 100  # never above the image
    with pytest.raises(ValueError, match="count >= 1"):
        MedianStack(0, (4, 4), in_memory=True)
    stack = MedianStack(1, (4, 4), in_memory=True)
    with pytest.raises(ValueError, match="shape"):
        stack.add(np.zeros((4, 5)))
    stack.add(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="more than"):
        stack.add(np.zeros((4, 4)))


# ---------------------------------------------------------------------------------------- library
def test_on_disk_library_keeps_nothing_and_keeps_names(tmp_path):
    paths = _files(tmp_path, 3)
    library = ModelLibrary(paths, on_disk=True)
    for _, model in library.models(modify=False):
        assert not model.is_loaded("data")  # opened lazily: metadata only until used
    assert library._loaded == {} and library._tmpdir is None  # nothing kept, nothing written
    for index, model in library.models():
        model.data = model.data + 1.0
        model.meta.cal_step.skymatch = "COMPLETE"
    folder = library._tmpdir
    assert folder is not None and library._loaded == {}
    for index, model in library.models():  # a second change goes to the same file
        model.data = model.data + 1.0
    for index, model in library.models(modify=False):
        assert model.meta.filename == os.path.basename(paths[index])
        assert model.meta.cal_step.skymatch == "COMPLETE"
        original = ModelLibrary([paths[index]])[0]
        np.testing.assert_allclose(model.data, original.data + 2.0, rtol=1e-6)
    assert sum(len(files) for _, _, files in os.walk(folder)) == 3
    library.close()
    assert not os.path.exists(folder)
    dropped = ModelLibrary(paths[:1], on_disk=True)
    for _, model in dropped.models():
        model.meta.cal_step.skymatch = "COMPLETE"
    folder = dropped._tmpdir
    del dropped, model
    gc.collect()
    assert folder is not None and not os.path.exists(folder)  # a library not closed cleans up when dropped


# ---------------------------------------------------------------------------------------- steps
def test_resample_on_disk_borrows_one_exposure_and_matches_memory(tmp_path):
    from builtin_steps.resample.step import ResampleStep

    paths = _files(tmp_path, 4)
    in_memory = ResampleStep.call(ModelLibrary(paths, on_disk=False))
    library = CountingLibrary(paths, on_disk=True)
    on_disk = ResampleStep.call(library)
    assert library.most_out == 1 and library._loaded == {}
    for name in ("data", "wht", "con", "err", "var_rnoise", "var_poisson", "var_flat"):
        np.testing.assert_array_equal(getattr(on_disk, name), getattr(in_memory, name), err_msg=name)
    assert on_disk.meta.exposure.exposure_time == 400.0
    assert on_disk.meta.resample.pointings == 4
    assert on_disk.con.shape[0] == 1 and set(np.unique(on_disk.con)) <= set(range(16))
    singles = ResampleStep.call(paths, single=True, in_memory=False)
    assert len(singles) == 4 and all(s.meta.filename == os.path.basename(p) for s, p in zip(singles, paths))


def test_outlier_detection_on_disk_matches_memory_one_exposure_at_a_time(tmp_path):
    from builtin_steps.outlier_detection.step import OutlierDetectionStep

    paths = _files(tmp_path, 5)
    memory = OutlierDetectionStep.call(ModelLibrary(paths, on_disk=False))
    library = CountingLibrary(paths, on_disk=True)
    disk = OutlierDetectionStep.call(library)
    assert library.most_out == 1 and library._loaded == {}
    flagged = 0
    for index in range(5):
        a, b = memory[index], disk[index]
        np.testing.assert_array_equal(a.dq, b.dq)
        np.testing.assert_array_equal(a.data, b.data)
        assert b.meta.cal_step.outlier_detection == "COMPLETE"
        assert b.meta.filename == os.path.basename(paths[index])
        flagged += int(((b.dq & 16) != 0).sum())
    assert flagged >= 15  # most of the 30 cosmic-ray hits
    disk.close()


def test_skymatch_on_disk_borrows_one_exposure(tmp_path):
    from builtin_steps.skymatch.step import SkyMatchStep

    paths = _files(tmp_path, 3)
    library = CountingLibrary(paths, on_disk=True)
    SkyMatchStep.call(library, skymethod="local", subtract=True)
    assert library.most_out == 1 and library._loaded == {}
    for index, model in library.models(modify=False):
        original = ModelLibrary([paths[index]])[0]
        level = model.meta.background.level
        assert 0.9 < level < 1.2 and model.meta.background.subtracted
        np.testing.assert_allclose(model.data, original.data - np.float32(level), atol=1e-6)
    library.close()
