"""The demo exposures: valid raw ramps that the embedded reference set calibrates."""

from __future__ import annotations

import os

import numpy as np
import pytest

from builtin_steps.refdata import demo, layout
from builtin_steps.refdata.detector import DetectorTruth


@pytest.fixture(scope="module")
def demo_files(embedded_crds_cache, tmp_path_factory):
    return demo.prepare_demo(tmp_path_factory.mktemp("demo"))


def test_prepare_demo_answers_the_hook_contract(demo_files):
    from pipeline_core.cli.demo import DemoStage, demo_plan

    assert demo_files["pipeline"] == "calwebb_detector1"
    assert [os.path.basename(p) for p in demo_files["inputs"]] == [
        f"jw09999001001_01101_{n:05d}_nrca1_uncal.fits" for n in (1, 2, 3, 4)
    ]
    assert "NRCA1 SUB160" in demo_files["description"]
    # Image2 on each rate, then Image3 once on the association of the cal products
    stages = demo_plan(demo_files).stages
    assert stages[:2] == [DemoStage("calwebb_detector1"), DemoStage("calwebb_image2")]
    assert stages[2] == DemoStage(
        "calwebb_image3", combine=demo.DEMO_PRODUCT,
        parameters={"steps": {"tweakreg": {"separation": 0.3, "tolerance": 0.15}}}, show="cat.ecsv",
    )


def test_demo_stars_are_distinct_and_stay_on_the_detector():
    stars = demo.demo_stars(np.random.default_rng(20240915), 160)
    assert len(stars) == 41 and stars[0][2] == 3.0e6  # the saturated star first
    xy = np.array([(x, y) for x, y, _ in stars])
    gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert gaps[~np.eye(len(stars), dtype=bool)].min() > 12.0
    shifts = np.array([d for d in demo._DITHERS])
    assert (xy[:, None, :] + shifts[None]).min() > 4 and (xy[:, None, :] + shifts[None]).max() < 156
    fluxes = np.array([f for _, _, f in stars[1:]])
    assert 400 <= fluxes.min() and fluxes.max() <= 10**4.5


def test_warm_pixels_are_in_the_ramps_but_not_in_the_dark(demo_files):
    from pipeline_core.datamodels import open_model

    warm = demo.warm_pixels(np.random.default_rng(20240916), (160, 160))
    hot = warm > 0
    assert hot.sum() == 40 and not hot[:4].any() and not hot[:, -4:].any()
    truth = DetectorTruth("NIRCAM", "NRCA1", *layout.NIRCAM.subarrays[1].slices)
    usable = hot & ~truth.dead
    for path in demo_files["inputs"]:  # the same pixels, in every exposure
        ramp = open_model(path).data
        slope = (ramp[0, -1] - ramp[0, 1]) / 8  # DN per group
        assert np.median(slope[usable]) > np.median(slope[~hot]) + 5


def test_demo_ramps_have_jwst_metadata(demo_files):
    from pipeline_core.datamodels import RampModel, open_model

    model = open_model(demo_files["inputs"][1])
    assert isinstance(model, RampModel)
    assert model.data.shape == (2, 10, 160, 160)
    assert np.all(model.data == np.round(model.data)) and model.data.max() <= 65535
    params = model.get_crds_parameters()
    assert {k: params[k] for k in ("META.INSTRUMENT.NAME", "META.INSTRUMENT.DETECTOR", "META.SUBARRAY.NAME")} == {
        "META.INSTRUMENT.NAME": "NIRCAM",
        "META.INSTRUMENT.DETECTOR": "NRCA1",
        "META.SUBARRAY.NAME": "SUB160",
    }
    assert (params["META.OBSERVATION.DATE"], params["META.EXPOSURE.READPATT"]) == ("2024-09-15", "RAPID")
    readout = layout.NIRCAM.subarrays[1]
    assert model.meta.exposure.frame_time == model.meta.exposure.group_time == readout.frame_time
    assert (model.meta.subarray.xstart, model.meta.subarray.ystart) == (1889, 1)


def test_demo_ramps_match_the_reference_set(demo_files, embedded_crds_cache):
    from pipeline_core.datamodels import open_model

    ramp = open_model(demo_files["inputs"][0]).data
    refs = os.path.join(embedded_crds_cache, "references", "jwst")
    truth = DetectorTruth("NIRCAM", "NRCA1", *layout.NIRCAM.subarrays[1].slices)
    first = ramp[0, 0]
    faint = ~truth.reference_pixels & (first < np.median(first) + 200)
    # The first read sits on the bias: within the read noise and a group of sky.
    assert abs(np.median(first[faint] - truth.bias[faint])) < 3
    saturation = truth.saturation
    saturated = (ramp[:, -1] >= saturation).any(axis=0)
    assert 10 < saturated.sum() < 200  # the bright star's core
    jumps = np.diff(ramp, axis=1) > 150
    assert jumps.sum() > 10  # cosmic rays
    reference = ramp[0][:, truth.reference_pixels]
    assert np.all(np.abs(reference - truth.bias[truth.reference_pixels]) < 8 * truth.readnoise.max())
    assert sorted(f for f in os.listdir(refs) if "_nircam_gain_" in f)  # the set exists


def test_make_ramp_inverts_the_linearity_correction():
    truth = DetectorTruth("NIRCAM", "NRCB1", slice(100, 110), slice(200, 210))
    rate = np.full(truth.shape, 20000.0)
    ramp = demo.make_ramp(truth, rate, np.random.default_rng(1), frame_time=0.27864, nints=1, ngroups=4)
    coeffs = truth.linearity.astype(np.float64)
    raw = ramp[0].astype(np.float64) - truth.bias
    corrected = sum(coeffs[i] * raw**i for i in range(coeffs.shape[0]))
    live = ~(truth.reference_pixels | truth.dead)
    expected = 20000.0 * 0.27864 * np.arange(1, 5)[:, None] / truth.gain[live]
    measured = corrected[:, live]
    np.testing.assert_allclose(np.median(measured / expected, axis=1), 1.0, atol=0.01)
