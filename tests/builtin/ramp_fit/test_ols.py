"""Tests of the optimally weighted least-squares ramp-fitting kernel."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.ramp_fit.ols import fit_ramps
from tests.fixtures.ramps import make_ramps

DNU, SAT, JUMP = 1, 2, 4
NO_GAIN_VALUE = 1 << 19


def fit(r, **kwargs):
    """Fit a SyntheticRamps with its own gain, read noise and timing."""
    options = {"group_time": r.group_time, "frame_time": r.frame_time, "nframes": r.nframes}
    options.update(kwargs)
    return fit_ramps(r.data, r.groupdq, r.pixeldq, r.gain, r.readnoise, **options)


@pytest.fixture(scope="module")
def clean():
    ramps = make_ramps(shape=(2, 10, 128, 128), rate=(2.0, 500.0), seed=11)
    return ramps, fit(ramps)


def test_rates_are_unbiased(clean):
    ramps, out = clean
    rel = (out["rate"] - ramps.rate) / ramps.rate
    assert abs(np.median(rel)) < 1e-3
    rel_ints = (out["ints"] - ramps.rate) / ramps.rate
    assert abs(np.median(rel_ints)) < 1e-3


def test_err_is_calibrated(clean):
    ramps, out = clean
    pull = (out["rate"] - ramps.rate) / out["rate_err"]
    assert abs(np.std(pull) - 1.0) < 0.05
    pull_ints = (out["ints"] - ramps.rate) / out["ints_err"]
    assert abs(np.std(pull_ints) - 1.0) < 0.05


def test_err_is_sum_of_variances(clean):
    _, out = clean
    np.testing.assert_allclose(
        out["rate_err"] ** 2, out["rate_var_poisson"] + out["rate_var_rnoise"], rtol=1e-5
    )
    assert np.all(out["rate_dq"] == 0)
    assert out["rate"].dtype == np.float32 and out["ints_dq"].dtype == np.uint32


def test_low_signal_err_is_calibrated():
    ramps = make_ramps(shape=(1, 10, 128, 128), rate=0.5, seed=12)
    out = fit(ramps)
    pull = (out["rate"] - ramps.rate) / out["rate_err"]
    assert abs(np.std(pull) - 1.0) < 0.05


def test_exact_line_is_recovered_for_every_weighting():
    # noiseless ramps spanning all S/N classes: every weighting gives the slope
    rates = np.geomspace(0.01, 5e4, 64).reshape(8, 8)
    tg = 10.0
    data = (100.0 + rates[None, None] * tg * np.arange(10)[None, :, None, None]).astype(np.float32)
    out = fit_ramps(
        data, np.zeros(data.shape, np.uint8), np.zeros((8, 8), np.uint32),
        np.full((8, 8), 2.0, np.float32), np.full((8, 8), 5.0, np.float32),
        group_time=tg, frame_time=tg,
    )
    np.testing.assert_allclose(out["rate"], rates, rtol=2e-5, atol=1e-4)


def test_jump_splits_the_ramp():
    ramps = make_ramps(shape=(1, 10, 64, 64), rate=50.0, seed=13)
    ramps.data[0, 6:] += 5000.0
    ramps.groupdq[0, 6] = JUMP
    out = fit(ramps)
    pull = (out["rate"] - ramps.rate) / out["rate_err"]
    assert abs(np.median(pull)) < 0.1
    assert np.all(out["rate_dq"] == JUMP) and np.all(out["ints_dq"] == JUMP)


def test_two_jumps_and_short_segments():
    # jumps into groups 3 and 4: segments [0, 3) and [4, 10); group 3 alone is no segment
    ramps = make_ramps(shape=(1, 10, 64, 64), rate=20.0, seed=14)
    ramps.data[0, 3:] += 3000.0
    ramps.data[0, 4:] += 3000.0
    ramps.groupdq[0, 3] = JUMP
    ramps.groupdq[0, 4] = JUMP
    out = fit(ramps)
    pull = (out["rate"] - ramps.rate) / out["rate_err"]
    assert abs(np.median(pull)) < 0.1
    assert abs(np.std(pull) - 1.0) < 0.1


def test_saturation_uses_the_groups_before():
    ramps = make_ramps(shape=(1, 10, 32, 32), rate=100.0, seed=15)
    ramps.groupdq[0, 4:, :, :16] = SAT
    out = fit(ramps)
    assert np.all(np.isfinite(out["rate"]))
    assert np.all(out["rate_dq"][:, :16] == SAT) and np.all(out["rate_dq"][:, 16:] == 0)
    assert np.all(out["ints_dq"][0, :, :16] == SAT)
    # fewer groups: larger uncertainty
    assert np.all(out["rate_err"][:, :16] > out["rate_err"][:, 16:].max())


def test_fully_saturated_pixel_is_nan():
    ramps = make_ramps(shape=(2, 5, 8, 8), rate=10.0, seed=16)
    ramps.groupdq[:, :, 0, 0] = SAT
    ramps.groupdq[0, :, 1, 1] = SAT  # one of two integrations
    out = fit(ramps)
    assert np.isnan(out["rate"][0, 0])
    assert out["rate_dq"][0, 0] == SAT | DNU
    assert out["rate_err"][0, 0] == 0 and out["rate_var_poisson"][0, 0] == 0
    assert np.all(out["ints_dq"][:, 0, 0] == SAT | DNU)
    # the good integration carries the rate; the rate is flagged SATURATED
    assert np.isnan(out["ints"][0, 1, 1]) and np.isfinite(out["ints"][1, 1, 1])
    assert out["rate"][1, 1] == pytest.approx(out["ints"][1, 1, 1], rel=1e-6)
    assert out["rate_dq"][1, 1] == SAT


def test_one_good_group_suppressed_or_used():
    ramps = make_ramps(shape=(1, 5, 4, 4), rate=30.0, bias=0.0, seed=17)
    ramps.groupdq[0, 1:] = SAT
    out = fit(ramps)  # suppress_one_group=True
    assert np.all(np.isnan(out["rate"]))
    assert np.all(out["rate_dq"] & DNU)
    out = fit(ramps, suppress_one_group=False)
    expected = ramps.data[0, 0] / ((1 + 1) * ramps.frame_time / 2)
    np.testing.assert_allclose(out["rate"], expected, rtol=1e-6)
    assert np.all(out["rate_dq"] == SAT)


def test_zeroframe_when_every_group_is_saturated():
    ramps = make_ramps(shape=(1, 4, 4, 4), rate=30.0, bias=0.0, seed=18)
    ramps.groupdq[:] = SAT
    zeroframe = np.full((1, 4, 4), 321.0, dtype=np.float32)
    zeroframe[0, 0, 0] = 0.0  # no ZEROFRAME value: stays unusable
    out = fit(ramps, suppress_one_group=False, zeroframe=zeroframe)
    assert np.isnan(out["rate"][0, 0])
    np.testing.assert_allclose(out["rate"].ravel()[1:], 321.0 / ramps.frame_time, rtol=1e-6)


def test_two_group_ramps():
    ramps = make_ramps(shape=(1, 2, 16, 16), rate=40.0, seed=19)
    out = fit(ramps)
    expected = (ramps.data[0, 1].astype(np.float64) - ramps.data[0, 0]) / ramps.group_time
    np.testing.assert_allclose(out["rate"], expected, rtol=1e-5)


def test_one_group_exposure():
    ramps = make_ramps(shape=(3, 1, 8, 8), rate=40.0, bias=0.0, seed=20)
    out = fit(ramps)
    expected = ramps.data[:, 0] / ramps.frame_time
    np.testing.assert_allclose(out["ints"], expected, rtol=1e-5)
    assert np.all(np.isfinite(out["rate"]))


def test_bad_gain_and_do_not_use_pixels():
    ramps = make_ramps(shape=(1, 6, 8, 8), rate=10.0, seed=21)
    ramps.gain[0, 0] = 0.0
    ramps.gain[0, 1] = np.nan
    ramps.pixeldq[1, 1] = DNU | 1024
    out = fit(ramps)
    assert out["rate_dq"][0, 0] == NO_GAIN_VALUE | DNU
    assert out["rate_dq"][0, 1] == NO_GAIN_VALUE | DNU
    assert out["rate_dq"][1, 1] == DNU | 1024
    assert np.isnan(out["rate"][[0, 0, 1], [0, 1, 1]]).all()
    assert np.all(out["rate_err"][[0, 0, 1], [0, 1, 1]] == 0)
    assert np.isfinite(out["rate"][2:]).all()


def test_do_not_use_groups_are_skipped():
    ramps = make_ramps(shape=(1, 8, 16, 16), rate=25.0, seed=22)
    reference = fit(ramps)
    ramps.data[0, 0] = 1e6  # garbage in a DO_NOT_USE first group
    ramps.groupdq[0, 0] = DNU
    out = fit(ramps)
    assert np.all(np.abs(out["rate"] - ramps.rate) < 5 * out["rate_err"])
    assert np.all(out["rate_err"] > reference["rate_err"])


def test_any_row_split_is_bit_identical():
    ramps = make_ramps(shape=(2, 6, 40, 24), rate=(1.0, 1000.0), seed=23)
    ramps.groupdq[0, 3, ::3] = JUMP
    ramps.groupdq[1, 4:, ::5] = SAT
    whole = fit(ramps)
    parts = [
        fit_ramps(
            ramps.data[..., rows, :], ramps.groupdq[..., rows, :], ramps.pixeldq[rows],
            ramps.gain[rows], ramps.readnoise[rows],
            group_time=ramps.group_time, frame_time=ramps.frame_time,
        )
        for rows in (slice(0, 7), slice(7, 40))
    ]
    for name, array in whole.items():
        np.testing.assert_array_equal(array, np.concatenate([p[name] for p in parts], axis=-2))


def test_parallel_equals_serial():
    map_row_slices = pytest.importorskip("pipeline_core.parallel.rows").map_row_slices
    ramps = make_ramps(shape=(1, 6, 64, 32), rate=(1.0, 1000.0), seed=24)
    ramps.groupdq[0, 2, ::4] = JUMP
    inputs = {
        "data": ramps.data, "groupdq": ramps.groupdq, "pixeldq": ramps.pixeldq,
        "gain": ramps.gain, "readnoise": ramps.readnoise,
    }
    kwargs = {"group_time": ramps.group_time, "frame_time": ramps.frame_time}
    serial = map_row_slices(fit_ramps, inputs, max_workers=1, kwargs=kwargs)
    parallel = map_row_slices(fit_ramps, inputs, max_workers=2, kwargs=kwargs)
    for name in serial:
        np.testing.assert_array_equal(serial[name], parallel[name])


def test_zero_read_noise_still_gives_a_rate():
    ramps = make_ramps(shape=(1, 6, 8, 8), rate=100.0, readnoise=1e-3, seed=25)
    ramps.readnoise[0, :] = 0.0
    ramps.groupdq[0, 3, 0, :4] = JUMP
    out = fit(ramps)
    assert np.all(np.isfinite(out["rate"]))
    assert np.all(np.abs(out["rate"] - ramps.rate) < 5 * out["rate_err"])
