"""Tests of the reference-pixel kernel against a direct, loop-based version."""

import numpy as np
import pytest
from scipy import stats

from builtin_steps._common import DO_NOT_USE, REFERENCE_PIXEL, Window
from builtin_steps.refpix.correct import RefpixOptions, correct_nir
from builtin_steps.refpix.orientation import detector_coordinates, to_detector
from builtin_steps.refpix.stats import clipped_mean, running_median


def _sigclip_mean(x):
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return None
    if np.std(x) == 0:
        return x.mean()
    return stats.sigmaclip(x, 3.0, 3.0)[0].mean()


def test_clipped_mean_matches_scipy():
    rng = np.random.default_rng(1)
    v = rng.normal(10, 2, size=(6, 300))
    v[:, :5] = 1000.0  # outliers
    got = clipped_mean(v, np.ones(v.shape, bool))
    want = [stats.sigmaclip(row, 3, 3)[0].mean() for row in v]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_clipped_mean_ignores_invalid_and_reports_empty():
    v = np.array([[1.0, 2.0, 3.0, 100.0], [5.0, 5.0, 5.0, 5.0]])
    valid = np.array([[True, True, True, False], [False, False, False, False]])
    got = clipped_mean(v, valid)
    assert got[0] == pytest.approx(2.0)
    assert np.isnan(got[1])


def test_running_median_reflects_edges_and_skips_invalid():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(40, 4))
    valid = np.ones(v.shape, bool)
    valid[10, 2] = False
    got = running_median(v, valid, 11)
    padded = np.pad(v, ((5, 5), (0, 0)), mode="reflect")
    vpad = np.pad(valid, ((5, 5), (0, 0)), mode="reflect")
    want = [np.median(padded[i : i + 11][vpad[i : i + 11]]) for i in range(40)]
    np.testing.assert_allclose(got, want)


def test_running_median_even_length_is_made_odd():
    v = np.arange(20.0)[:, None].repeat(2, axis=1)
    np.testing.assert_allclose(running_median(v, np.ones(v.shape, bool), 4), running_median(v, np.ones(v.shape, bool), 5))


def _loop_full_frame(det_group, det_dq, opts):
    """Direct per-amplifier implementation of the full-frame algorithm (one group)."""
    g = det_group.astype(np.float64).copy()
    ok = (det_dq & DO_NOT_USE) == 0
    for amp in range(4):
        c0, c1 = amp * 512, (amp + 1) * 512
        pars = [0, 1] if opts.odd_even_columns else [None]
        for p in pars:
            sl = slice(c0 + p, c1, 2) if p is not None else slice(c0, c1)
            vals = []
            for rows in (slice(2044, 2048), slice(0, 4)):
                x = g[rows, sl][ok[rows, sl]]
                vals.append(_sigclip_mean(x))
            vals = [v for v in vals if v is not None]
            if vals:
                g[:, sl] -= np.mean(vals)
    if opts.use_side_ref_pixels:
        sides = []
        for cols in (slice(0, 4), slice(2044, 2048)):
            d = np.pad(g[:, cols], ((5, 5), (0, 0)), mode="reflect")
            m = np.pad(ok[:, cols], ((5, 5), (0, 0)), mode="reflect")
            med = np.array([np.median(d[i : i + 11][m[i : i + 11]]) if m[i : i + 11].any() else np.nan for i in range(2048)])
            sides.append(med)
        a, b = sides
        comb = np.where(np.isnan(a), np.where(np.isnan(b), 0, b), np.where(np.isnan(b), a, 0.5 * (a + b)))
        g -= opts.side_gain * comb[:, None]
    return g


KINDS = {"NRCA3": "flipx", "NRCB1": "flipy", "NRS2": "swap_rot180", "NRS1": "swap", "GUIDER1": "rot180"}


@pytest.mark.parametrize(
    ("detector", "odd_even"),
    [("NRCA3", True), ("NRCA3", False), ("NRCB1", True), ("NRS2", False), ("NRS1", True), ("GUIDER1", True)],
)
def test_full_frame_matches_loop_version(detector, odd_even):
    rng = np.random.default_rng(3)
    data = rng.normal(1000, 5, size=(1, 2, 2048, 2048)).astype(np.float32)
    # per-amplifier, per-parity offsets and a row drift, in detector frame
    det = to_detector(data, KINDS[detector])
    for amp in range(4):
        det[..., :, amp * 512 : (amp + 1) * 512 : 2] += 30 * amp
    det += np.sin(np.arange(2048) / 50.0)[:, None].astype(np.float32) * 7
    pixeldq = np.zeros((2048, 2048), np.uint32)
    pixeldq[:4] = pixeldq[-4:] = REFERENCE_PIXEL
    pixeldq[:, :4] = pixeldq[:, -4:] = REFERENCE_PIXEL
    pixeldq[0, 100] |= DO_NOT_USE
    opts = RefpixOptions(odd_even_columns=odd_even)
    kind = KINDS[detector]
    want = [_loop_full_frame(to_detector(data, kind)[0, g], to_detector(pixeldq, kind), opts) for g in range(2)]
    status = correct_nir(data, pixeldq, detector=detector, window=Window(1, 1, 2048, 2048), noutputs=4, options=opts)
    assert status == "ok"
    got = to_detector(data, kind)[0]
    for g in range(2):
        np.testing.assert_allclose(got[g], want[g], atol=2e-3)
    # the offsets are gone: amplifier means agree within noise
    means = [got[0][:, a * 512 : (a + 1) * 512].mean() for a in range(4)]
    assert np.ptp(means) < 0.5


