"""The compiled OLS fit of flagged ramps gives the numpy results, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.ramp_fit import ols, ols_flagged, segments
from builtin_steps.ramp_fit.weights import POWERS

DNU, SAT, JUMP, PERSISTENCE = 1, 2, 4, 32


def _ramps(rng, nints, ngroups, ny=24, nx=29):
    """Float32 ramps with jumps, random flags and a row for each special case of the fit.

    Returns ``(data, groupdq, pixeldq, gain, readnoise, zeroframe, dark)``.
    """
    rate = rng.gamma(2.0, 30.0, (ny, nx))
    rate[0, :8] = rng.uniform(1e3, 3e4, 8)  # high S/N: the steep weighting classes
    rate[1, :4] = [0.0, -20.0, 1e-3, 5e4]
    data = rng.normal(0, 5, (nints, ngroups, ny, nx)) + np.arange(ngroups)[None, :, None, None] * rate
    hits = rng.random(data.shape) < 0.05
    data += np.cumsum(hits * rng.uniform(30.0, 5000.0, data.shape), axis=1)
    data = data.astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[hits] |= JUMP
    for bits, fraction in ((DNU, 0.03), (SAT, 0.02), (JUMP, 0.03), (PERSISTENCE, 0.03), (8, 0.01),
                           (JUMP | PERSISTENCE, 0.02)):
        gdq[rng.random(data.shape) < fraction] |= bits
    # saturated from a random group on
    first_sat = rng.integers(0, ngroups + 2, (nints, 1, ny, nx))
    saturating = rng.random((nints, 1, ny, nx)) < 0.1
    gdq[(np.arange(ngroups)[None, :, None, None] >= first_sat) & saturating] |= SAT
    data[rng.random(data.shape) < 0.01] = np.nan
    data[rng.random(data.shape) < 0.003] = np.inf
    data[rng.random(data.shape) < 0.003] = -np.inf
    data[:, :, 2, :] = np.nan  # no finite value
    data[0, :, 3, :5] = 0.0  # flat ramps
    data[:, :, 3, 5:8] = -0.0
    gdq[:, :, 4, :] = DNU  # no usable group: ZEROFRAME when given
    gdq[:, 1:, 5, :] = DNU  # one good first group
    gdq[:, :-1, 6, :] = DNU  # one good last group
    gdq[:, 0, 7, :] |= SAT  # first group saturated
    gdq[:, 1::2, 8, :] = JUMP  # a segment per two groups
    gdq[:, :, 9, :] = JUMP  # every group a jump
    gdq[:, :, 10, :] = PERSISTENCE  # ignored
    gdq[0, :, 11, :] = DNU  # first integration unusable
    gdq[:, 2:3, 12, :] = DNU  # one-group segment before a longer one
    gdq[:, ::2, 13, :] = DNU  # one-group segments only
    data[:, 0, 14, :] = np.nan  # first group NaN (ZEROFRAME may replace it)
    gdq[:, 1:, 14, :] = DNU
    pdq = np.zeros((ny, nx), np.uint32)
    pdq[0, :5] = [DNU, SAT, JUMP, 1 << 9, DNU | SAT]
    gain = rng.uniform(1.0, 3.0, (ny, nx)).astype(np.float32)
    gain[15, :4] = [0.0, np.nan, -1.0, -np.inf]
    gain[16, ::2] = 0.0
    readnoise = rng.uniform(4.0, 12.0, (ny, nx)).astype(np.float32)
    readnoise[17, :] = 0.0
    readnoise[16, ::3] = 0.0
    zeroframe = rng.normal(20.0, 5.0, (nints, ny, nx)).astype(np.float32)
    zeroframe[:, :, ::7] = 0.0
    zeroframe[:, 4, 1::5] = np.nan
    zeroframe[:, 14, 2::5] = np.inf
    dark = rng.uniform(-0.1, 0.5, (ny, nx)).astype(np.float32)
    dark[18, :4] = [np.nan, np.inf, -np.inf, 0.0]
    return data, gdq, pdq, gain, readnoise, zeroframe, dark


def _fit_both_ways(monkeypatch, data, gdq, pdq, gain, readnoise, **kwargs):
    """The results of fit_ramps with the compiled pass 2, and with the numpy one."""
    calls = []
    kernel = ols_flagged.fit_flagged_pixels

    def spy(*args):
        calls.append(args[0].size)
        return kernel(*args)

    with monkeypatch.context() as patch:
        patch.setattr(ols_flagged, "fit_flagged_pixels", spy)
        compiled = ols.fit_ramps(data, gdq, pdq, gain, readnoise, **kwargs)
    assert calls and sum(calls) > 0
    with monkeypatch.context() as patch:
        patch.setattr(ols, "_fit_flagged_compiled", ols._fit_flagged_numpy)
        reference = ols.fit_ramps(data, gdq, pdq, gain, readnoise, **kwargs)
    return compiled, reference


def _assert_identical(compiled, reference):
    assert compiled.keys() == reference.keys()
    for name in reference:
        assert compiled[name].dtype == reference[name].dtype, name
        assert np.array_equal(compiled[name], reference[name], equal_nan=True), name


@pytest.mark.parametrize(
    "nints, ngroups",
    [(1, 1), (2, 1), (1, 2), (3, 2), (2, 3), (1, 4), (3, 4), (2, 5), (1, 7), (2, 8), (3, 9), (1, 10)],
)
@pytest.mark.parametrize("suppress", [True, False])
@pytest.mark.parametrize("with_zeroframe", [False, True])
@pytest.mark.parametrize("with_dark", [False, True])
def test_compiled_flagged_pass_is_bit_identical(monkeypatch, nints, ngroups, suppress, with_zeroframe,
                                                 with_dark):
    rng = np.random.default_rng(nints * 100 + ngroups)
    data, gdq, pdq, gain, readnoise, zeroframe, dark = _ramps(rng, nints, ngroups)
    kwargs = {
        "group_time": 10.737, "frame_time": 2.6842, "nframes": 4, "suppress_one_group": suppress,
        "zeroframe": zeroframe if with_zeroframe else None, "dark_current": dark if with_dark else None,
    }
    _assert_identical(*_fit_both_ways(monkeypatch, data, gdq, pdq, gain, readnoise, **kwargs))


@pytest.mark.parametrize(
    "group_time, frame_time, nframes", [(1.0, 1.0, 1), (0.3, 0.1, 2), (21.47, 10.737, 2)]
)
def test_timings_and_a_uniform_dark(monkeypatch, group_time, frame_time, nframes):
    """Other timings (the float32 divisions of the median rate), and the step's one-value dark."""
    rng = np.random.default_rng(7)
    data, gdq, pdq, gain, readnoise, zeroframe, _ = _ramps(rng, 2, 6)
    dark = np.broadcast_to(np.float32(0.03), pdq.shape)
    compiled, reference = _fit_both_ways(
        monkeypatch, data, gdq, pdq, gain, readnoise, group_time=group_time, frame_time=frame_time,
        nframes=nframes, suppress_one_group=False, zeroframe=zeroframe, dark_current=dark,
    )
    _assert_identical(compiled, reference)


