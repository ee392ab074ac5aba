"""Steps and parameters a class declares it does not provide (omitted_steps / omitted_parameters)."""

from __future__ import annotations

import re
import textwrap

import pytest

from pipeline_core import Pipeline
from pipeline_core.datamodels import ImageModel
from pipeline_core.errors import ParameterError, StepError
from pipeline_core.config.omissions import OmittedParameter, OmittedStep
from tests.fixtures.core import AddStep, ScaleStep

pytestmark = pytest.mark.usefixtures("core_steps", "no_crds_pars")


@pytest.fixture
def no_crds_pars(monkeypatch):
    """Disable CRDS parameter reference files for these tests."""
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


class StandInScaleStep(ScaleStep):
    """A scale step standing in for another one with more parameters."""

    class_alias = "stand_in_scale"
    legacy_class_paths = ("otherpkg.scale.ScaleStep",)
    omitted_parameters = {
        "smoothing": "has no effect here",
        "algorithm": OmittedParameter("only the 'direct' algorithm is provided", accepted=("direct",)),
        "strict": OmittedParameter("never strict here", accepted=(False,)),
        "width": OmittedParameter("fixed width", accepted=(30,)),
    }


class StandInPipeline(Pipeline):
    """Add then scale, standing in for a pipeline that has two more steps."""

    class_alias = "stand_in"
    legacy_class_paths = ("otherpkg.pipeline.OtherPipeline",)
    step_defs = {"add": AddStep, "scale": StandInScaleStep}
    omitted_steps = {
        "flicker": "flicker cleaning is not provided",
        "emi": OmittedStep("MIRI EMI correction", instruments=("MIRI",)),
    }

    def process(self, data):
        """Run ``add`` then ``scale``."""
        return self.scale.run(self.add.run(data))


def _image(instrument="NIRCAM"):
    model = ImageModel((2, 2))
    model.data[:] = 1.0
    model.meta.instrument.name = instrument
    return model


# ----------------------------------------------------------------------------- steps


def test_a_skipped_omitted_step_loads_runs_and_is_logged(caplog):
    with caplog.at_level("INFO", logger="steppe"):
        result = StandInPipeline.call(_image(), steps={"flicker": {"skip": True, "n_sigma": 2.0}})
    assert result.data[0, 0] == 4.0
    assert "Step stand_in: step flicker is not provided (flicker cleaning is not provided); skipped" in caplog.text


def test_an_omitted_step_without_skip_is_treated_as_not_provided():
    assert StandInPipeline.call(3.0, steps={"flicker": {"n_sigma": 2.0}}) == 8.0


def test_an_enabled_omitted_step_is_an_error_before_anything_runs():
    expected = (
        "step 'stand_in': step 'flicker' is enabled (skip = False), but this pipeline does not provide it "
        "(flicker cleaning is not provided). Set steps.flicker.skip = true (or remove the 'flicker' entry) "
        "to run without it, or run this configuration with the software that provides the step"
    )
    with pytest.raises(ParameterError, match=re.escape(expected)):
        StandInPipeline(steps={"flicker": {"skip": "no"}})


def test_an_instrument_specific_step_enabled_for_another_instrument_is_not_applicable(caplog):
    with caplog.at_level("INFO", logger="steppe"):
        result = StandInPipeline.call(_image("NIRCAM"), steps={"emi": {"skip": False}})
    assert result.data[0, 0] == 4.0
    assert "step emi is enabled but does not apply to NIRCAM exposures; not run" in caplog.text


def test_an_instrument_specific_step_enabled_for_its_instrument_is_refused_at_run_time(caplog):
    pipe = StandInPipeline(steps={"emi": {"skip": False}})
    with caplog.at_level("INFO", logger="steppe"):
        with pytest.raises(ParameterError, match=re.escape("step 'emi' is enabled (skip = False) on this MIRI exposure")):
            pipe.run(_image("MIRI"))
    assert "Step add running" not in caplog.text


def test_omitted_steps_that_apply_are_recorded_as_skipped():
    result = StandInPipeline.call(_image("NIRCAM"))
    assert result.meta.cal_step.flicker == "SKIPPED"
    assert result.meta.cal_step.emi is None  # MIRI only: JWST records nothing either
    assert StandInPipeline.call(_image("MIRI")).meta.cal_step.emi == "SKIPPED"


def test_an_undeclared_step_name_stays_an_error():
    with pytest.raises(ParameterError, match=re.escape("step 'stand_in': unknown step 'ipc' (given {'skip': True}).")):
        StandInPipeline(steps={"ipc": {"skip": True}})


def test_a_bad_entry_for_an_omitted_step_is_reported():
    with pytest.raises(ParameterError) as info:
        StandInPipeline(steps={"flicker": 3, "emi": {"skip": "perhaps"}})
    text = str(info.value)
    assert "steps['flicker'] = 3 is not accepted; give a mapping of parameter names to values" in text
    assert "parameter 'skip' = 'perhaps' is not a boolean" in text