@pytest.mark.parametrize(
    ("detector", "kind", "window"),
    [("NRCA3", "flipx", Window(1, 101, 16, 12)), ("NRS1", "swap", Window(200, 1, 16, 12)), ("NIS", "swap_rot180", Window(300, 2037, 16, 12))],
)
def test_one_output_subarray_uses_flagged_pixels_by_detector_column_parity(detector, kind, window):
    nints, ngroups, ny, nx = 1, 3, window.ysize, window.xsize
    rng = np.random.default_rng(4)
    data = rng.normal(0, 0.01, size=(nints, ngroups, ny, nx)).astype(np.float32)
    rows, cols = np.meshgrid(np.arange(ny) + window.ystart - 1, np.arange(nx) + window.xstart - 1, indexing="ij")
    _, det_cols = detector_coordinates(rows, cols, kind)
    even = det_cols % 2 == 0
    data += np.array([5.0, 7.0, 9.0], np.float32)[None, :, None, None]
    data += np.where(even, 100.0, -30.0).astype(np.float32)
    pixeldq = np.zeros((ny, nx), np.uint32)
    pixeldq[:4, :4] = REFERENCE_PIXEL  # a corner block holds both parities
    status = correct_nir(data, pixeldq, detector=detector, window=window, noutputs=1, options=RefpixOptions())
    assert status == "ok"
    assert np.abs(data).max() < 0.1


def test_one_output_subarray_single_mean_without_odd_even():
    data = np.full((1, 2, 8, 8), 3.0, np.float32)
    data[..., :, ::2] += 2.0
    pixeldq = np.zeros((8, 8), np.uint32)
    pixeldq[:, :4] = REFERENCE_PIXEL
    opts = RefpixOptions(odd_even_columns=False)
    correct_nir(data, pixeldq, detector="NRCA1", window=Window(1, 300, 8, 8), noutputs=1, options=opts)
    np.testing.assert_allclose(data[..., :, ::2], 1.0)
    np.testing.assert_allclose(data[..., :, 1::2], -1.0)


def test_subarray_without_reference_pixels_is_left_alone():
    data = np.ones((1, 2, 8, 8), np.float32)
    before = data.copy()
    status = correct_nir(
        data, np.zeros((8, 8), np.uint32), detector="NRCA1", window=Window(100, 100, 8, 8), noutputs=1, options=RefpixOptions()
    )
    assert status == "no_reference_pixels"
    np.testing.assert_array_equal(data, before)


def test_window_outside_detector_does_not_fit():
    data = np.ones((1, 1, 8, 8), np.float32)
    status = correct_nir(
        data, np.zeros((8, 8), np.uint32), detector="NRCA1", window=Window(2045, 1, 8, 8), noutputs=1, options=RefpixOptions()
    )
    assert status == "does_not_fit"


def test_four_output_subarray_uses_embedded_full_frame_correction():
    # a 2048-row stripe of 64 columns touching the left border, read by 4 outputs (no flip)
    rng = np.random.default_rng(5)
    ny, nx = 2048, 64
    data = rng.normal(50, 1, size=(1, 1, ny, nx)).astype(np.float32)
    pixeldq = np.zeros((ny, nx), np.uint32)
    pixeldq[:4] = pixeldq[-4:] = REFERENCE_PIXEL
    pixeldq[:, :4] |= REFERENCE_PIXEL
    opts = RefpixOptions()
    full = np.zeros((1, 1, 2048, 2048), np.float32)
    full[..., :, :nx] = data
    fdq = np.full((2048, 2048), DO_NOT_USE | REFERENCE_PIXEL, np.uint32)
    fdq[4:-4, 4:-4] = 0
    fdq[:, :nx] = pixeldq
    want = _loop_full_frame(full[0, 0], fdq, opts)[:, :nx]
    assert correct_nir(data, pixeldq, detector="NRCA2X", window=Window(1, 1, nx, ny), noutputs=4, options=opts) == "ok"
    np.testing.assert_allclose(data[0, 0], want, atol=1e-3)


def test_zeroframe_corrected_and_zeros_kept():
    ny = nx = 8
    data = np.full((1, 1, ny, nx), 10.0, np.float32)
    zf = np.full((1, ny, nx), 4.0, np.float32)
    zf[0, 5, 5] = 0
    pixeldq = np.zeros((ny, nx), np.uint32)
    pixeldq[:, :4] = REFERENCE_PIXEL
    correct_nir(
        data, pixeldq, detector="NRCA1", window=Window(1, 200, nx, ny), noutputs=1, options=RefpixOptions(), zeroframe=zf
    )
    assert np.allclose(data, 0)
    assert zf[0, 5, 5] == 0
    assert np.allclose(np.delete(zf.ravel(), 5 * nx + 5), 0)