def test_every_pixel_flagged(monkeypatch):
    """A ramp whose pixels all have a flag: nothing is fitted by the clean pass."""
    rng = np.random.default_rng(11)
    data, gdq, pdq, gain, readnoise, _, _ = _ramps(rng, 2, 5)
    gdq[0, 2] |= JUMP
    _assert_identical(*_fit_both_ways(monkeypatch, data, gdq, pdq, gain, readnoise,
                                      group_time=5.0, frame_time=5.0))


def test_bands_of_rows_match_whole_arrays():
    """Bands of rows written into views of the outputs (as the step does) agree with one call."""
    rng = np.random.default_rng(5)
    data, gdq, pdq, gain, readnoise, zeroframe, dark = _ramps(rng, 2, 6)
    kwargs = {"group_time": 5.0, "frame_time": 2.5, "nframes": 2, "suppress_one_group": False}
    whole = ols.fit_ramps(data, gdq, pdq, gain, readnoise, zeroframe=zeroframe, dark_current=dark,
                          **kwargs)
    out = ols.allocate_outputs(2, *pdq.shape)
    for lo in range(0, pdq.shape[0], 7):
        rows = slice(lo, lo + 7)
        ols.fit_ramps(data[..., rows, :], gdq[..., rows, :], pdq[rows], gain[rows], readnoise[rows],
                      zeroframe=zeroframe[:, rows], dark_current=dark[rows],
                      out={name: arr[..., rows, :] for name, arr in out.items()}, **kwargs)
    _assert_identical(out, whole)


def test_warm_up_loads_the_flagged_kernel():
    """After ols.warm_up, the step's calls (whole arrays and bands, with or without a
    dark current and a ZEROFRAME) compile nothing new."""
    ols.warm_up()
    kernel = ols_flagged.fit_flagged_pixels
    loaded = set(kernel.compiled().signatures)
    assert loaded
    rng = np.random.default_rng(3)
    data, gdq, pdq, gain, readnoise, zeroframe, _ = _ramps(rng, 2, 4, ny=20, nx=10)
    dark = np.broadcast_to(np.float32(0.02), pdq.shape)
    for rows in (slice(None), slice(3, 9)):
        for extra in ({}, {"zeroframe": zeroframe[:, rows], "dark_current": dark[rows]}):
            out = ols.allocate_outputs(2, *pdq.shape)
            ols.fit_ramps(data[:, :, rows], gdq[:, :, rows], pdq[rows], gain[rows], readnoise[rows],
                          group_time=10.0, frame_time=10.0, nframes=1, suppress_one_group=False,
                          out={name: arr[..., rows, :] for name, arr in out.items()}, **extra)
    assert set(kernel.compiled().signatures) == loaded


def test_the_kernel_constants_match_the_numpy_code():
    assert ols_flagged.CLASSES == POWERS.size
    assert ols_flagged.FIT_FLAGS == segments._FIT_FLAGS
    for name in ("DO_NOT_USE", "SATURATED", "JUMP_DET", "NO_GAIN_VALUE", "LARGE_VARIANCE_THRESHOLD"):
        assert getattr(ols_flagged, name) == getattr(ols, name)
