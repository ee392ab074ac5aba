"""Tests of the helpers shared by the built-in steps."""

import numpy as np
import pytest

from builtin_steps import _common
from builtin_steps._common import Window, subarray_cutout
from pipeline_core.datamodels import dqflags
from pipeline_core.errors import ReferenceFileError


@pytest.mark.parametrize(
    "name", ["DO_NOT_USE", "SATURATED", "JUMP_DET", "AD_FLOOR", "NO_LIN_CORR", "NO_SAT_CHECK", "REFERENCE_PIXEL"]
)
def test_bit_values_are_the_jwst_ones(name):
    assert getattr(_common, name) == dqflags.pixel[name]


def test_cutout_of_full_frame_reference():
    ref = np.arange(3 * 20 * 30).reshape(3, 20, 30)
    got = subarray_cutout(ref, sci_window=Window(5, 3, 4, 2))
    np.testing.assert_array_equal(got, ref[:, 2:4, 4:8])


def test_matching_reference_is_returned_as_is():
    ref = np.zeros((4, 4))
    assert subarray_cutout(ref, sci_window=Window(10, 10, 4, 4), ref_window=Window(10, 10, 4, 4)) is ref


def test_cutout_of_subarray_reference_with_offset():
    ref = np.arange(100).reshape(10, 10)
    got = subarray_cutout(ref, sci_window=Window(13, 12, 2, 2), ref_window=Window(11, 11, 10, 10))
    np.testing.assert_array_equal(got, ref[1:3, 2:4])


def test_reference_not_covering_the_subarray_is_a_clear_error():
    with pytest.raises(ReferenceFileError, match=r"mask 'm.fits' covers columns 1\.\.10 .* use a full-frame reference"):
        subarray_cutout(np.zeros((10, 10)), sci_window=Window(8, 1, 5, 5), what="mask 'm.fits'")


def test_window_offset_of_subarray_in_full_frame_and_in_offset_reference():
    assert _common.window_offset((20, 30), sci_window=Window(5, 3, 4, 2)) == (2, 4)
    assert _common.window_offset((10, 10), sci_window=Window(13, 12, 2, 2), ref_window=Window(11, 11, 10, 10)) == (1, 2)
    with pytest.raises(ReferenceFileError, match="does not contain the science subarray"):
        _common.window_offset((10, 10), sci_window=Window(8, 1, 5, 5))


class _Step:
    name = "probe"


def _gain_file(tmp_path, data, window=(1, 1), reftype="GAIN"):
    from pipeline_core.datamodels import GainModel

    ref = GainModel(data=data)
    ref.meta.reftype = reftype
    ref.meta.subarray.xstart, ref.meta.subarray.ystart = window
    return ref.save(tmp_path / "gain.fits")


def _science(ny=4, nx=5, xstart=7, ystart=3):
    from pipeline_core.datamodels import RampModel

    model = RampModel(data=np.zeros((1, 2, ny, nx), np.float32))
    sub = model.meta.subarray
    sub.xstart, sub.ystart, sub.xsize, sub.ysize = xstart, ystart, nx, ny
    return model


@pytest.mark.parametrize("lazy", [False, True])
def test_reference_rows_reads_a_band_of_the_science_window(tmp_path, lazy):
    from pipeline_core.datamodels import open_model

    full = np.arange(20 * 30, dtype=np.float32).reshape(20, 30)
    ref = open_model(_gain_file(tmp_path, full), lazy=lazy)
    got = _common.reference_rows(_Step(), _science(), ref, "data", slice(1, 3), "gain")
    np.testing.assert_array_equal(got, full[3:5, 6:11])
    assert ref.is_loaded("data") is not lazy


def test_reference_rows_of_a_matching_reference_keeps_whole_rows(tmp_path):
    from pipeline_core.datamodels import open_model

    data = np.arange(20, dtype=np.float32).reshape(4, 5)
    ref = open_model(_gain_file(tmp_path, data, window=(7, 3)), lazy=True)
    got = _common.reference_rows(_Step(), _science(), ref, "data", slice(0, 4), "gain")
    np.testing.assert_array_equal(got, data)


def test_check_reference_coverage_reads_nothing_and_reports_problems(tmp_path):
    from pipeline_core.datamodels import open_model

    ref = open_model(_gain_file(tmp_path, np.ones((20, 30), np.float32)), lazy=True)
    _common.check_reference_coverage(_Step(), _science(), ref, "gain")
    assert not ref.is_loaded("data")
    with pytest.raises(ReferenceFileError, match="step probe: .*does not contain the science subarray"):
        _common.check_reference_coverage(_Step(), _science(xstart=28), ref, "gain")
    other = open_model(_gain_file(tmp_path, np.ones((20, 30), np.float32), reftype="READNOISE"), lazy=True)
    with pytest.raises(ReferenceFileError, match=r"is a READNOISE reference file .*not GAIN"):
        _common.check_reference_coverage(_Step(), _science(), other, "gain")
