"""Tests of IPCStep: recover a ramp from its IPC-convolved version, skips, errors."""

import logging

import numpy as np
import pytest
from scipy import ndimage

from builtin_steps.ipc import IPCStep
from builtin_steps.ipc.irs2 import irs2_normal_mask
from pipeline_core.datamodels import IPCModel
from pipeline_core.errors import ReferenceFileError, StepError
from tests.builtin import _stepdata as sd

ALPHA, BETA = 0.015, 0.002  # nearest and diagonal coupling


def ipc_kernel():
    """A symmetric IPC coupling kernel (sums to 1)."""
    k = np.array([[BETA, ALPHA, BETA], [ALPHA, 0.0, ALPHA], [BETA, ALPHA, BETA]])
    k[1, 1] = 1.0 - k.sum()
    return k


def deconvolution_kernel(size=7, grid=64):
    """The inverse of ipc_kernel() (via FFT on a large grid), cut to size x size."""
    padded = np.zeros((grid, grid))
    padded[:3, :3] = ipc_kernel()
    padded = np.roll(padded, (-1, -1), axis=(0, 1))
    inverse = np.real(np.fft.ifft2(1.0 / np.fft.fft2(padded)))
    inverse = np.fft.fftshift(inverse)
    c, h = grid // 2, size // 2
    return inverse[c - h : c + h + 1, c - h : c + h + 1].astype(np.float32)


def ipc_model(kernel, window=None):
    model = IPCModel(data=np.asarray(kernel, np.float32))
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = "NRCA1"
    if window is not None:
        model.meta.subarray.xstart, model.meta.subarray.ystart = window
    return model


def truth_ramp(shape=(2, 3, 24, 24), seed=7):
    """Background plus point sources growing with the groups."""
    rng = np.random.default_rng(seed)
    nints, ngroups, ny, nx = shape
    ramp = sd.make_ramp(shape, value=0.0, slope=0.0)
    scene = rng.normal(200.0, 5.0, (ny, nx))
    for y, x in rng.integers(3, min(ny, nx) - 3, size=(6, 2)):
        scene[y, x] += rng.uniform(2000, 20000)
    growth = np.arange(1, ngroups + 1)[None, :, None, None]
    ramp.data[...] = (scene[None, None] * growth / ngroups).astype(np.float32)
    return ramp


def test_recovers_the_scene_before_ipc():
    truth = truth_ramp()
    observed = truth.copy()
    for i, g in np.ndindex(observed.data.shape[:2]):
        observed.data[i, g] = ndimage.convolve(truth.data[i, g].astype(np.float64), ipc_kernel(), mode="constant")
    before = np.abs(observed.data - truth.data)[..., 4:-4, 4:-4].max()
    out = IPCStep.call(observed, override_ipc=ipc_model(deconvolution_kernel()))
    after = np.abs(out.data - truth.data)[..., 4:-4, 4:-4]
    assert before > 100.0  # IPC moved signal out of the point sources
    # Interior pixels (4 from the edge: kernel radii 1 + 3) match the truth to 0.01 DN.
    assert after.max() < 0.01
    assert out.meta.cal_step.ipc == "COMPLETE"


def test_reference_file_on_disk_2d_and_4d(tmp_path):
    ramp = truth_ramp((1, 2, 8, 8))
    kernel = deconvolution_kernel(3)
    path2 = tmp_path / "ipc2d.fits"
    ipc_model(kernel).save(path2)
    # 4-D full-frame-sized kernel would be large: a 16 x 16 one at (97, 197) covers the 8 x 8 data at (101, 201).
    full = np.broadcast_to(kernel[:, :, None, None], (3, 3, 16, 16)).copy()
    path4 = tmp_path / "ipc4d.fits"
    ipc_model(full, window=(97, 197)).save(path4)
    a = IPCStep.call(ramp, override_ipc=str(path2))
    b = IPCStep.call(ramp, override_ipc=str(path4))
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, ramp.data)


def test_4d_kernel_cut_to_subarray_uses_the_right_pixels():
    ramp = sd.make_ramp((1, 1, 8, 8), value=100.0, slope=0.0)
    kernel = np.zeros((3, 3, 16, 16), np.float32)
    kernel[1, 1] = np.arange(256, dtype=np.float32).reshape(16, 16)  # pure per-pixel scaling
    out = IPCStep.call(ramp, override_ipc=ipc_model(kernel, window=(97, 197)))
    np.testing.assert_allclose(out.data[0, 0], 100.0 * kernel[1, 1, 4:12, 4:12])


def test_full_frame_corner_reference_pixels_untouched():
    ramp = sd.make_ramp((1, 2, 12, 12), value=500.0, slope=10.0, window=(1, 1))
    ramp.data[:, :, :4, :] = 7.0
    ramp.data[:, :, :, :4] = 7.0
    before = ramp.data.copy()
    out = IPCStep.call(ramp, override_ipc=ipc_model(deconvolution_kernel(3)))
    np.testing.assert_array_equal(out.data[:, :, :4, :], before[:, :, :4, :])
    np.testing.assert_array_equal(out.data[:, :, :, :4], before[:, :, :, :4])
    assert not np.array_equal(out.data[:, :, 4:, 4:], before[:, :, 4:, 4:])


