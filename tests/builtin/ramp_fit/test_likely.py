"""Tests of the likelihood ramp-fitting kernel (algorithm='LIKELY')."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.ramp_fit.covariance import read_times
from builtin_steps.ramp_fit.likely import fit_likely, jump_thresholds
from builtin_steps.ramp_fit.ols import fit_ramps
from tests.fixtures.ramps import make_ramps

DNU, SAT, JUMP = 1, 2, 4
NO_GAIN_VALUE = 1 << 19


def likely(r, **kwargs):
    pattern = read_times(r.data.shape[1], r.nframes, 0, r.frame_time)
    return fit_likely(r.data, r.groupdq, r.pixeldq, r.gain, r.readnoise, read_pattern=pattern,
                      **kwargs)


def ols(r):
    return fit_ramps(r.data, r.groupdq, r.pixeldq, r.gain, r.readnoise,
                     group_time=r.group_time, frame_time=r.frame_time, nframes=r.nframes)


def simulate_groups(rate, *, ngroups, nframes, groupgap, frame_time, readnoise, gain, npix, seed):
    """Ramps whose groups average several frames (reads), one row of pixels."""
    rng = np.random.default_rng(seed)
    nreads = ngroups * (nframes + groupgap)
    signal = rng.poisson(rate * frame_time * gain, size=(nreads, npix)).cumsum(axis=0) / gain
    reads = signal + rng.normal(0.0, readnoise / np.sqrt(2.0), size=signal.shape)
    period = nframes + groupgap
    index = np.array([[k * period + f for f in range(nframes)] for k in range(ngroups)])
    groups = reads[index].mean(axis=1) + 5000.0
    return groups.reshape(1, ngroups, 1, npix).astype(np.float32)


@pytest.fixture(scope="module")
def noisy():
    ramps = make_ramps(shape=(2, 10, 96, 96), rate=(0.5, 3000.0), seed=31)
    return ramps, likely(ramps)


def test_rates_are_unbiased_and_errors_calibrated(noisy):
    # tolerance: median relative bias below 1e-3; pulls with unit width within 5 %
    ramps, out = noisy
    rel = (out["rate"] - ramps.rate) / ramps.rate
    assert abs(np.median(rel)) < 1e-3
    pull = (out["rate"] - ramps.rate) / out["rate_err"]
    assert abs(np.mean(pull)) < 3.0 / np.sqrt(pull.size) * 1.5
    assert abs(np.std(pull) - 1.0) < 0.05
    pull_ints = (out["ints"] - ramps.rate) / out["ints_err"]
    assert abs(np.std(pull_ints) - 1.0) < 0.05
    np.testing.assert_allclose(out["rate_err"] ** 2,
                               out["rate_var_poisson"] + out["rate_var_rnoise"], rtol=1e-5)
    assert out["rate"].dtype == np.float32 and out["rate_dq"].dtype == np.uint32


def test_multi_frame_groups_are_unbiased_and_calibrated():
    npix = 6000
    truth = 150.0
    data = simulate_groups(truth, ngroups=6, nframes=4, groupgap=1, frame_time=2.0,
                           readnoise=12.0, gain=2.0, npix=npix, seed=32)
    out = fit_likely(data, np.zeros(data.shape, np.uint8), np.zeros((1, npix), np.uint32),
                     np.full((1, npix), 2.0, np.float32), np.full((1, npix), 12.0, np.float32),
                     read_pattern=read_times(6, 4, 1, 2.0))
    resid = out["rate"] - truth
    assert abs(resid.mean()) < 3.0 * resid.std() / np.sqrt(npix)
    assert abs(np.std(resid / out["rate_err"]) - 1.0) < 0.05


def test_lower_variance_than_ols_for_bright_pixels():
    # bright pixels whose first integration saturates at group 4: OLS combines the
    # integrations with read-noise weights, the likelihood fit with Poisson-aware ones;
    # on the same data the scatter drops by about 16 % (expected ratio 0.84)
    ramps = make_ramps(shape=(2, 10, 80, 80), rate=3000.0, seed=33)
    ramps.groupdq[0, 4:] = SAT
    lk, ls = likely(ramps), ols(ramps)
    resid = lk["rate"] - ramps.rate
    assert np.var(resid) < 0.9 * np.var(ls["rate"] - ramps.rate)
    assert abs(resid.mean()) < 3.0 * resid.std() / np.sqrt(resid.size)
    assert abs(np.std(resid / lk["rate_err"]) - 1.0) < 0.05


def test_not_worse_than_ols_on_clean_bright_ramps():
    ramps = make_ramps(shape=(1, 10, 80, 80), rate=(300.0, 3000.0), seed=41)
    lk, ls = likely(ramps), ols(ramps)
    assert np.var(lk["rate"] - ramps.rate) < 1.005 * np.var(ls["rate"] - ramps.rate)


def test_exact_line_is_recovered():
    rates = np.geomspace(0.01, 5e4, 36).reshape(6, 6)
    tg = 10.0
    data = (100.0 + rates[None, None] * tg * np.arange(8)[None, :, None, None]).astype(np.float32)
    out = fit_likely(data, np.zeros(data.shape, np.uint8), np.zeros((6, 6), np.uint32),
                     np.full((6, 6), 2.0, np.float32), np.full((6, 6), 5.0, np.float32),
                     read_pattern=read_times(8, 1, 0, tg))
    np.testing.assert_allclose(out["rate"], rates, rtol=2e-5, atol=1e-4)


def test_jumps_are_found_inside_the_fit():
    ramps = make_ramps(shape=(1, 12, 40, 40), rate=(5.0, 500.0), jump_fraction=0.01,
                       jump_sigma=(60.0, 100.0), seed=34)
    hit = ramps.jumps.any(axis=(0, 1))
    assert 100 < hit.sum() < 1000
    found = likely(ramps)
    assert np.all(found["rate_dq"][hit] & JUMP)
    assert np.mean((found["rate_dq"][~hit] & JUMP) != 0) < 0.01
    pull = (found["rate"] - ramps.rate) / found["rate_err"]
    assert abs(np.median(pull[hit])) < 0.2
    blind = likely(ramps, detect_jumps=False)
    assert np.median((blind["rate"] - ramps.rate)[hit] / blind["rate_err"][hit]) > 5.0
    assert not np.any(blind["rate_dq"] & JUMP)


def test_jump_thresholds():
    assert jump_thresholds(None) == (20.25, 23.8)
    one, two = jump_thresholds(4.5)
    assert one == pytest.approx(20.25) and two == pytest.approx(23.8, abs=0.1)


def test_saturation_and_unusable_pixels():
    ramps = make_ramps(shape=(2, 8, 8, 8), rate=100.0, seed=35)
    ramps.groupdq[:, 5:, 0, :] = SAT           # row 0: saturates at group 5
    ramps.groupdq[:, :, 1, 1] = SAT            # fully saturated
    ramps.groupdq[0, :, 2, 2] = SAT            # one integration of two
    ramps.gain[3, 3] = 0.0
    ramps.pixeldq[4, 4] = DNU
    out = likely(ramps)
    assert np.all(np.isfinite(out["rate"][0])) and np.all(out["rate_dq"][0] == SAT)
    assert np.all(np.abs(out["rate"][0] - 100.0) < 5 * out["rate_err"][0])
    assert np.isnan(out["rate"][1, 1]) and out["rate_dq"][1, 1] == SAT | DNU
    assert out["rate_err"][1, 1] == 0 and out["rate_var_poisson"][1, 1] == 0
    assert np.all(out["ints_dq"][:, 1, 1] == SAT | DNU)
    assert np.isnan(out["ints"][0, 2, 2])
    assert out["rate"][2, 2] == pytest.approx(out["ints"][1, 2, 2])
    assert out["rate_dq"][3, 3] == NO_GAIN_VALUE | DNU and np.isnan(out["rate"][3, 3])
    assert out["rate_dq"][4, 4] == DNU and np.isnan(out["rate"][4, 4])
    assert np.isfinite(out["rate"][5:]).all()


def test_one_integration_rate_is_the_integration():
    ramps = make_ramps(shape=(1, 6, 8, 8), rate=(1.0, 100.0), seed=36)
    out = likely(ramps)
    np.testing.assert_array_equal(out["rate"], out["ints"][0])
    np.testing.assert_array_equal(out["rate_var_poisson"], out["ints_var_poisson"][0])


def test_integrations_combine_with_poisson_aware_weights():
    ramps = make_ramps(shape=(3, 6, 8, 8), rate=(1.0, 1000.0), seed=37)
    out = likely(ramps)
    rates = out["ints"].astype(np.float64)
    assert np.all(out["rate"] >= rates.min(axis=0) - 1e-3)
    assert np.all(out["rate"] <= rates.max(axis=0) + 1e-3)
    assert np.all(out["rate_err"] < out["ints_err"].min(axis=0))


def test_dark_current_adds_to_the_poisson_variance():
    ramps = make_ramps(shape=(1, 6, 8, 8), rate=2.0, seed=38)
    plain = likely(ramps)
    dark = likely(ramps, dark_current=np.full((8, 8), 5.0, np.float32))
    assert np.all(dark["rate_var_poisson"] > plain["rate_var_poisson"])
    np.testing.assert_allclose(dark["rate_var_rnoise"], plain["rate_var_rnoise"], rtol=0.05)


def test_needs_four_groups():
    ramps = make_ramps(shape=(1, 3, 4, 4), rate=10.0, seed=39)
    with pytest.raises(ValueError, match="at least 4 groups"):
        likely(ramps)
    ramps = make_ramps(shape=(1, 4, 4, 4), rate=10.0, seed=39)
    with pytest.raises(ValueError, match="read_pattern has 2"):
        fit_likely(ramps.data, ramps.groupdq, ramps.pixeldq, ramps.gain, ramps.readnoise,
                   read_pattern=((1.0,), (2.0,)))


def test_any_row_split_is_bit_identical_and_parallel_equals_serial():
    ramps = make_ramps(shape=(2, 6, 30, 20), rate=(1.0, 1000.0), jump_fraction=0.02, seed=40)
    ramps.groupdq[1, 4:, ::5] = SAT
    pattern = read_times(6, 1, 0, ramps.frame_time)
    whole = likely(ramps)
    parts = [
        fit_likely(ramps.data[..., rows, :], ramps.groupdq[..., rows, :], ramps.pixeldq[rows],
                   ramps.gain[rows], ramps.readnoise[rows], read_pattern=pattern)
        for rows in (slice(0, 7), slice(7, 30))
    ]
    for name, array in whole.items():
        np.testing.assert_array_equal(array, np.concatenate([p[name] for p in parts], axis=-2))
    map_row_slices = pytest.importorskip("pipeline_core.parallel").map_row_slices
    inputs = {"data": ramps.data, "groupdq": ramps.groupdq, "pixeldq": ramps.pixeldq,
              "gain": ramps.gain, "readnoise": ramps.readnoise}
    parallel = map_row_slices(fit_likely, inputs, max_workers=2,
                              kwargs={"read_pattern": pattern}, out_keyword="out")
    for name in whole:
        np.testing.assert_array_equal(whole[name], parallel[name])
