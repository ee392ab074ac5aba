"""MIRI reference columns and the SIRS side correction, against injected truth."""

import asdf
import numpy as np
import pytest

from builtin_steps.refpix.miri import MIRI_SHAPE, correct_miri
from builtin_steps.refpix.sirs import _convolve_rows, make_kernels, read_sirs_coefficients
from builtin_steps.refpix.step import RefPixStep
from tests.builtin import _stepdata as sd


def _miri_ramp(rng, ngroups=3, odd_even=True):
    ny, nx = MIRI_SHAPE
    sky = rng.uniform(100, 200, (ny, nx)).astype(np.float32)
    sky[:, :4] = sky[:, -4:] = 0  # reference columns see no light
    ramp = sky[None, None] * np.arange(ngroups, dtype=np.float32)[None, :, None, None] / 10
    offsets = rng.normal(0, 50, (1, ngroups, 2 if odd_even else 1, 4))
    rows = np.arange(ny) % offsets.shape[2]
    amp = np.arange(nx) % 4
    drift = offsets[:, :, rows][..., amp]  # (1, ngroups, ny, nx)
    noise = rng.normal(0, 1.0, (1, ngroups, ny, nx))
    return (ramp + drift + noise + 1000).astype(np.float32), ramp, drift


def test_miri_removes_each_amplifier_and_row_parity_offset():
    rng = np.random.default_rng(1)
    data, ramp, drift = _miri_ramp(rng)
    truth = data - (drift - drift[:, :1])  # group-to-group drift removed, first group kept
    assert correct_miri(data, np.zeros(MIRI_SHAPE, np.uint32), odd_even_rows=True)
    np.testing.assert_array_equal(data[:, 0], truth[:, 0])
    assert np.abs(data - truth).max() < 0.3  # noise of a 2 x 512-sample mean, << 50 DN drifts


def test_miri_without_odd_even_rows_leaves_the_row_parity_offset():
    rng = np.random.default_rng(2)
    data, _, drift = _miri_ramp(rng)
    truth = data - (drift - drift[:, :1])
    correct_miri(data, np.zeros(MIRI_SHAPE, np.uint32), odd_even_rows=False)
    residual = (data - truth)[0, 2]
    parity_gap = abs(residual[0::2, 1::4].mean() - residual[1::2, 1::4].mean())
    assert parity_gap > 1.0  # one mean for both parities cannot remove a parity offset


def test_miri_ignores_do_not_use_reference_pixels():
    rng = np.random.default_rng(3)
    data, _, drift = _miri_ramp(rng)
    truth = data - (drift - drift[:, :1])
    data[:, 1:, ::3, 0] += 5000.0  # hot reference pixels ...
    truth[:, 1:, ::3, 0] += 5000.0
    dq = np.zeros(MIRI_SHAPE, np.uint32)
    dq[::3, 0] = 1  # ... flagged DO_NOT_USE
    correct_miri(data, dq)
    assert np.abs(data - truth)[..., 4:-4].max() < 0.3


def test_miri_step_full_frame_is_complete_and_subarray_skipped():
    rng = np.random.default_rng(4)
    data, _, drift = _miri_ramp(rng, ngroups=2)
    ramp = sd.make_ramp(shape=data.shape, detector="MIRIMAGE", window=(1, 1))
    ramp.meta.instrument.name = "MIRI"
    ramp.data[...] = data
    out = RefPixStep.call(ramp)
    assert out.meta.cal_step.refpix == "COMPLETE"
    assert np.abs(out.data - (data - (drift - drift[:, :1]))).max() < 0.3
    sub = sd.make_ramp()
    sub.meta.instrument.name = "MIRI"
    assert RefPixStep.call(sub).meta.cal_step.refpix == "SKIPPED"


def test_batched_row_convolution_is_numpy_same_mode():
    rng = np.random.default_rng(5)
    values = rng.normal(size=(3, 200))
    kernel = rng.normal(size=61)
    expected = np.stack([np.convolve(v, kernel, mode="same") for v in values])
    np.testing.assert_allclose(_convolve_rows(values, kernel), expected, atol=1e-12)


