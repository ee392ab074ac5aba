"""The compiled OLS fit of clean ramps gives the numpy results, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from builtin_steps.ramp_fit import ols


def _numpy_clean_pass(data, gdq, pdq, gain, rn, dark, table, ngroups, times, out):
    """The numpy reference of ``ols._fit_clean_compiled``: fit_clean, block by block."""
    nints, _, npix = data.shape
    step = 4096
    flagged = []
    for lo in range(0, npix, step):
        sl = slice(lo, min(npix, lo + step))
        block = (data[:, :, sl], gdq[:, :, sl], pdq[sl], gain[sl], rn[sl], None,
                 None if dark is None else dark[sl])
        dirty = block[1].any(axis=(0, 1)) | ~np.isfinite(block[0]).all(axis=(0, 1))
        if ngroups < 2:
            dirty[:] = True
        if not dirty.all():
            views = {name: arr[..., sl] for name, arr in out.items()}
            ols._finish(views, block[2], block[3], ols._clean_integrations(block, table, times))
        flagged.append(np.flatnonzero(dirty) + lo)
    return np.concatenate(flagged)


def _ramps(rng, nints, ngroups, ny=23, nx=37):
    slope = rng.gamma(2.0, 40.0, (ny, nx))
    data = rng.normal(0, 6, (nints, ngroups, ny, nx)) + np.arange(ngroups)[None, :, None, None] * slope
    data = data.astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[rng.random(data.shape) < 0.02] = 4
    gdq[rng.random(data.shape) < 0.01] = 2
    data[0, -1, 1, 1] = np.nan
    data[:, :, 2, 2] = 0.0  # flat ramp: zero rate
    data[:, :, 2, 3] = -50.0 * np.arange(ngroups)  # negative rate
    pdq = np.zeros((ny, nx), np.uint32)
    pdq[0, :4] = [1, 2, 4, 1 << 9]
    gain = rng.uniform(1.0, 3.0, (ny, nx)).astype(np.float32)
    gain[3, :3] = [0.0, np.nan, -1.0]
    rn = rng.uniform(4.0, 12.0, (ny, nx)).astype(np.float32)
    rn[4, 0] = 0.0
    return data, gdq, pdq, gain, rn


@pytest.mark.parametrize("nints, ngroups", [(2, 8), (1, 10), (3, 2), (1, 5), (2, 1), (1, 3)])
@pytest.mark.parametrize("dark", [None, 0.02, np.inf])
def test_compiled_clean_pass_is_bit_identical(monkeypatch, nints, ngroups, dark):
    rng = np.random.default_rng(nints * 100 + ngroups)
    data, gdq, pdq, gain, rn = _ramps(rng, nints, ngroups)
    kwargs = {"group_time": 10.737, "frame_time": 10.737, "nframes": 1}
    if dark is not None:
        kwargs["dark_current"] = np.broadcast_to(np.float32(dark), pdq.shape)
    compiled = ols.fit_ramps(data, gdq, pdq, gain, rn, **kwargs)
    monkeypatch.setattr(ols, "_fit_clean_compiled", _numpy_clean_pass)
    reference = ols.fit_ramps(data, gdq, pdq, gain, rn, **kwargs)
    assert compiled.keys() == reference.keys()
    for name in reference:
        assert compiled[name].dtype == reference[name].dtype
        np.testing.assert_array_equal(compiled[name], reference[name], err_msg=name)


def test_compiled_pass_on_row_views_matches_whole_arrays():
    """Blocks of rows (non-contiguous views, as the step and the workers pass) agree."""
    rng = np.random.default_rng(5)
    data, gdq, pdq, gain, rn = _ramps(rng, 2, 6, ny=20, nx=16)
    kwargs = {"group_time": 5.0, "frame_time": 5.0, "nframes": 2}
    whole = ols.fit_ramps(data, gdq, pdq, gain, rn, **kwargs)
    out = ols.allocate_outputs(2, 20, 16)
    for lo in range(0, 20, 7):
        rows = slice(lo, lo + 7)
        ols.fit_ramps(data[..., rows, :], gdq[..., rows, :], pdq[rows], gain[rows], rn[rows],
                      out={k: v[..., rows, :] for k, v in out.items()}, **kwargs)
    for name in whole:
        np.testing.assert_array_equal(out[name], whole[name], err_msg=name)


def test_compiled_pass_with_a_dark_map_is_bit_identical(monkeypatch):
    """A per-pixel dark with NaN and infinite values, as numpy.nan_to_num reads it."""
    rng = np.random.default_rng(8)
    data, gdq, pdq, gain, rn = _ramps(rng, 2, 7)
    dark = rng.uniform(-0.1, 0.5, pdq.shape).astype(np.float32)
    dark[5, :4] = [np.nan, np.inf, -np.inf, 0.0]
    kwargs = {"group_time": 10.737, "frame_time": 10.737, "nframes": 1, "dark_current": dark}
    compiled = ols.fit_ramps(data, gdq, pdq, gain, rn, **kwargs)
    monkeypatch.setattr(ols, "_fit_clean_compiled", _numpy_clean_pass)
    reference = ols.fit_ramps(data, gdq, pdq, gain, rn, **kwargs)
    for name in reference:
        np.testing.assert_array_equal(compiled[name], reference[name], err_msg=name)


def test_inputs_of_any_layout_give_the_same_results():
    """Inputs whose rows are not contiguous (copied for the compiled pass) agree."""
    rng = np.random.default_rng(9)
    data, gdq, pdq, gain, rn = _ramps(rng, 2, 5)
    kwargs = {"group_time": 5.0, "frame_time": 5.0, "nframes": 1}
    whole = ols.fit_ramps(data, gdq, pdq, gain, rn, **kwargs)
    flipped = ols.fit_ramps(
        np.asfortranarray(data[..., ::-1])[..., ::-1], np.asfortranarray(gdq), np.asfortranarray(pdq),
        gain, rn, **kwargs,
    )
    for name in whole:
        np.testing.assert_array_equal(flipped[name], whole[name], err_msg=name)


def test_outputs_without_contiguous_rows_are_refused():
    rng = np.random.default_rng(10)
    data, gdq, pdq, gain, rn = _ramps(rng, 1, 4, ny=6, nx=5)
    out = ols.allocate_outputs(1, 6, 10)
    with pytest.raises(ValueError, match="contiguous rows"):
        ols.fit_ramps(data, gdq, pdq, gain, rn, group_time=1.0, frame_time=1.0,
                      out={name: arr[..., ::2] for name, arr in out.items()})


def test_the_kernel_has_a_coefficient_per_weighting_class():
    from builtin_steps.ramp_fit.ols_clean import CLASSES
    from builtin_steps.ramp_fit.weights import POWERS

    assert CLASSES == POWERS.size
