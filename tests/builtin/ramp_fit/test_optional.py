"""Tests of the optional per-segment results (save_opt, the fitopt product)."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.ramp_fit.ols import fit_ramps
from builtin_steps.ramp_fit.optional import SEGMENT_ARRAYS, optional_results
from tests.fixtures.ramps import make_ramps

DNU, SAT, JUMP = 1, 2, 4


def fit_and_options(r, **kwargs):
    timing = {"group_time": r.group_time, "frame_time": r.frame_time, "nframes": r.nframes}
    out = fit_ramps(r.data, r.groupdq, r.pixeldq, r.gain, r.readnoise, **timing, **kwargs)
    opt = optional_results(r.data, r.groupdq, r.gain, r.readnoise, out["ints"], **timing,
                           **kwargs)
    return out, opt


@pytest.fixture(scope="module")
def flagged():
    r = make_ramps(shape=(2, 8, 20, 30), rate=(1.0, 2000.0), seed=51)
    r.groupdq[0, 3, :, ::2] = JUMP
    r.groupdq[0, 5, :, ::3] |= JUMP
    r.groupdq[1, 5:, :, ::4] = SAT
    r.groupdq[1, 1:, 0, :5] = SAT
    r.groupdq[0, 0, 1, :] = DNU
    return (r,) + fit_and_options(r)


def test_shapes_and_dtypes(flagged):
    r, _, opt = flagged
    for name in SEGMENT_ARRAYS:
        assert opt[name].shape == (2, 3, 20, 30) and opt[name].dtype == np.float32
    assert opt["pedestal"].shape == (2, 20, 30)
    assert opt["crmag"].shape == (2, 2, 20, 30)


def test_segments_combine_into_the_integration_rates(flagged):
    # the fit's integration rate is the read-noise weighted mean of its segments
    _, out, opt = flagged
    var_r = opt["var_rnoise"].astype(np.float64)
    used = var_r > 0
    weight = np.where(used, 1.0 / np.where(used, var_r, 1.0), 0.0)
    ok = np.isfinite(out["ints"])
    assert ok.sum() > 1000
    inv_r = weight.sum(axis=1)[ok]
    rate = (weight * opt["slope"]).sum(axis=1)[ok] / inv_r
    np.testing.assert_allclose(rate, out["ints"][ok], rtol=1e-6)
    np.testing.assert_allclose(1.0 / inv_r, out["ints_var_rnoise"][ok], rtol=1e-6)
    var_p = opt["var_poisson"].astype(np.float64)
    inv_p = np.where(var_p > 0, 1.0 / np.where(var_p > 0, var_p, 1.0), 0.0).sum(axis=1)
    np.testing.assert_allclose(1.0 / inv_p[ok], out["ints_var_poisson"][ok], rtol=1e-6)
    total = var_p + var_r
    np.testing.assert_allclose(opt["weights"][used], (1.0 / total[used] ** 2).astype(np.float32),
                               rtol=1e-6)


def test_segment_count_follows_the_flags(flagged):
    _, _, opt = flagged
    nseg = (opt["var_rnoise"] > 0).sum(axis=1)
    assert np.all(nseg[0, :, ::6] == 3)       # jumps into groups 3 and 5
    assert np.all(nseg[0, :, 2::6] == 2)      # a jump into group 3
    assert np.all(nseg[0, :, 1::6] == 1)      # no jump
    assert np.all(nseg[1, 1:, 4::4] == 1)     # saturated from group 5
    assert np.all(nseg[1, 0, :5] == 0)        # only group 0 left: suppressed


def test_exact_line_intercepts_and_pedestal():
    r = make_ramps(shape=(1, 9, 4, 4), rate=50.0, seed=52)
    g = np.arange(9, dtype=np.float64)[:, None, None]
    r.data[0] = (1000.0 + 50.0 * r.group_time * g + np.zeros((4, 4))).astype(np.float32)
    r.data[0, 6:, 0, 0] += 3000.0             # a jump into group 6: segments 0-5 and 6-8
    r.groupdq[0, 6, 0, 0] = JUMP
    r.data[0, 3:, 1, 1] += 3000.0             # a jump into group 3 ...
    r.groupdq[0, 3, 1, 1] = JUMP
    r.groupdq[0, 5:, 1, 1] = SAT              # ... and saturation: a two-group segment 3-4
    _, opt = fit_and_options(r)
    np.testing.assert_allclose(opt["slope"][0, 0], 50.0, rtol=1e-5)
    np.testing.assert_allclose(opt["yint"][0, 0], 1000.0, rtol=1e-5)
    assert opt["yint"][0, 1, 0, 0] == pytest.approx(4000.0, rel=1e-5)   # the line after the jump
    assert opt["yint"][0, 1, 1, 1] == pytest.approx(4000.0, rel=1e-5)   # two-group segment
    rn_e = r.readnoise[1, 1] / np.sqrt(2.0) * r.gain[1, 1]
    assert opt["sigslope"][0, 1, 1, 1] == pytest.approx(np.sqrt(2.0) * rn_e, rel=1e-6)
    assert opt["sigyint"][0, 1, 1, 1] == pytest.approx(np.sqrt(2.0) * rn_e, rel=1e-6)
    assert np.all(opt["sigslope"][0, 0] > 0) and np.all(opt["sigyint"][0, 0] > 0)
    assert opt["crmag"][0, 0, 0, 0] == pytest.approx(3000.0 + 50.0 * r.group_time, rel=1e-5)
    assert opt["crmag"][0, 0, 2, 2] == 0.0
    # pedestal: the first group minus one frame time of the rate (nframes = 1)
    np.testing.assert_allclose(opt["pedestal"][0, 2:], 1000.0 - 50.0 * r.frame_time, rtol=1e-6)


def test_first_group_saturated_gives_zero_pedestal_and_no_segment():
    r = make_ramps(shape=(1, 5, 4, 4), rate=10.0, seed=53)
    r.groupdq[0, :, 0, 0] = SAT
    out, opt = fit_and_options(r)
    assert opt["pedestal"][0, 0, 0] == 0.0
    assert np.all(opt["slope"][0, :, 0, 0] == 0.0)
    assert np.isnan(out["ints"][0, 0, 0])


def test_one_good_group_kept_when_not_suppressed():
    r = make_ramps(shape=(1, 5, 4, 4), rate=30.0, bias=0.0, seed=54)
    r.groupdq[0, 1:] = SAT
    out, opt = fit_and_options(r, suppress_one_group=False)
    np.testing.assert_allclose(opt["slope"][0, 0], out["ints"][0], rtol=1e-6)
    assert np.all(opt["sigslope"][0, 0] == 0.0) and np.all(opt["yint"][0, 0] == 0.0)
    _, suppressed = fit_and_options(r)
    assert np.all(suppressed["slope"] == 0.0)
