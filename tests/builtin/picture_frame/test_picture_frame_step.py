"""Tests of PictureFrameStep on synthetic NIRSpec full-frame ramps."""

import numpy as np
import pytest

from builtin_steps.picture_frame import PictureFrameStep
from builtin_steps.picture_frame.correct import picture_frame_correction, region_masks
from pipeline_core.datamodels import PictureFrameModel
from tests.builtin import _stepdata as sd

FULL = 2048


def _pattern():
    """A thermal frame: 1.0 in the center rising to 3.0 at the edges (DN/s)."""
    r = np.arange(FULL, dtype=np.float32)
    dist = np.minimum(np.minimum(r, FULL - 1 - r)[:, None], np.minimum(r, FULL - 1 - r)[None, :])
    return (1.0 + 2.0 * np.exp(-dist / 300.0)).astype(np.float32)


def _nirspec_ramp(ngroups=3, scales=(0.0, 2.0, 5.0), sky=4.0, seed=3):
    rng = np.random.default_rng(seed)
    model = sd.make_ramp((1, ngroups, FULL, FULL), value=100.0, slope=0.0, window=(1, 1))
    model.meta.instrument.name = "NIRSPEC"
    model.meta.instrument.detector = "NRS1"
    model.meta.exposure.type = "NRS_FIXEDSLIT"
    pattern = _pattern()
    data = model.data
    for g in range(ngroups):
        data[0, g] += sky * g + scales[g] * pattern + rng.normal(0, 0.1, (FULL, FULL)).astype(np.float32)
    data[0, :, 1000:1010, 500:520] += 50.0 * np.arange(ngroups)[:, None, None]  # a source
    return model, pattern


@pytest.fixture
def refs(tmp_path):
    """Full-frame gain and read noise (the draft rate of the scene mask is a ramp fit)."""
    return {
        "override_gain": sd.gain(tmp_path, np.full((FULL, FULL), 2.0)),
        "override_readnoise": sd.readnoise(tmp_path, np.full((FULL, FULL), 5.0)),
    }


def _pictureframe(tmp_path, pattern):
    model = PictureFrameModel(data=pattern)
    path = sd.save_ref(tmp_path, model, "pictureframe")
    return path


def test_scale_recovered_and_pattern_removed(tmp_path, refs):
    model, pattern = _nirspec_ramp()
    ref = _pictureframe(tmp_path, pattern)
    before = model.data.copy()
    out = PictureFrameStep.call(model, skip=False, override_pictureframe=ref, n_sigma=0.0, **refs)
    assert out.meta.cal_step.picture_frame == "COMPLETE"
    np.testing.assert_array_equal(out.data[0, 0], before[0, 0])  # first group untouched
    # the correction is scale * (p - m_eref) + m_e: recover the scale from it
    corr = before[0, 2] - before[0, 0] - (out.data[0, 2] - out.data[0, 0])
    center, edge = region_masks(np.ones((FULL, FULL), bool))
    m_eref = np.median(pattern[edge])
    fit = np.polyfit((pattern - m_eref).ravel()[::97], corr.ravel()[::97], 1)
    assert fit[0] == pytest.approx(5.0, rel=0.02)
    # after correction the frame pattern is gone: edge and center levels agree
    diff = out.data[0, 2] - out.data[0, 0]
    assert abs(np.median(diff[edge]) - np.median(diff[center])) < 0.05
    assert abs(np.median(diff[center])) < 0.05  # the pattern and the level it rides on are removed
    # the source's increment is kept
    src = diff[1000:1010, 500:520] - np.median(diff[center])
    assert np.median(src) == pytest.approx(100.0, abs=1.0)


def test_kernel_recovers_scale_exactly():
    pattern = _pattern()
    center, edge = region_masks(np.ones((FULL, FULL), bool))
    images = np.stack([1.7 * pattern + 3.0, -0.5 * pattern])
    correction, scale = picture_frame_correction(images, pattern, center, edge)
    np.testing.assert_allclose(scale, [1.7, -0.5], rtol=1e-6)
    np.testing.assert_allclose(images - correction, 0.0, atol=1e-4)


def test_nircam_is_skipped(tmp_path):
    model = sd.make_ramp()
    before = model.data.copy()
    out = PictureFrameStep.call(model, skip=False)
    assert out.meta.cal_step.picture_frame == "SKIPPED"
    np.testing.assert_array_equal(out.data, before)


def test_nirspec_subarray_is_skipped():
    model = sd.make_ramp()
    model.meta.instrument.name = "NIRSPEC"
    out = PictureFrameStep.call(model, skip=False)
    assert out.meta.cal_step.picture_frame == "SKIPPED"


def test_single_group_is_skipped(tmp_path):
    model, pattern = _nirspec_ramp(ngroups=1, scales=(1.0,))
    before = model.data.copy()
    out = PictureFrameStep.call(model, skip=False, override_pictureframe=_pictureframe(tmp_path, pattern))
    assert out.meta.cal_step.picture_frame == "SKIPPED"
    np.testing.assert_array_equal(out.data, before)


def test_skipped_by_default():
    model = sd.make_ramp()
    assert PictureFrameStep().skip is True
    assert PictureFrameStep.call(model).meta.cal_step.picture_frame == "SKIPPED"
