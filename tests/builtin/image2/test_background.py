"""bkg_subtract: the sigma-clipped average of background exposures is subtracted."""

from __future__ import annotations

import json

import numpy as np
import pytest

from builtin_steps.background import BackgroundStep
from builtin_steps.background.combine import Window, average_background, clipped_mean, place
from pipeline_core.errors import StepError
from tests.builtin.image2._rates import make_rate


def test_clipped_mean_rejects_an_outlier():
    stack = np.array([[1.0, 5.0], [1.1, 5.0], [0.9, 5.0], [1.0, 5.0], [50.0, 5.0]])[:, :, None]
    mean, mask = clipped_mean(stack, sigma=1.5, maxiters=None)
    assert mean[0, 0] == pytest.approx(1.0) and mask[4, 0, 0] and not mask[:4, 0, 0].any()
    assert mean[1, 0] == 5.0


def test_place_puts_a_subarray_where_it_belongs():
    source = np.arange(12.0).reshape(3, 4)
    out = place(source, Window(10, 20, 4, 3), Window(11, 19, 3, 3), np.nan)
    np.testing.assert_array_equal(out[1:, :], source[:2, 1:])
    assert np.isnan(out[0]).all()


def test_average_background_errors_and_dq():
    target = Window(0, 0, 2, 2)
    ones = np.ones((2, 2))
    backgrounds = [(ones * v, ones * 0.1, np.full((2, 2), f, np.uint32), target) for v, f in ((1.0, 0), (3.0, 4))]
    data, err, dq = average_background(target, backgrounds, 3.0, None)
    np.testing.assert_allclose(data, 2.0)
    np.testing.assert_allclose(err, np.sqrt(0.02) / 2, rtol=1e-6)
    assert (dq == 4).all()


@pytest.fixture
def exposures(tmp_path):
    science = make_rate("nircam", value=10.0)
    science.save(tmp_path / "sci_rate.fits")
    paths = []
    for i, level in enumerate((2.0, 2.2, 1.8, 2.0, 40.0)):  # the last one is an outlier everywhere
        bkg = make_rate("nircam", value=level, seed=10 + i)
        paths.append(bkg.save(tmp_path / f"bkg{i}_rate.fits"))
    return science, paths


def test_backgrounds_from_bkg_list_are_clipped_and_subtracted(crds_env, exposures):
    science, paths = exposures
    result = BackgroundStep.call(science, bkg_list=paths, sigma=1.5)
    expected = science.data - 2.0
    np.testing.assert_allclose(np.median(result.data - expected), 0.0, atol=0.01)
    assert result.meta.cal_step.bkg_subtract == "COMPLETE"


def test_association_lists_the_backgrounds(crds_env, exposures, tmp_path):
    science, paths = exposures
    asn = {
        "asn_type": "image2", "asn_pool": "pool", "products": [{
            "name": "sci",
            "members": [{"expname": "sci_rate.fits", "exptype": "science"}]
            + [{"expname": p.rsplit("/", 1)[-1], "exptype": "background"} for p in paths[:4]],
        }],
    }
    (tmp_path / "asn.json").write_text(json.dumps(asn))
    result = BackgroundStep.call(str(tmp_path / "asn.json"), save_combined_background=True, output_dir=str(tmp_path))
    np.testing.assert_allclose(np.median(result.data), 8.0, atol=0.02)
    assert (tmp_path / "sci_combinedbackground.fits").exists()


def test_no_background_skips(crds_env):
    result = BackgroundStep.call(make_rate("nircam"))
    assert result.meta.cal_step.bkg_subtract == "SKIPPED"


def test_missing_background_file_is_a_clear_error(crds_env, tmp_path):
    with pytest.raises(StepError, match=r"background exposure '.*nope_rate.fits' does not exist"):
        BackgroundStep.call(make_rate("nircam"), bkg_list=[str(tmp_path / "nope_rate.fits")])