def test_a_stpipe_parameter_file_naming_omitted_steps_runs(tmp_path):
    path = tmp_path / "other.asdf"
    path.write_text(
        textwrap.dedent(
            """\
            #ASDF 1.0.0
            #ASDF_STANDARD 1.5.0
            %YAML 1.1
            %TAG ! tag:stsci.edu:asdf/
            --- !core/asdf-1.1.0
            class: otherpkg.pipeline.OtherPipeline
            name: OtherPipeline
            parameters: {save_results: false}
            steps:
            - class: otherpkg.add.AddStep
              name: add
              parameters: {value: 2.0}
            - class: otherpkg.flicker.FlickerStep
              name: flicker
              parameters: {skip: true, n_sigma: 2.0}
            - class: otherpkg.emi.EmiStep
              name: emi
              parameters: {skip: false, nbins: null}
            - class: otherpkg.scale.ScaleStep
              name: scale
              parameters: {factor: 3.0, smoothing: 7, algorithm: direct, strict: false, width: 30.0}
            ...
            """
        )
    )
    result = StandInPipeline.call(_image(), config_file=str(path))
    assert result.data[0, 0] == 9.0
    assert result.meta.steppe.not_provided.to_dict() == {
        "steps": {"flicker": "flicker cleaning is not provided", "emi": "MIRI EMI correction"},
        "parameters": {"scale": {"smoothing": 7, "algorithm": "direct", "strict": False, "width": 30.0}},
    }


def test_a_crds_parameter_file_enabling_an_omitted_step_is_refused_and_kwargs_win(monkeypatch):
    from pipeline_core.references import lookup as references

    def crds_pars(step_class, model):
        if step_class is not StandInPipeline:
            return {}
        return {
            "class": "otherpkg.pipeline.OtherPipeline",
            "name": "OtherPipeline",
            "parameters": {},
            "steps": [{"class": "otherpkg.flicker.FlickerStep", "name": "flicker", "parameters": {"skip": False}}],
        }

    monkeypatch.setattr(references, "get_step_parameters", crds_pars)
    expected = (
        "(values from the CRDS parameter reference file of StandInPipeline; set "
        "STPIPE_DISABLE_CRDS_STEPPARS=1 to run without it)"
    )
    with pytest.raises(ParameterError, match=re.escape(expected)):
        StandInPipeline.call(_image())
    result = StandInPipeline.call(_image(), steps={"flicker": {"skip": True}})
    assert result.data[0, 0] == 4.0


# ----------------------------------------------------------------------------- parameters


def test_omitted_parameters_with_accepted_values_are_ignored_and_logged(caplog):
    with caplog.at_level("INFO", logger="steppe"):
        result = StandInScaleStep.call(2.0, smoothing=5, algorithm="DIRECT", strict="false", width=30)
    assert result == 4.0
    assert "Step stand_in_scale ignores parameters it does not implement: smoothing=5, algorithm='DIRECT'" in caplog.text


def test_an_omitted_parameter_asking_for_other_behaviour_is_an_error():
    expected = (
        "step 'scale': parameter 'algorithm' = 'fancy' asks for something steppe does not implement "
        "(only the 'direct' algorithm is provided); accepted: one of 'direct'. Remove it or set it to "
        "an accepted value"
    )
    with pytest.raises(ParameterError, match=re.escape(expected)):
        StandInPipeline.call(1.0, steps={"scale": {"algorithm": "fancy"}})
    with pytest.raises(ParameterError, match=re.escape("parameter 'strict' = True asks for")):
        StandInScaleStep(strict=True)
    with pytest.raises(ParameterError, match=re.escape("parameter 'width' = 31 asks for")):
        StandInScaleStep(width=31)


def test_undeclared_parameters_stay_errors():
    with pytest.raises(ParameterError, match=re.escape("step 'stand_in_scale': unknown parameter 'smoothnes'")):
        StandInScaleStep(smoothnes=3)


# ----------------------------------------------------------------------------- declarations


def test_declarations_are_checked():
    class Clash(Pipeline):
        step_defs = {"add": AddStep}
        omitted_steps = {"add": "clash"}

    with pytest.raises(StepError, match=re.escape("Clash.omitted_steps lists 'add', which is one of its steps")):
        Clash()

    class Own(ScaleStep):
        omitted_parameters = {"factor": "clash"}

    with pytest.raises(StepError, match=re.escape("Own.omitted_parameters lists 'factor', which is a parameter")):
        Own()

    class Empty(Pipeline):
        step_defs = {"add": AddStep}
        omitted_steps = {"flicker": ""}

    with pytest.raises(StepError, match=re.escape("Empty.omitted_steps['flicker'] = '' is not accepted")):
        Empty()
