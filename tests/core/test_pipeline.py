"""Pipeline: steps=, sub-steps as attributes, saving rules, parameter files, generic pipelines."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

from pipeline_core import Pipeline, Step, hookimpl
from pipeline_core.datamodels import ImageModel, open_model
from pipeline_core.errors import ParameterError, PluginError, StepError
from pipeline_core.config.parfile import StepConfig, read_parameter_file, write_parameter_file
from tests.fixtures.core import AddStep, ScaleStep, TwoStepPipeline

pytestmark = pytest.mark.usefixtures("core_steps", "no_crds_pars")


@pytest.fixture
def no_crds_pars(monkeypatch):
    """Disable CRDS parameter reference files for these tests."""
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def image_file(in_tmp):
    model = ImageModel((2, 3))
    model.data[:] = 1.0
    path = "jw01_nrca1_uncal.fits"
    model.save(path)
    return path


class AliasPipeline(Pipeline):
    """Steps named by registered alias."""

    step_defs = {"first": "scale", "second": "add"}


class OuterPipeline(Pipeline):
    """A pipeline containing a pipeline."""

    class_alias = "outer"
    step_defs = {"inner": TwoStepPipeline, "final": AddStep}


# ----------------------------------------------------------------------------- steps=


def test_steps_routes_nested_values():
    assert TwoStepPipeline.call(1.0) == 4.0
    assert TwoStepPipeline.call(1.0, steps={"scale": {"factor": 3.0, "skip": False}}) == 6.0
    assert TwoStepPipeline.call(1.0, steps={"add": {"value": 2}, "scale": {"mode": "divide"}}) == 1.5


def test_unknown_step_name_lists_the_valid_ones():
    with pytest.raises(ParameterError) as info:
        TwoStepPipeline.call(1.0, steps={"scael": {"factor": 3.0}})
    assert str(info.value) == (
        "step 'two_step': unknown step 'scael' (given {'factor': 3.0}). Did you mean 'scale'? "
        "Valid steps: add, scale"
    )


def test_problems_in_pipeline_and_steps_are_reported_together():
    with pytest.raises(ParameterError) as info:
        TwoStepPipeline.call(1.0, note=[1], steps={"scale": {"factor": -2}, "add": 5})
    text = str(info.value)
    assert text.startswith("3 invalid parameters:")
    assert "step 'two_step': parameter 'note'" in text
    assert "step 'scale': parameter 'factor' = -2 is below the minimum 0" in text
    assert "steps['add'] = 5 is not accepted" in text


def test_steps_must_be_a_mapping():
    with pytest.raises(ParameterError, match=re.escape("steps = ['add'] is not accepted")):
        TwoStepPipeline(steps=["add"])


def test_step_defs_may_name_registered_steps():
    pipe = AliasPipeline()
    assert type(pipe.first) is ScaleStep and type(pipe.second) is AddStep
    assert pipe.run(1.0) == 3.0  # generic process: in order


def test_unregistered_step_def_is_an_error():
    class Broken(Pipeline):
        step_defs = {"x": "no_such_step"}

    with pytest.raises(PluginError, match=re.escape("pipeline 'Broken', step 'x': 'no_such_step'")):
        Broken()


def test_step_name_clashing_with_a_parameter_is_refused():
    class Clash(Pipeline):
        step_defs = {"skip": AddStep}

    with pytest.raises(StepError, match="step name 'skip' clashes"):
        Clash()


def test_nested_pipelines():
    pipe = OuterPipeline(steps={"inner": {"steps": {"scale": {"factor": 10}}}, "final": {"value": 5}})
    assert pipe.inner.scale.factor == 10.0
    assert pipe.inner.scale.parent is pipe.inner and pipe.inner.parent is pipe
    assert pipe.run(1.0) == 25.0


# ----------------------------------------------------------------------------- run()


def test_run_uses_attributes_and_is_reusable():
    pipe = TwoStepPipeline()
    pipe.scale.factor = 3
    assert pipe.run(1.0) == 6.0
    pipe.scale.skip = True
    assert pipe.run(1.0) == 2.0
    assert pipe.run(5.0) == 6.0
    assert pipe.substeps == {"add": pipe.add, "scale": pipe.scale}


def test_models_pass_through_steps_and_the_callers_model_is_untouched():
    seen = []

    class Spy(Step):
        class_alias = "spy"

        def process(self, model):
            seen.append(model)
            return model

    class SpyPipeline(Pipeline):
        step_defs = {"a": Spy, "b": Spy}

    model = ImageModel((1, 1))
    result = SpyPipeline.call(model)
    assert seen[0] is seen[1] is result
    assert result is not model
    assert model.meta.cal_step.spy is None and result.meta.cal_step.spy == "COMPLETE"


def test_skip_from_steps_kwarg_is_logged(caplog):
    with caplog.at_level("INFO", logger="steppe"):
        result = TwoStepPipeline.call(ImageModel((1, 1)), steps={"add": {"skip": True}})
    assert "Step add skipped." in caplog.messages
    assert (result.meta.cal_step.add, result.meta.cal_step.scale) == ("SKIPPED", "COMPLETE")
    assert result.meta.cal_step.two_step is None  # pipelines set no cal_step of their own


# ----------------------------------------------------------------------------- saving


def test_pipeline_save_results_saves_the_final_product_only(in_tmp, image_file):
    result = TwoStepPipeline.call(image_file, save_results=True)
    assert sorted(os.listdir(in_tmp)) == ["jw01_nrca1_twostep.fits", "jw01_nrca1_uncal.fits"]
    np.testing.assert_array_equal(open_model("jw01_nrca1_twostep.fits").data, result.data)


def test_step_level_save_results_overrides(in_tmp, image_file):
    TwoStepPipeline.call(image_file, steps={"add": {"save_results": True}})
    assert sorted(os.listdir(in_tmp)) == ["jw01_nrca1_add.fits", "jw01_nrca1_uncal.fits"]
    np.testing.assert_array_equal(open_model("jw01_nrca1_add.fits").data, 2.0)


def test_steps_inherit_output_dir_and_output_file(in_tmp, image_file):
    TwoStepPipeline.call(
        image_file, save_results=True, output_dir="out", output_file="final",
        steps={"add": {"save_results": True}, "scale": {"save_results": True, "output_dir": "mine"}},
    )
    assert sorted(os.listdir("out")) == ["final_add.fits", "final_twostep.fits"]
    assert os.listdir("mine") == ["final_scale.fits"]


def test_pipeline_output_file_alone_saves_the_final_product(in_tmp, image_file):
    TwoStepPipeline.call(image_file, output_file="final")
    assert sorted(os.listdir(in_tmp)) == ["final_twostep.fits", "jw01_nrca1_uncal.fits"]


def test_step_output_file_in_steps_saves_that_steps_result(in_tmp, image_file, tmp_path):
    TwoStepPipeline.call(image_file, steps={"add": {"output_file": "mid"}})
    assert sorted(os.listdir(in_tmp)) == ["jw01_nrca1_uncal.fits", "mid_add.fits"]
    config = tmp_path / "two.asdf"
    write_parameter_file(
        config, StepConfig("two_step", "two_step", {}, steps=[StepConfig("scale", "scale", {"output_file": "fromfile"})])
    )
    TwoStepPipeline.call(image_file, config_file=str(config))
    assert "fromfile_scale.fits" in os.listdir(in_tmp)


def test_pipeline_output_dir_alone_saves_nothing(in_tmp, image_file):
    TwoStepPipeline.call(image_file, output_dir="out")
    assert sorted(os.listdir(in_tmp)) == ["jw01_nrca1_uncal.fits"]


class ParallelStep(Step):
    """A parallel step that records that it ran."""

    class_alias = "parallel_add"
    parallel = True
    runs: list = []

    def process(self, data):
        """Record the run."""
        ParallelStep.runs.append(self.name)
        return data


class FirstThenParallel(Pipeline):
    """A step, then a parallel one."""

    step_defs = {"add": AddStep, "par": ParallelStep}


def test_invalid_maximum_cores_in_steps_fails_before_any_step_runs(monkeypatch):
    monkeypatch.setattr(ParallelStep, "runs", [])
    with pytest.raises(ParameterError) as info:
        FirstThenParallel.call(1.0, steps={"par": {"maximum_cores": "most"}})
    text = str(info.value)
    assert text.startswith("step 'par': parameter 'maximum_cores' = 'most' is not valid; accepted: ")
    assert ParallelStep.runs == []
    pipe = FirstThenParallel()
    with pytest.raises(ParameterError, match="maximum_cores' = 'most'"):
        pipe.par.maximum_cores = "most"
    assert pipe.run(1.0) == 2.0 and ParallelStep.runs == ["par"]


def test_generic_pipeline_product_takes_the_last_steps_suffix(in_tmp, image_file):
    AliasPipeline.call(image_file, save_results=True)
    assert "jw01_nrca1_add.fits" in os.listdir(in_tmp)


# ----------------------------------------------------------------------------- parameter files


def test_config_file_configures_steps_by_name(tmp_path):
    config = tmp_path / "two.asdf"
    write_parameter_file(
        config,
        StepConfig(
            "tests.fixtures.core.TwoStepPipeline", "two_step", {"note": "x"},
            steps=[StepConfig("tests.fixtures.core.ScaleStep", "scale", {"factor": 5.0})],
        ),
    )
    assert TwoStepPipeline.call(1.0, config_file=config) == 10.0
    assert TwoStepPipeline.call(1.0, config_file=config, steps={"scale": {"factor": 1}}) == 2.0
    assert TwoStepPipeline.call(1.0, config_file=config, steps={"add": {"skip": True}}) == 5.0


def test_skip_in_config_file(tmp_path):
    config = tmp_path / "two.asdf"
    write_parameter_file(
        config, StepConfig("two_step", "two_step", {}, steps=[StepConfig(None, "scale", {"skip": True})])
    )
    assert TwoStepPipeline.call(1.0, config_file=config) == 2.0


def test_unknown_step_in_config_file_is_an_error(tmp_path):
    config = tmp_path / "two.asdf"
    write_parameter_file(config, StepConfig("two_step", "two_step", {}, steps=[StepConfig("x.Y", "jmp", {})]))
    with pytest.raises(ParameterError, match=r"unknown step 'jmp' \(given \{\}\)\. Valid steps: add, scale \(config_file="):
        TwoStepPipeline.call(1.0, config_file=config)


def test_export_config_round_trips_a_coded_pipeline(tmp_path):
    pipe = TwoStepPipeline(note="n", steps={"scale": {"factor": 9.0}, "add": {"skip": True}})
    path = pipe.export_config(tmp_path / "pipe.asdf")
    config = read_parameter_file(path)
    assert [s.name for s in config.steps] == ["add", "scale"]
    assert config.steps[1].class_name == "tests.fixtures.core.ScaleStep"
    back = Pipeline.from_config_file(path)
    assert type(back) is TwoStepPipeline
    assert back.get_pars() == pipe.get_pars()


def test_generic_pipeline_is_defined_by_the_step_list(tmp_path):
    config = tmp_path / "generic.asdf"
    write_parameter_file(
        config,
        StepConfig(
            "pipeline_core.steps.pipeline.Pipeline", "mine", {},
            steps=[
                StepConfig("scale", "times3", {"factor": 3.0}),
                StepConfig("tests.fixtures.core.AddStep", "plus", {"value": 1.0}),
                StepConfig("scale", "times10", {"factor": 10.0}),
            ],
        ),
    )
    pipe = Pipeline.from_config_file(config)
    assert type(pipe) is Pipeline and pipe.name == "mine"
    assert list(pipe.substeps) == ["times3", "plus", "times10"]
    assert pipe.run(1.0) == 40.0
    assert Pipeline.call(1.0, config_file=config) == 40.0
    assert Pipeline.call(1.0, config_file=config, steps={"plus": {"value": 0}}) == 30.0
    # and it round-trips
    again = Pipeline.from_config_file(pipe.export_config(tmp_path / "again.asdf"))
    assert again.get_pars() == pipe.get_pars() and again.run(1.0) == 40.0


def test_generic_pipeline_with_unregistered_step_class(tmp_path):
    config = tmp_path / "generic.asdf"
    write_parameter_file(
        config,
        StepConfig("pipeline_core.Pipeline", "p", {},
                   steps=[StepConfig("os.system", "a", {}), StepConfig(None, "b", {})]),
    )
    with pytest.raises(ParameterError) as info:
        Pipeline.from_config_file(config)
    text = str(info.value)
    assert text.startswith(f"parameter file {str(config)!r} defines a pipeline whose steps cannot be built:")
    assert "steps[0] ('a'): 'os.system' is not a registered step" in text
    assert "steps[1] ('b') has no `class`" in text


def test_pipeline_from_config_file_refuses_a_plain_step(tmp_path):
    config = tmp_path / "s.asdf"
    write_parameter_file(config, StepConfig("scale", "scale", {}))
    with pytest.raises(ParameterError, match="a step, not a pipeline"):
        Pipeline.from_config_file(config)


# ----------------------------------------------------------------------------- CRDS layer


def test_crds_parameters_of_pipeline_and_steps(monkeypatch, image_file):
    from pipeline_core.references import lookup as references

    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS")
    table = {
        "TwoStepPipeline": {"class": "x", "parameters": {"note": "crds"},
                            "steps": [{"name": "scale", "parameters": {"factor": 4.0}}]},
        "ScaleStep": {"factor": 3.0, "mode": "divide"},
        "AddStep": {"value": 2.0},
    }
    monkeypatch.setattr(references, "get_step_parameters", lambda cls, model: table.get(cls.__name__, {}))
    used = {}

    class Observer:
        @hookimpl
        def step_started(self, step, input):
            used[step.name] = step.get_pars()

    from pipeline_core.plugins.manager import registry

    registry().register_plugin(Observer(), distribution="observer")
    result = TwoStepPipeline.call(image_file, steps={"add": {"value": 7.0}})
    assert used["two_step"]["note"] == "crds"
    assert (used["scale"]["factor"], used["scale"]["mode"]) == (4.0, "divide")  # pipeline's pars win
    assert used["add"]["value"] == 7.0  # keyword arguments win
    np.testing.assert_array_equal(result.data, 2.0)


def test_a_step_can_be_replaced_by_another_instance():
    pipe = AliasPipeline()
    pipe.first = ScaleStep(factor=10)
    assert pipe.first.parent is pipe and pipe.first.name == "first"
    assert pipe.substeps["first"] is pipe.first
    assert pipe.run(1.0) == 11.0
    with pytest.raises(StepError, match="first must stay a step"):
        pipe.first = 3


def test_pipelines_pickle():
    import pickle

    pipe = TwoStepPipeline(steps={"scale": {"factor": 5}})
    again = pickle.loads(pickle.dumps(pipe))
    assert again.get_pars() == pipe.get_pars()
    assert again.scale.parent is again
    assert again.run(1.0) == 10.0
