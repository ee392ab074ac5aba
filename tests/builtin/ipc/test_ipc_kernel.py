"""Tests of the IPC convolution kernel and the IRS2 row mask."""

import numpy as np
import pytest
from scipy import ndimage

from builtin_steps.ipc.convolve import Borders, convolve_planes, prepare_pixel_kernel, reference_borders
from builtin_steps.ipc.irs2 import irs2_normal_mask, is_irs2

NO_BORDER = Borders(0, 0, 0, 0)


def _brute_force(image, kernel, borders):
    """Direct sum over pixels: out[y, x] = sum k[j, i] * sci[y + c - j, x + c - i]."""
    ny, nx = image.shape
    b, t, left, r = borders
    sci = image[b : ny - t, left : nx - r].astype(np.float64)
    sny, snx = sci.shape
    kny, knx = kernel.shape[:2]
    cy, cx = kny // 2, knx // 2
    out = image.astype(np.float64).copy()
    for y in range(sny):
        for x in range(snx):
            total = 0.0
            for j in range(kny):
                for i in range(knx):
                    yy, xx = y + cy - j, x + cx - i
                    if 0 <= yy < sny and 0 <= xx < snx:
                        k = kernel[j, i] if kernel.ndim == 2 else kernel[j, i, y + b, x + left]
                        total += k * sci[yy, xx]
            out[y + b, x + left] = total
    return out


def test_2d_kernel_is_a_zero_padded_convolution():
    rng = np.random.default_rng(1)
    image = rng.normal(1000, 50, (12, 15)).astype(np.float32)
    kernel = rng.normal(0, 0.05, (3, 5)).astype(np.float32)
    kernel[1, 2] = 1.0
    out = image.copy()
    convolve_planes(out, kernel, NO_BORDER)
    expected = ndimage.convolve(image.astype(np.float64), kernel.astype(np.float64), mode="constant")
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_reference_pixels_unchanged_and_not_used():
    rng = np.random.default_rng(2)
    image = rng.normal(1000, 50, (14, 16)).astype(np.float32)
    borders = Borders(2, 3, 1, 4)
    kernel = np.full((3, 3), 0.01, np.float32)
    kernel[1, 1] = 0.92
    poisoned = image.copy()
    poisoned[:2] = poisoned[-3:] = 1e9
    poisoned[:, :1] = poisoned[:, -4:] = 1e9
    out = poisoned.copy()
    convolve_planes(out, kernel, borders)
    np.testing.assert_array_equal(out[:2], poisoned[:2])
    np.testing.assert_array_equal(out[:, -4:], poisoned[:, -4:])
    np.testing.assert_allclose(out, _brute_force(poisoned, kernel, borders), rtol=1e-6)
    assert np.abs(out[2:-3, 1:-4]).max() < 2000  # no reference value leaked in


def test_4d_kernel_per_pixel():
    rng = np.random.default_rng(3)
    image = rng.normal(500, 20, (9, 10)).astype(np.float32)
    kernel = rng.normal(0, 0.03, (3, 3, 9, 10)).astype(np.float32)
    kernel[1, 1] += 1.0
    borders = Borders(1, 0, 2, 1)
    out = image.copy()
    convolve_planes(out, kernel, borders)
    np.testing.assert_allclose(out, _brute_force(image, kernel, borders), rtol=1e-5)


def test_uniform_4d_kernel_equals_2d_kernel():
    rng = np.random.default_rng(4)
    planes = rng.normal(800, 30, (3, 11, 13)).astype(np.float32)
    kernel = rng.normal(0, 0.02, (5, 5)).astype(np.float32)
    kernel[2, 2] = 1.0
    a, b = planes.copy(), planes.copy()
    convolve_planes(a, kernel, NO_BORDER)
    convolve_planes(b, np.broadcast_to(kernel[:, :, None, None], (5, 5, 11, 13)), NO_BORDER)
    np.testing.assert_array_equal(a, b)


def test_nan_pixel_stays_nan_and_does_not_spread():
    image = np.full((7, 7), 100.0, np.float32)
    image[3, 3] = np.nan
    kernel = np.full((3, 3), 0.01, np.float32)
    kernel[1, 1] = 0.92
    convolve_planes(image, kernel, NO_BORDER)
    assert np.isnan(image[3, 3])
    assert np.isfinite(np.delete(image.ravel(), 3 * 7 + 3)).all()
    assert image[3, 4] == pytest.approx(100.0 * (0.92 + 0.07), rel=1e-6)


def test_nan_pixel_kernels_become_identity():
    kernel = np.zeros((3, 3, 4, 4), np.float32)
    kernel[1, 1] = 1.0
    kernel[0, 0, 2, 1] = np.nan
    fixed, count = prepare_pixel_kernel(kernel)
    assert count == 1
    assert not np.isnan(fixed).any()
    np.testing.assert_array_equal(fixed[:, :, 2, 1], np.pad([[1.0]], 1))


@pytest.mark.parametrize(
    ("instrument", "window", "expected"),
    [
        ("NIRCAM", (1, 1, 2048, 2048), Borders(4, 4, 4, 4)),
        ("NIRCAM", (101, 201, 8, 8), Borders(0, 0, 0, 0)),
        ("NIRCAM", (1, 2041, 64, 8), Borders(0, 4, 4, 0)),
        ("NIRCAM", (2, 3, 8, 8), Borders(2, 0, 3, 0)),
        ("MIRI", (1, 1, 1032, 1024), Borders(0, 0, 4, 4)),
        ("MIRI", (1, 1, 2, 8), Borders(0, 0, 2, 0)),
    ],
)
def test_reference_borders(instrument, window, expected):
    assert reference_borders(instrument, *window) == expected


def test_irs2_mask_default_layout():
    mask = irs2_normal_mask(3200)
    assert mask.sum() == 2048
    assert not mask[:640].any()
    # 8 normal, 4 reference, then blocks of 16 normal and 4 reference
    np.testing.assert_array_equal(mask[640:668], [True] * 8 + [False] * 4 + [True] * 16)
    assert is_irs2((3200, 2048)) and not is_irs2((2048, 2048))


def test_irs2_mask_alternating_outputs():
    mask = irs2_normal_mask(3300, 12, 4)
    refout = 512 + 512 // 12 * 4
    per_output = (3300 - refout) // 4
    first = mask[refout : refout + per_output]
    second = mask[refout + per_output : refout + 2 * per_output]
    np.testing.assert_array_equal(second, first[::-1])
    assert not np.array_equal(first, first[::-1])


def test_irs2_mask_rejects_bad_parameters():
    with pytest.raises(ValueError, match="NRS_NORM=0"):
        irs2_normal_mask(3200, 0, 4)
