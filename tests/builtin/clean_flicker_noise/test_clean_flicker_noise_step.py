"""Tests of CleanFlickerNoiseStep on synthetic ramps with injected 1/f stripes and sources."""

import numpy as np
import pytest

from builtin_steps.clean_flicker_noise import CleanFlickerNoiseStep
from pipeline_core.datamodels import FlatModel, ImageModel
from pipeline_core.errors import ParameterError
from tests.builtin import _stepdata as sd

SOURCES = [(10, 10), (30, 40), (50, 20)]


@pytest.fixture
def refs(tmp_path):
    """Gain and read-noise references of the 64 x 64 test subarray (the draft rate is a ramp fit)."""
    return {
        "override_gain": sd.gain(tmp_path, np.full((64, 64), 2.0)),
        "override_readnoise": sd.readnoise(tmp_path, np.full((64, 64), 5.0)),
    }


def _scene(ny=64, nx=64, sky=5.0):
    yy, xx = np.mgrid[:ny, :nx]
    src = sum(200.0 * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 4.0) for y, x in SOURCES)
    return sky + src


def _striped_ramp(ngroups=5, nints=1, ny=64, nx=64, seed=1, stripe_sigma=1.5, slowaxis=2):
    """NIRCam ramp: rate * t + per-read row stripes (1/f) + white noise."""
    rng = np.random.default_rng(seed)
    model = sd.make_ramp((nints, ngroups, ny, nx), value=0.0, slope=0.0)
    model.meta.subarray.slowaxis = slowaxis
    t = np.arange(ngroups, dtype=np.float32)
    truth = np.broadcast_to(_scene(ny, nx)[None, None] * t[None, :, None, None], model.data.shape)
    shape = (nints, ngroups, ny, 1) if slowaxis == 2 else (nints, ngroups, 1, nx)
    stripes = rng.normal(0, stripe_sigma, shape)
    model.data[:] = truth + stripes + rng.normal(0, 1.0, model.data.shape)
    return model, np.array(truth, np.float32)


def _striping(data, truth, axis=-1):
    """Scatter of the line medians of each group difference's residual (offset removed)."""
    resid = np.diff(data, axis=1) - np.diff(truth, axis=1)
    med = np.median(resid, axis=axis)
    return float((med - med.mean(axis=-1, keepdims=True)).std())


def _flux(data, y, x):
    box = np.s_[y - 3 : y + 4, x - 3 : x + 4]
    return float((data[0, -1][box] - data[0, 0][box]).sum())


def test_median_fit_removes_stripes_and_keeps_sources(refs):
    model, truth = _striped_ramp()
    before = _striping(model.data, truth)
    out = CleanFlickerNoiseStep.call(model, skip=False, **refs)
    assert out.meta.cal_step.clean_flicker_noise == "COMPLETE"
    after = _striping(out.data, truth)
    assert before > 1.5
    assert after < 0.2 * before  # at least 80% of the striping removed
    for y, x in SOURCES:
        assert _flux(out.data, y, x) == pytest.approx(_flux(truth, y, x), rel=0.01)
    np.testing.assert_array_equal(out.data[0, 0], model.data[0, 0])  # first group kept


@pytest.mark.parametrize("method", ["median", "model", "None"])
def test_background_methods(method, refs):
    model, truth = _striped_ramp(ngroups=3, seed=2)
    out = CleanFlickerNoiseStep.call(model, skip=False, **refs, background_method=method, background_box_size=[16, 16])
    assert _striping(out.data, truth) < 0.25 * _striping(model.data, truth)


def test_columns_for_slowaxis_1_and_fit_by_channel_ignored_on_subarray(refs):
    model, truth = _striped_ramp(ngroups=3, slowaxis=1, seed=4)
    out = CleanFlickerNoiseStep.call(model, skip=False, **refs, fit_by_channel=True)
    assert _striping(out.data, truth, axis=-2) < 0.25 * _striping(model.data, truth, axis=-2)


def test_flat_field_and_saved_products(tmp_path, refs):
    model, truth = _striped_ramp(ngroups=3, seed=5)
    flat = np.full((64, 64), 1.0, np.float32)
    flat[5, 5] = np.nan  # bad flat pixel is replaced by a smooth value
    ref = sd.save_ref(tmp_path, FlatModel(data=flat), "flat")
    out = CleanFlickerNoiseStep.call(
        model, skip=False, **refs, apply_flat_field=True, override_flat=ref, save_mask=True,
        save_noise=True, save_background=True, output_dir=str(tmp_path),
    )
    assert np.isfinite(out.data).all()
    assert _striping(out.data, truth) < 0.25 * _striping(model.data, truth)
    for suffix in ("mask", "flicker_noise", "flicker_bkg"):
        assert (tmp_path / f"test_{suffix}.fits").exists()


def test_user_mask_and_rate_image(tmp_path):
    rng = np.random.default_rng(7)
    stripes = rng.normal(0, 2.0, (64, 1))
    data = (_scene() + stripes + rng.normal(0, 0.2, (64, 64))).astype(np.float32)
    image = ImageModel(data=data)
    image.update(sd.make_ramp())
    image.meta.subarray.slowaxis = 2
    mask = np.ones((64, 64), np.float32)
    for y, x in SOURCES:
        mask[y - 5 : y + 6, x - 5 : x + 6] = 0
    path = tmp_path / "mask.fits"
    ImageModel(data=mask).save(str(path))
    out = CleanFlickerNoiseStep.call(image, skip=False, user_mask=str(path), n_sigma=0.0)
    resid = out.data - _scene()
    row = np.median(resid, axis=1)
    assert (row - row.mean()).std() < 0.1 < 1.5 < stripes.std()


