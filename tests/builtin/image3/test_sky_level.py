"""A sky level skymatch measured but did not subtract: taken out when resampling, as in jwst."""

from __future__ import annotations

import copy

import numpy as np

from builtin_steps.library import ModelLibrary
from builtin_steps.resample.drizzle_images import unsubtracted_sky

SKY = 0.75  # MJy/sr, added to every exposure


def _with_sky(cals, *, recorded: bool, subtracted: bool = False):
    models = copy.deepcopy(cals[0])
    for model in models:
        model.data = np.asarray(model.data, np.float32) + np.float32(SKY)
        if recorded:
            model.meta.background.level = SKY
            model.meta.background.subtracted = subtracted
    return models


def test_unsubtracted_sky_reads_the_skymatch_record(cals):
    model = _with_sky(cals, recorded=True)[0]
    assert unsubtracted_sky(model) == SKY
    model.meta.background.subtracted = True
    assert unsubtracted_sky(model) is None
    model.meta.background.level = None
    model.meta.background.subtracted = False
    assert unsubtracted_sky(model) is None


def test_resample_subtracts_an_unsubtracted_level(cals):
    from builtin_steps.resample.step import ResampleStep

    plain = ResampleStep.call(ModelLibrary(copy.deepcopy(cals[0])))
    recorded = ResampleStep.call(ModelLibrary(_with_sky(cals, recorded=True)))
    kept = ResampleStep.call(ModelLibrary(_with_sky(cals, recorded=True, subtracted=True)))
    covered = plain.wht > 0
    # the level is taken out: the mosaic is that of the exposures without the sky
    np.testing.assert_allclose(recorded.data[covered], plain.data[covered], atol=2e-5 * SKY + 1e-6)
    # already subtracted (or never measured): the data are drizzled as they are
    assert abs(float(np.nanmedian(kept.data[covered] - plain.data[covered])) - SKY) < 1e-4


def test_outlier_detection_adds_the_level_back_to_the_median(cals):
    from builtin_steps.outlier_detection.step import OutlierDetectionStep

    def flags(models):
        library = OutlierDetectionStep.call(ModelLibrary(models))
        return [np.asarray(model.dq).copy() for model in library]

    reference = flags(copy.deepcopy(cals[0]))
    with_sky = flags(_with_sky(cals, recorded=True))
    for ours, theirs in zip(with_sky, reference):
        # the same outliers as without any sky (a few pixels may flip at the thresholds)
        assert np.count_nonzero(ours != theirs) <= 0.0005 * ours.size
