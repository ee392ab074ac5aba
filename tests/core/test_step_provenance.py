"""Provenance: every product records steppe and plugin versions and the parameters used."""

from __future__ import annotations

import pytest

import pipeline_core
from pipeline_core import Step
from pipeline_core.datamodels import ImageModel, open_model
from pipeline_core.config.parfile import config_to_tree
from tests.fixtures.core import ScaleStep, TwoStepPipeline

pytestmark = pytest.mark.usefixtures("core_steps", "no_crds_pars")


@pytest.fixture
def no_crds_pars(monkeypatch):
    """Disable CRDS parameter reference files for these tests."""
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


@pytest.fixture
def image_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = ImageModel((2, 3))
    model.data[:] = 1.0
    model.meta.instrument.name = "NIRCAM"
    model.save("jw01_nrca1_uncal.fits")
    return "jw01_nrca1_uncal.fits"


def test_a_standalone_result_records_versions_and_parameters():
    result = ScaleStep.call(ImageModel((2, 2)), factor=3.0)
    block = result.meta.steppe.to_dict()
    assert block["version"] == pipeline_core.__version__
    assert block["software"] == {"steppe": pipeline_core.__version__, "core-tests": "0"}
    assert block["parameters"]["class"] == ScaleStep.class_path()
    assert block["parameters"]["parameters"]["factor"] == 3.0
    assert "not_provided" not in block
    # the recorded parameters load back as a parameter file giving the same configuration
    again = Step.from_config(block["parameters"])
    assert again.get_pars() == ScaleStep(factor=3.0).get_pars()


def test_a_saved_pipeline_product_records_every_steps_parameters(image_file):
    pipe = TwoStepPipeline(save_results=True, steps={"scale": {"factor": 5.0}, "add": {"skip": True}})
    pipe.run(image_file)
    saved = open_model("jw01_nrca1_twostep.fits")
    tree = saved.meta.steppe.parameters.to_dict()
    expected = config_to_tree(pipe._config())
    expected["parameters"] = {k: v for k, v in expected["parameters"].items() if v is not None}
    for step in expected["steps"]:
        step["parameters"] = {k: v for k, v in step["parameters"].items() if v is not None}
    assert tree == expected
    assert [s["parameters"]["skip"] for s in tree["steps"]] == [True, False]
    assert saved.meta.steppe.software.to_dict()["core-tests"] == "0"


def test_a_product_saved_by_a_step_inside_a_pipeline_records_the_whole_pipeline(image_file):
    TwoStepPipeline.call(image_file, steps={"add": {"save_results": True, "value": 7.0}})
    saved = open_model("jw01_nrca1_add.fits")
    tree = saved.meta.steppe.parameters.to_dict()
    assert tree["class"] == TwoStepPipeline.class_path()
    assert tree["steps"][0]["parameters"]["value"] == 7.0


def test_non_model_results_are_left_alone():
    assert ScaleStep.call(2.0) == 4.0


def test_products_with_provenance_open_in_jwst_datamodels(image_file):
    jwst_models = pytest.importorskip("stdatamodels.jwst.datamodels")
    TwoStepPipeline.call(image_file, save_results=True)
    with jwst_models.open("jw01_nrca1_twostep.fits") as theirs:
        assert type(theirs).__name__ == "ImageModel"
        block = theirs.instance["meta"]["steppe"]
        assert block["version"] == pipeline_core.__version__
        assert block["parameters"]["steps"][1]["parameters"]["factor"] == 2.0