def test_saturated_and_single_group(refs):
    model, truth = _striped_ramp(ngroups=3, seed=8)
    model.groupdq[:, :, 0:2, :] = 2  # two fully saturated rows
    out = CleanFlickerNoiseStep.call(model, skip=False, **refs)
    assert out.meta.cal_step.clean_flicker_noise == "COMPLETE"
    assert np.isfinite(out.data).all()
    one, _ = _striped_ramp(ngroups=1, seed=9)
    before = one.data.copy()
    out = CleanFlickerNoiseStep.call(one, skip=False, **refs)
    np.testing.assert_array_equal(out.data, before)


def test_fft_not_for_nircam_and_fft_on_nirspec(refs):
    model, _ = _striped_ramp(ngroups=2)
    before = model.data.copy()
    out = CleanFlickerNoiseStep.call(model, skip=False, **refs, fit_method="fft")
    assert out.meta.cal_step.clean_flicker_noise == "FAILED"
    np.testing.assert_array_equal(out.data, before)
    # NIRSpec NRS1: fast read along columns, so 1/f noise varies along each column (per-column offsets)
    spec, truth = _striped_ramp(ngroups=3, slowaxis=1, seed=11, stripe_sigma=2.0)
    spec.meta.instrument.name, spec.meta.instrument.detector = "NIRSPEC", "NRS1"
    spec.meta.exposure.type = "NRS_FIXEDSLIT"
    out = CleanFlickerNoiseStep.call(spec, skip=False, **refs, fit_method="fft")
    assert out.meta.cal_step.clean_flicker_noise == "COMPLETE"
    assert _striping(out.data, truth, axis=-2) < 0.25 * _striping(spec.data, truth, axis=-2)


def test_miri_spectroscopy_fails_and_median_image_refused(refs):
    model, _ = _striped_ramp(ngroups=2)
    model.meta.exposure.type = "MIR_LRS-FIXEDSLIT"
    assert CleanFlickerNoiseStep.call(model, skip=False, **refs).meta.cal_step.clean_flicker_noise == "FAILED"
    with pytest.raises(ParameterError, match="median_image"):
        CleanFlickerNoiseStep.call(_striped_ramp(ngroups=2)[0], skip=False, **refs, background_method="median_image")
    with pytest.raises(ParameterError, match="autoparam=True"):
        CleanFlickerNoiseStep.call(_striped_ramp(ngroups=2)[0], skip=False, **refs, autoparam=True)


def test_skipped_by_default(refs):
    model, _ = _striped_ramp(ngroups=2)
    assert CleanFlickerNoiseStep().skip is True
    assert CleanFlickerNoiseStep.call(model, skip=True, **refs).meta.cal_step.clean_flicker_noise == "SKIPPED"


def test_mesh_background_follows_a_gradient():
    from builtin_steps.clean_flicker_noise.mesh_background import mesh_background

    yy, xx = np.mgrid[:64, :64]
    image = (10.0 + 0.05 * yy + 0.02 * xx).astype(np.float32)
    mask = np.ones(image.shape, bool)
    mask[20:30, 20:30] = False
    image[20:30, 20:30] += 500.0  # a masked source does not leak in
    model = mesh_background(image, mask, (4, 4))
    truth = 10.0 + 0.05 * yy + 0.02 * xx
    assert np.abs(model - truth)[12:-12, 12:-12].max() < 0.12  # the 5x5-box median filter bends the edges


def test_draft_rate_is_the_ramp_fit_rate_and_leaves_the_ramp_alone(refs, tmp_path):
    from builtin_steps.clean_flicker_noise.draft_rate import draft_rate
    from builtin_steps.ramp_fit import RampFitStep

    model, _ = _striped_ramp(ngroups=4, nints=2, seed=21)
    model.groupdq[0, 2, 5:9, 5:9] = 4  # jumps: a weighted fit of two segments
    model.groupdq[1, 3, 20, :] = 2  # saturated at the end
    rng = np.random.default_rng(21)
    gain = sd.gain(tmp_path, rng.uniform(1.5, 2.5, (64, 64)), name="gain_varied.fits")
    before = (model.data.copy(), model.groupdq.copy(), model.meta.to_flat_dict())
    step = CleanFlickerNoiseStep(override_gain=gain, override_readnoise=refs["override_readnoise"])
    rate, dq = draft_rate(step, model)
    ints, ints_dq = draft_rate(step, model, per_integration=True)
    fit_rate, fit_ints = RampFitStep.call(model, override_gain=gain, override_readnoise=refs["override_readnoise"])
    np.testing.assert_array_equal(rate, fit_rate.data)
    np.testing.assert_array_equal(dq, fit_rate.dq)
    np.testing.assert_array_equal(ints, fit_ints.data)
    np.testing.assert_array_equal(ints_dq, fit_ints.dq)
    assert ints.shape == (2, 64, 64)
    # not the unweighted mean of the differences
    assert not np.allclose(rate[5:9, 5:9], np.nanmean(np.diff(model.data, axis=1), axis=(0, 1))[5:9, 5:9] / 10.0)
    np.testing.assert_array_equal(model.data, before[0])
    np.testing.assert_array_equal(model.groupdq, before[1])
    assert model.meta.to_flat_dict() == before[2]


def test_draft_rate_needs_gain_and_readnoise(refs):
    from pipeline_core.errors import ReferenceFileError

    model, _ = _striped_ramp(ngroups=3)
    with pytest.raises(ReferenceFileError, match=r"clean_flicker_noise.*override_gain"):
        CleanFlickerNoiseStep.call(
            model, skip=False, override_gain="N/A", override_readnoise=refs["override_readnoise"]
        )
