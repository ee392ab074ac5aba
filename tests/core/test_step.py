"""Step: call/run, parameters, precedence of layers, parameter files, skip, hooks, saving."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

from pipeline_core import Step, hookimpl
from pipeline_core.datamodels import ImageModel, open_model
from pipeline_core.errors import ParameterError, PluginError, StepError
from pipeline_core.config.parfile import StepConfig, read_parameter_file, write_parameter_file
from tests.fixtures.core import AddStep, ScaleStep

pytestmark = pytest.mark.usefixtures("core_steps", "no_crds_pars")


@pytest.fixture
def no_crds_pars(monkeypatch):
    """Disable CRDS parameter reference files for these tests."""
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


@pytest.fixture
def crds_pars(monkeypatch):
    """Replace the CRDS parameter lookup by a table; returns (table, calls)."""
    from pipeline_core.references import lookup as references

    table: dict[str, dict] = {}
    calls: list[tuple[type, object]] = []

    def fake(step_class, model):
        calls.append((step_class, model))
        return table.get(step_class.__name__, {})

    monkeypatch.setattr(references, "get_step_parameters", fake)
    return table, calls


@pytest.fixture
def image_file(tmp_path):
    model = ImageModel((3, 4))
    model.data[:] = 1.0
    path = str(tmp_path / "jw01_nrca1_uncal.fits")
    model.save(path)
    return path


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


class ListStep(Step):
    """Returns two products."""

    class_alias = "pair"

    def process(self, model):
        other = model.copy()
        other.data += 10
        return (model, other)


class ParStep(Step):
    """A parallel step with reference files."""

    class_alias = "par"
    parallel = True
    reference_file_types = ("gain", "readnoise")

    def process(self, model):
        return model


# ----------------------------------------------------------------------------- call / run


def test_call_on_a_file_returns_the_result_in_memory_and_writes_nothing(in_tmp, image_file):
    before = sorted(os.listdir(in_tmp))
    result = AddStep.call(image_file, value=2)
    np.testing.assert_array_equal(result.data, 3.0)
    assert result.meta.cal_step.add == "COMPLETE"
    assert sorted(os.listdir(in_tmp)) == before
    np.testing.assert_array_equal(open_model(image_file).data, 1.0)


def test_call_on_a_model_leaves_the_callers_model_alone(in_tmp):
    model = ImageModel((2, 2))
    result = ScaleStep.call(AddStep.call(model, value=1.0), factor=3)
    np.testing.assert_array_equal(result.data, 3.0)
    np.testing.assert_array_equal(model.data, 0.0)
    assert model.meta.cal_step.add is None
    assert os.listdir(in_tmp) == []


def test_run_uses_defaults_plus_attributes_and_can_be_reused():
    step = ScaleStep()
    assert step.run(2.0) == 4.0
    step.factor = "5"
    assert step.factor == 5.0
    assert step(2.0) == 10.0
    assert step.run(3.0) == 15.0


def test_run_on_a_model_copies_it_at_top_level():
    model = ImageModel((2, 2))
    result = AddStep().run(model)
    assert result is not model
    np.testing.assert_array_equal(model.data, 0.0)


def test_run_opens_a_path(image_file):
    result = AddStep(value=1).run(image_file)
    np.testing.assert_array_equal(result.data, 2.0)


def test_input_dir_locates_relative_inputs(in_tmp, image_file):
    folder, name = os.path.split(image_file)
    result = AddStep.call(name, input_dir=folder)
    np.testing.assert_array_equal(result.data, 2.0)


def test_missing_input_file_is_a_clear_error(in_tmp):
    with pytest.raises(StepError, match=re.escape("input file 'nope.fits' does not exist")):
        AddStep.call("nope.fits")


def test_process_must_be_implemented():
    with pytest.raises(NotImplementedError, match="Step does not implement process"):
        Step().run(1)


# ----------------------------------------------------------------------------- parameters


def test_parameters_become_typed_attributes():
    step = ScaleStep(factor="1.5", mode="divide", skip="false")
    assert (step.factor, step.mode, step.skip) == (1.5, "divide", False)
    assert step.name == "scale"
    assert ScaleStep(name="other").name == "other"
    assert step.log.name == "steppe.scale"


def test_wrong_parameters_raise_one_error_listing_all():
    with pytest.raises(ParameterError) as info:
        ScaleStep.call(1.0, factor=-1, mode="times", fctor=2)
    text = str(info.value)
    assert text.startswith("3 invalid parameters:")
    assert "step 'scale': parameter 'factor' = -1 is below the minimum 0; accepted: a float >= 0" in text
    assert "step 'scale': parameter 'mode' = 'times' is not one of the options; accepted: one of 'multiply', 'divide'" in text
    assert "step 'scale': unknown parameter 'fctor' (given 2). Did you mean 'factor'?" in text


def test_setting_a_wrong_attribute_value_raises():
    step = ScaleStep()
    with pytest.raises(ParameterError, match=re.escape("step 'scale': parameter 'factor' = 'big' is not a number")):
        step.factor = "big"
    assert step.factor == 2.0


def test_steps_is_refused_on_a_plain_step():
    with pytest.raises(ParameterError, match="is not a pipeline; remove `steps`"):
        AddStep(steps={"x": {}})


def test_common_reference_and_parallel_parameters():
    pars = ParStep().get_pars()
    for name in ("skip", "save_results", "output_file", "output_dir", "suffix", "pre_hooks",
                 "post_hooks", "input_dir", "override_gain", "override_readnoise", "maximum_cores"):
        assert name in pars
    assert pars["maximum_cores"] == "none"
    assert "maximum_cores" not in AddStep().get_pars()
    assert ParStep(override_gain=os.path.join("a", "b.fits")).override_gain == os.path.join("a", "b.fits")


def test_max_workers_comes_from_maximum_cores():
    assert ParStep().max_workers == 1
    assert ParStep(maximum_cores="1").max_workers == 1
    assert ParStep(maximum_cores="all").max_workers == len(os.sched_getaffinity(0))
    assert AddStep().max_workers == 1
    with pytest.raises(ParameterError, match="maximum_cores"):
        _ = ParStep(maximum_cores="lots").max_workers


@pytest.mark.parametrize("value", ["most", "0", "-2", 2.5, 0, "1.5", True])
def test_maximum_cores_is_checked_when_the_step_is_built(value):
    with pytest.raises(ParameterError) as info:
        ParStep(maximum_cores=value)
    text = str(info.value)
    assert text.startswith(f"step 'par': parameter 'maximum_cores' = {value!r} ")
    if not isinstance(value, bool):  # a bool is refused as a non-string first
        assert "'none', 'quarter', 'half', 'all'" in text


def test_maximum_cores_is_checked_on_assignment_call_and_parameter_file(tmp_path, monkeypatch):
    step = ParStep()
    with pytest.raises(ParameterError, match=re.escape("step 'par': parameter 'maximum_cores' = 'most'")):
        step.maximum_cores = "most"
    assert step.maximum_cores == "none"
    ran = []
    monkeypatch.setattr(ParStep, "process", lambda self, model: ran.append(model) or model)
    with pytest.raises(ParameterError, match="maximum_cores' = 'most'"):
        ParStep.call(1.0, maximum_cores="most")
    config = tmp_path / "par.asdf"
    write_parameter_file(config, StepConfig("par", "par", {"maximum_cores": "lots"}))
    with pytest.raises(ParameterError, match=re.escape("'lots' is not valid; accepted: 'none'")) as info:
        ParStep.call(1.0, config_file=config)
    assert str(config) in str(info.value)
    assert ran == []


def test_valid_maximum_cores_values_are_kept_as_given():
    for value, kept in (("HALF", "HALF"), ("all", "all"), (3, "3"), ("2", "2"), (" quarter ", " quarter ")):
        assert ParStep(maximum_cores=value).maximum_cores == kept


def test_get_pars_returns_copies():
    step = AddStep(pre_hooks=["scale"])
    pars = step.get_pars()
    pars["pre_hooks"].append("x")
    assert step.pre_hooks == ["scale"]


def test_spec_errors_name_the_class():
    class BadStep(Step):
        spec = "x = float(default='y')"

    with pytest.raises(StepError, match=r"BadStep\.spec: cannot parse spec line 1"):
        BadStep()


# ----------------------------------------------------------------------------- precedence


def test_precedence_defaults_crds_file_kwargs(tmp_path, image_file, crds_pars, monkeypatch):
    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS")
    table, calls = crds_pars
    table["ScaleStep"] = {"factor": 3.0, "mode": "divide"}
    config = tmp_path / "scale.asdf"
    write_parameter_file(config, StepConfig("scale", "scale", {"factor": 4.0}))

    # defaults < CRDS
    step_pars = _configured(ScaleStep, image_file)
    assert (step_pars["factor"], step_pars["mode"]) == (3.0, "divide")
    # CRDS < config_file (which sets only factor: mode stays from CRDS)
    step_pars = _configured(ScaleStep, image_file, config_file=config)
    assert (step_pars["factor"], step_pars["mode"]) == (4.0, "divide")
    # config_file < kwargs
    step_pars = _configured(ScaleStep, image_file, config_file=config, factor=5)
    assert (step_pars["factor"], step_pars["mode"]) == (5.0, "divide")
    assert all(cls is ScaleStep for cls, _ in calls)
    assert all(type(model).__name__ == "ImageModel" for _, model in calls)


def _configured(cls, data, **kwargs):
    """Run ``cls.call`` and return the parameters the running step had."""
    captured = {}
    from pipeline_core.plugins.manager import registry

    class Observer:
        @hookimpl
        def step_started(self, step, input):
            captured.update(step.get_pars())

    registry().register_plugin(Observer(), distribution="observer")
    cls.call(data, **kwargs)
    return captured


def test_crds_lookup_opens_the_input_once_and_passes_that_model(image_file, crds_pars, monkeypatch):
    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS")
    _, calls = crds_pars
    from pipeline_core import datamodels

    opened = []
    real = datamodels.open_model

    def counting(path, **kw):
        opened.append(path)
        return real(path, **kw)

    monkeypatch.setattr(datamodels, "open_model", counting)
    seen = []

    result = AddStep.call(image_file, post_hooks=[lambda m: seen.append(m)])
    assert len(opened) == 1
    assert calls[0][1] is seen[0] is result


def test_crds_parameters_are_not_used_by_run(image_file, crds_pars):
    table, calls = crds_pars
    table["AddStep"] = {"value": 100.0}
    result = AddStep().run(image_file)
    np.testing.assert_array_equal(result.data, 2.0)
    assert calls == []


def test_crds_lookup_is_only_done_for_model_inputs(crds_pars, monkeypatch):
    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS")
    table, calls = crds_pars
    table["AddStep"] = {"value": 100.0}
    assert AddStep.call(1.0) == 2.0
    assert calls == []


def test_invalid_crds_values_are_reported(image_file, crds_pars, monkeypatch):
    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS")
    table, _ = crds_pars
    table["AddStep"] = {"class": "x.AddStep", "name": "add", "parameters": {"value": "abc"}}
    with pytest.raises(ParameterError, match=re.escape("step 'add': parameter 'value' = 'abc'")) as info:
        AddStep.call(image_file)
    assert "(values from the CRDS parameter reference file of AddStep; set STPIPE_DISABLE_CRDS_STEPPARS=1" in str(info.value)


# ----------------------------------------------------------------------------- parameter files


def test_config_file_sets_some_parameters(tmp_path):
    config = tmp_path / "pars.asdf"
    write_parameter_file(config, StepConfig("tests.fixtures.core.ScaleStep", "scale", {"mode": "divide"}))
    assert ScaleStep.call(8.0, config_file=config) == 4.0
    assert ScaleStep.call(8.0, config_file=config, factor=4) == 2.0


@pytest.mark.parametrize(
    "class_name",
    [
        "tests.fixtures.core.ScaleStep",
        "scale",
        "some.old.place.ScaleStep",
        "core-tests::scale",
        "jwst.scale.scale_step.OldScaleStep",
    ],
)
def test_config_file_class_may_be_any_name_of_the_class(tmp_path, class_name):
    config = tmp_path / "pars.asdf"
    write_parameter_file(config, StepConfig(class_name, "scale", {"factor": 10.0}))
    assert ScaleStep.call(1.0, config_file=config) == 10.0


def test_config_file_for_another_class_is_refused(tmp_path):
    config = tmp_path / "pars.asdf"
    write_parameter_file(config, StepConfig("add", "add", {"value": 10.0}))
    with pytest.raises(ParameterError) as info:
        ScaleStep.call(1.0, config_file=config)
    assert f"parameter file {str(config)!r} is for class 'add' (name 'add'), not for tests.fixtures.core.ScaleStep" in str(info.value)


def test_unregistered_class_in_file_is_not_imported(tmp_path):
    config = tmp_path / "pars.asdf"
    write_parameter_file(config, StepConfig("os.system", "x", {}))
    with pytest.raises(ParameterError, match="not for tests.fixtures.core.ScaleStep"):
        ScaleStep.call(1.0, config_file=config)
    with pytest.raises(ParameterError, match=re.escape("names class 'os.system', which cannot be used")) as info:
        Step.from_config_file(config)
    assert isinstance(info.value.__cause__, PluginError)


def test_config_file_values_are_validated_with_the_file_named(tmp_path):
    config = tmp_path / "pars.asdf"
    write_parameter_file(config, StepConfig("scale", "scale", {"factor": "x", "bogus": 1}))
    with pytest.raises(ParameterError) as info:
        ScaleStep.call(1.0, config_file=config)
    text = str(info.value)
    assert text.startswith(f"2 invalid parameters (config_file={str(config)!r}):")
    assert "unknown parameter 'bogus'" in text


def test_from_config_file_builds_the_named_class(tmp_path):
    config = tmp_path / "pars.asdf"
    write_parameter_file(config, StepConfig("scale", "myscale", {"factor": 7.0}))
    step = Step.from_config_file(config)
    assert type(step) is ScaleStep
    assert (step.name, step.factor) == ("myscale", 7.0)
    assert Step.call(1.0, config_file=config) == 7.0
    assert ScaleStep.from_config_file(config, factor=1).factor == 1.0


def test_from_config_tree():
    step = Step.from_config({"class": "add", "parameters": {"value": 3}})
    assert type(step) is AddStep and step.value == 3.0


def test_export_config_round_trips(tmp_path):
    step = ScaleStep(factor=3.5, mode="divide", skip=True, output_dir="out", pre_hooks=["add"])
    path = step.export_config(tmp_path / "scale.asdf")
    config = read_parameter_file(path)
    assert config.class_name == "tests.fixtures.core.ScaleStep"
    assert config.parameters == step.get_pars()
    back = Step.from_config_file(path)
    assert type(back) is ScaleStep
    assert back.get_pars() == step.get_pars()
    assert back.name == step.name


def test_print_config(capsys):
    text = ScaleStep(factor=4).print_config()
    assert capsys.readouterr().out == text
    assert "class: tests.fixtures.core.ScaleStep\nname: scale\nparameters:\n" in text
    assert "  factor: 4.0\n" in text


# ----------------------------------------------------------------------------- skip / cal_step


def test_skip_returns_the_input_and_marks_skipped(caplog):
    model = ImageModel((2, 2))
    with caplog.at_level("INFO", logger="steppe"):
        result = AddStep.call(model, skip=True)
    np.testing.assert_array_equal(result.data, 0.0)
    assert result.meta.cal_step.add == "SKIPPED"
    assert model.meta.cal_step.add is None
    assert "Step add skipped." in caplog.messages
    assert AddStep.call(5.0, skip=True) == 5.0


class OffByDefault(Step):
    """A step that is off by default inside its pipeline (``skip = True`` in its spec)."""

    class_alias = "offdefault"
    spec = "skip = boolean(default=True) # off inside the pipeline"

    def process(self, model):
        model.data += 1
        return model


def test_a_step_off_by_default_runs_when_called_alone(caplog):
    with caplog.at_level("INFO", logger="steppe"):
        result = OffByDefault.call(ImageModel((1, 1)))
    assert result.meta.cal_step.offdefault == "COMPLETE" and result.data[0, 0] == 1
    assert "Step offdefault run standalone, so skip set to False" in caplog.messages
    assert OffByDefault().run(ImageModel((1, 1))).data[0, 0] == 1


def test_an_explicit_skip_is_honoured_even_alone():
    assert OffByDefault.call(ImageModel((1, 1)), skip=True).meta.cal_step.offdefault == "SKIPPED"
    step = OffByDefault()
    step.skip = True
    assert step.run(ImageModel((1, 1))).meta.cal_step.offdefault == "SKIPPED"


def test_a_step_off_by_default_stays_off_inside_a_pipeline():
    from pipeline_core import Pipeline

    class Wrapper(Pipeline):
        step_defs = {"offdefault": OffByDefault}

        def process(self, model):
            return self.offdefault.run(model)

    result = Wrapper.call(ImageModel((1, 1)))
    assert result.meta.cal_step.offdefault == "SKIPPED" and result.data[0, 0] == 0


def test_a_step_may_mark_itself_skipped():
    class NotApplicable(Step):
        class_alias = "na"

        def process(self, model):
            model.meta.cal_step.na = "SKIPPED"
            return model

    assert NotApplicable.call(ImageModel((1, 1))).meta.cal_step.na == "SKIPPED"


def test_cal_step_key_overrides_the_alias():
    class Keyed(Step):
        class_alias = "keyed"
        cal_step_key = "other"

        def process(self, model):
            return model

    result = Keyed.call(ImageModel((1, 1)))
    assert result.meta.cal_step.other == "COMPLETE"
    assert result.meta.cal_step.keyed is None


# ----------------------------------------------------------------------------- hooks


def test_callable_hooks_get_and_replace_the_data():
    seen = []
    result = AddStep.call(
        1.0, pre_hooks=[lambda x: x * 10], post_hooks=[lambda x: seen.append(x), lambda x: -x]
    )
    assert seen == [11.0]
    assert result == -11.0


def test_registered_step_names_and_classes_as_hooks():
    assert AddStep.call(1.0, pre_hooks=["scale"]) == 3.0
    assert AddStep.call(1.0, post_hooks=[ScaleStep, "tests.fixtures.core.ScaleStep"]) == 8.0
    assert AddStep.call(1.0, post_hooks=[ScaleStep(factor=5)]) == 10.0


def test_hook_steps_mark_their_own_cal_step():
    result = AddStep.call(ImageModel((1, 1)), post_hooks=["scale"])
    assert (result.meta.cal_step.add, result.meta.cal_step.scale) == ("COMPLETE", "COMPLETE")


def test_unknown_hook_name_is_an_error():
    with pytest.raises(ParameterError, match=re.escape("step 'add': pre_hooks[0] = 'nosuch' is not a registered step")):
        AddStep.call(1.0, pre_hooks=["nosuch"])


def test_hook_that_is_not_usable_is_refused():
    with pytest.raises(ParameterError, match=re.escape("parameter 'pre_hooks' = [3] has item 0 = 3")):
        AddStep(pre_hooks=[3])


def test_registry_hooks_observe_every_step(core_steps):
    events = []

    class Observer:
        @hookimpl
        def step_started(self, step, input):
            events.append(("start", step.name, input))

        @hookimpl
        def step_finished(self, step, result, elapsed):
            assert elapsed >= 0
            events.append(("end", step.name, result))

    core_steps.register_plugin(Observer(), distribution="observer")
    AddStep.call(1.0)
    AddStep.call(1.0, skip=True)
    assert events == [("start", "add", 1.0), ("end", "add", 2.0), ("start", "add", 1.0), ("end", "add", 1.0)]


# ----------------------------------------------------------------------------- saving


def test_save_results_names_the_product_after_the_input(in_tmp, image_file):
    result = AddStep.call(image_file, save_results=True)
    assert sorted(os.listdir(in_tmp)) == ["jw01_nrca1_add.fits", "jw01_nrca1_uncal.fits"]
    saved = open_model(in_tmp / "jw01_nrca1_add.fits")
    np.testing.assert_array_equal(saved.data, result.data)
    assert saved.meta.cal_step.add == "COMPLETE"


def test_output_file_output_dir_and_suffix(in_tmp, image_file):
    AddStep.call(image_file, save_results=True, output_file="mine.fits", output_dir="out/deep", suffix="plus")
    assert os.listdir(in_tmp / "out" / "deep") == ["mine_plus.fits"]


def test_output_file_alone_saves_the_product(in_tmp, image_file):
    # as in stpipe: naming the product's file asks for it to be written
    AddStep.call(image_file, output_file="mine")
    assert sorted(os.listdir(in_tmp)) == ["jw01_nrca1_uncal.fits", "mine_add.fits"]
    ScaleStep.call(image_file, output_file="other", save_results=False)
    assert "other_scale.fits" in os.listdir(in_tmp)


def test_output_file_set_on_an_instance_or_in_a_parameter_file_saves(in_tmp, image_file):
    step = AddStep()
    step.output_file = "attr"
    assert step.saves_results()
    step.run(image_file)
    write_parameter_file("add.asdf", StepConfig("add", "add", {"output_file": "fromfile"}))
    AddStep.call(image_file, config_file="add.asdf")
    assert {"attr_add.fits", "fromfile_add.fits"} <= set(os.listdir(in_tmp))


def test_output_file_makes_save_model_write_extra_products(in_tmp, image_file):
    step = AddStep(output_file="base")
    path = step.save_model(open_model(image_file), "rateints")
    assert path == "base_rateints.fits" and os.path.exists(in_tmp / path)


def test_output_dir_alone_does_not_save(in_tmp, image_file):
    # as in stpipe: output_dir only says where saved products go
    AddStep.call(image_file, output_dir="out")
    assert not os.path.exists(in_tmp / "out")
    assert not AddStep(output_dir="out").saves_results()


def test_default_suffix_is_the_alias_and_replaces_a_previous_alias(in_tmp, image_file):
    first = AddStep.call(image_file, save_results=True)
    ScaleStep.call(first, save_results=True)
    assert sorted(os.listdir(in_tmp)) == [
        "jw01_nrca1_add.fits", "jw01_nrca1_scale.fits", "jw01_nrca1_uncal.fits",
    ]


def test_save_model_force_and_explicit_suffix(in_tmp, image_file):
    step = AddStep()
    model = open_model(image_file)
    assert step.save_model(model) is None
    path = step.save_model(model, "rateints", force=True)
    assert path == "jw01_nrca1_rateints.fits"
    assert os.path.exists(in_tmp / path)


def test_tuple_results_are_saved_one_file_each(in_tmp, image_file):
    ListStep.call(image_file, save_results=True)
    assert sorted(os.listdir(in_tmp)) == [
        "jw01_nrca1_0_pair.fits", "jw01_nrca1_1_pair.fits", "jw01_nrca1_uncal.fits",
    ]


def test_saving_something_that_is_not_a_model_is_a_clear_error():
    with pytest.raises(StepError, match=re.escape("step 'add': cannot save a float")):
        AddStep.call(1.0, save_results=True)


def test_asdf_output_extension(in_tmp, image_file):
    AddStep.call(image_file, save_results=True, output_ext=".asdf")
    assert "jw01_nrca1_add.asdf" in os.listdir(in_tmp)


def test_output_use_model_names_after_the_models_filename(in_tmp, image_file):
    model = open_model(image_file)
    model.meta.filename = "other_rate.fits"
    AddStep.call(model, save_results=True, output_use_model=True)
    assert "other_add.fits" in os.listdir(in_tmp)


# ----------------------------------------------------------------------------- references


def test_get_reference_file_delegates(monkeypatch):
    from pipeline_core.references import lookup as references

    calls = []
    monkeypatch.setattr(references, "get_reference_file", lambda s, m, r: calls.append((s, m, r)) or "ref.fits")
    step = ParStep()
    model = ImageModel((1, 1))
    assert step.get_reference_file(model, "gain") == "ref.fits"
    assert calls == [(step, model, "gain")]


def test_reserved_parameter_names_are_refused():
    class Reserved(Step):
        spec = "name = string(default='x')"

    with pytest.raises(StepError, match=r"declares \['name'\], which are reserved"):
        Reserved()


def test_parameters_are_checked_before_the_input_is_opened(in_tmp, monkeypatch):
    from pipeline_core import datamodels

    def fail(*args, **kwargs):
        raise AssertionError("the input was opened")

    monkeypatch.setattr(datamodels, "open_model", fail)
    with pytest.raises(ParameterError, match="parameter 'value'"):
        AddStep.call("big_uncal.fits", value="x")


def test_call_with_the_real_crds_lookup(crds_env, monkeypatch, in_tmp):
    """A step CRDS has no parameter file for runs with its own defaults."""
    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS")
    model = ImageModel((2, 2))
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = "NRCA3"
    model.meta.observation.date = "2024-05-01"
    model.meta.observation.time = "12:00:00"
    result = AddStep.call(model, value=4)
    np.testing.assert_array_equal(result.data, 4.0)