def test_miri_reference_columns_only():
    ramp = sd.make_ramp((1, 1, 8, 10), value=300.0, slope=0.0, window=(1, 1))
    ramp.meta.instrument.name = "MIRI"
    ramp.meta.instrument.detector = "MIRIMAGE"
    kernel = np.zeros((3, 3), np.float32)
    kernel[1, 1] = 2.0
    out = IPCStep.call(ramp, override_ipc=ipc_model(kernel))
    np.testing.assert_array_equal(out.data[0, 0, :, :4], 300.0)
    np.testing.assert_array_equal(out.data[0, 0, :, 4:], 600.0)  # every row corrected


def test_single_group_ramp():
    ramp = sd.make_ramp((1, 1, 6, 6), value=50.0, slope=0.0)
    kernel = np.zeros((3, 3), np.float32)
    kernel[1, 1] = 1.0
    kernel[1, 0] = 0.5  # out[y, x] += 0.5 * data[y, x + 1]
    out = IPCStep.call(ramp, override_ipc=ipc_model(kernel))
    np.testing.assert_allclose(out.data[0, 0, :, :-1], 75.0)
    np.testing.assert_allclose(out.data[0, 0, :, -1], 50.0)


def test_not_applicable_reference_skips(caplog):
    ramp = truth_ramp((1, 2, 8, 8))
    with caplog.at_level(logging.WARNING):
        out = IPCStep.call(ramp, override_ipc="N/A")
    np.testing.assert_array_equal(out.data, ramp.data)
    assert out.meta.cal_step.ipc == "SKIPPED"
    assert "No IPC reference file applies" in caplog.text


def test_nan_in_2d_kernel_is_an_error():
    kernel = deconvolution_kernel(3)
    kernel[0, 0] = np.nan
    with pytest.raises(ReferenceFileError, match="NaN or infinite"):
        IPCStep.call(truth_ramp((1, 1, 8, 8)), override_ipc=ipc_model(kernel))


def test_even_kernel_is_an_error():
    with pytest.raises(ReferenceFileError, match="is 2 x 3; its sizes must be odd"):
        IPCStep.call(truth_ramp((1, 1, 8, 8)), override_ipc=ipc_model(np.ones((2, 3))))


def test_nan_in_4d_kernel_leaves_that_pixel(caplog):
    ramp = sd.make_ramp((1, 1, 8, 8), value=100.0, slope=0.0)
    kernel = np.zeros((3, 3, 8, 8), np.float32)
    kernel[1, 1] = 3.0
    kernel[0, 2, 5, 6] = np.nan
    with caplog.at_level(logging.WARNING):
        out = IPCStep.call(ramp, override_ipc=ipc_model(kernel, window=(101, 201)))
    assert out.data[0, 0, 5, 6] == 100.0
    assert out.data[0, 0, 5, 5] == 300.0
    assert "1 pixel(s)" in caplog.text


def test_wrong_reference_type_is_an_error():
    ref = ipc_model(np.ones((3, 3)))
    ref.meta.reftype = "GAIN"
    with pytest.raises(ReferenceFileError, match="GAIN"):
        IPCStep.call(truth_ramp((1, 1, 8, 8)), override_ipc=ref)


@pytest.mark.parametrize("detector", ["NRS1", "NRS2"])
def test_irs2_only_normal_rows_corrected(detector):
    rng = np.random.default_rng(11)
    ramp = sd.make_ramp((1, 1, 3200, 12), value=0.0, slope=0.0, detector=detector, window=(1, 1))
    ramp.meta.instrument.name = "NIRSPEC"
    ramp.meta.subarray.ysize = 2048
    ramp.data[...] = rng.normal(1000, 20, ramp.data.shape).astype(np.float32)
    before = ramp.data.copy()
    kernel = deconvolution_kernel(3)
    out = IPCStep.call(ramp, override_ipc=ipc_model(kernel))
    rows = irs2_normal_mask(3200)
    rows = rows[::-1] if detector == "NRS2" else rows
    np.testing.assert_array_equal(out.data[..., ~rows, :], before[..., ~rows, :])
    normal = before[0, 0][rows].astype(np.float64)
    sci = normal[4:-4, 4:]  # 4 reference rows at each end, 4 reference columns at the left
    expected = ndimage.convolve(sci, kernel.astype(np.float64), mode="constant")
    np.testing.assert_allclose(out.data[0, 0][rows][4:-4, 4:], expected, rtol=1e-5)


def test_irs2_layout_on_another_detector_is_an_error():
    ramp = sd.make_ramp((1, 1, 3200, 8), value=1.0, slope=0.0, window=(1, 1))
    with pytest.raises(StepError, match="not NIRSpec NRS1/NRS2"):
        IPCStep.call(ramp, override_ipc=ipc_model(np.ones((3, 3))))