def _delta_weights(n=64):
    # an all-real flat half spectrum is a unit impulse; 0.5 on each side averages them
    return np.full((4, n + 1), 0.5, complex), np.full((4, n + 1), 0.5, complex)


def test_make_kernels_centres_and_smooths_the_impulse():
    kernels = make_kernels(*_delta_weights(), gaussmooth=1.0, halfwidth=10)
    assert kernels.left.shape == (4, 21)
    assert kernels.left[0].argmax() == 10
    np.testing.assert_allclose(kernels.left.sum(axis=1), 0.5, atol=1e-6)
    with pytest.raises(ValueError, match="halfwidth"):
        make_kernels(*_delta_weights(8), gaussmooth=1.0, halfwidth=30)


def _full_frame_with_row_noise(rng):
    ramp = sd.make_ramp(shape=(1, 1, 2048, 2048), value=0.0, slope=0.0, detector="NRCA1", window=(1, 1))
    walk = np.cumsum(rng.normal(0, 3.0, 2048))  # 1/f-like row-to-row drift (detector rows = science rows)
    ramp.data[0, 0] += walk[:, None].astype(np.float32)
    ramp.data[0, 0] += rng.normal(0, 0.5, (2048, 2048)).astype(np.float32)
    border = np.zeros((2048, 2048), bool)
    border[:4] = border[-4:] = border[:, :4] = border[:, -4:] = True
    ramp.pixeldq[border] = 1 << 31
    return ramp, walk


def _sirs_file(tmp_path, detector="nrca1"):
    gamma, zeta = _delta_weights()
    path = tmp_path / "sirs.asdf"
    asdf.AsdfFile({"meta": {"reftype": "SIRSKERNEL"}, detector: {"gamma": gamma, "zeta": zeta}}).write_to(path)
    return str(path)


def test_sirs_removes_row_noise_the_running_median_leaves(tmp_path):
    rng = np.random.default_rng(6)
    ramp, walk = _full_frame_with_row_noise(rng)
    median = RefPixStep.call(ramp.copy())
    sirs = RefPixStep.call(
        ramp, refpix_algorithm="sirs", gaussmooth=0.05, halfwidth=10, override_sirskernel=_sirs_file(tmp_path)
    )
    inner = (slice(4, -4), slice(4, -4))
    rms_sirs = sirs.data[0, 0][inner].mean(axis=1).std()
    rms_median = median.data[0, 0][inner].mean(axis=1).std()
    assert rms_sirs < 0.25  # the per-row mean of 8 side pixels: 0.5 / sqrt(8) per row
    assert rms_median > 2 * rms_sirs


def test_sirs_coefficients_are_found_per_detector(tmp_path):
    path = _sirs_file(tmp_path)
    assert read_sirs_coefficients(path, "NRCA1")[0].shape == (4, 65)
    assert read_sirs_coefficients(path, "NRCB4") is None


def test_sirs_without_kernel_for_the_detector_falls_back_to_median(tmp_path):
    rng = np.random.default_rng(7)
    ramp, _ = _full_frame_with_row_noise(rng)
    median = RefPixStep.call(ramp.copy())
    other = RefPixStep.call(ramp, refpix_algorithm="sirs", override_sirskernel=_sirs_file(tmp_path, "nrcb4"))
    np.testing.assert_array_equal(other.data, median.data)


def test_sirs_on_a_subarray_is_the_median_algorithm():
    ramp = sd.make_ramp(value=0.0, slope=0.0, window=(1, 101))
    ramp.data[...] += 3.0
    ramp.pixeldq[:, :4] = 1 << 31
    out = RefPixStep.call(ramp, refpix_algorithm="sirs")  # no SIRSKERNEL needed
    assert np.abs(out.data).max() < 1e-5
