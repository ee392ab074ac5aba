"""ASDF parameter files in the stpipe layout: reading, writing, malformed files."""

from __future__ import annotations

import re

import asdf
import pytest

from pipeline_core.errors import ParameterError
from pipeline_core.config.parfile import (
    StepConfig,
    config_from_tree,
    read_parameter_file,
    to_plain,
    write_parameter_file,
)


def write_asdf(path, tree):
    asdf.AsdfFile(tree).write_to(path)
    return str(path)


def test_reads_the_stpipe_layout(tmp_path):
    path = write_asdf(
        tmp_path / "pars.asdf",
        {
            "class": "jwst.pipeline.calwebb_detector1.Detector1Pipeline",
            "name": "Detector1Pipeline",
            "parameters": {"save_results": True},
            "steps": [
                {"class": "jwst.jump.jump_step.JumpStep", "name": "jump",
                 "parameters": {"rejection_threshold": 12.0}},
                {"class": "jwst.ramp_fitting.ramp_fit_step.RampFitStep", "name": "ramp_fit"},
            ],
            "meta": {"author": "someone", "reftype": "pars-detector1pipeline"},
        },
    )
    config = read_parameter_file(path)
    assert config.class_name == "jwst.pipeline.calwebb_detector1.Detector1Pipeline"
    assert config.name == "Detector1Pipeline"
    assert config.parameters == {"save_results": True}
    assert [s.name for s in config.steps] == ["jump", "ramp_fit"]
    assert config.steps[1].parameters == {}
    assert config.source == path
    assert config.as_layer() == {
        "save_results": True,
        "steps": {"jump": {"rejection_threshold": 12.0}, "ramp_fit": {}},
    }


def test_write_then_read_round_trips(tmp_path):
    config = StepConfig(
        class_name="pkg.mod.MyPipeline",
        name="mine",
        parameters={"a": 1.5, "b": None, "c": ["x", "y"], "d": True},
        steps=[StepConfig("pkg.mod.S", "s", {"n": 3})],
    )
    path = write_parameter_file(tmp_path / "sub" / "out.asdf", config)
    back = read_parameter_file(path)
    assert (back.class_name, back.name, back.parameters) == (config.class_name, config.name, config.parameters)
    assert back.steps[0].parameters == {"n": 3}
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["out.asdf"]
    with asdf.open(path) as handle:
        assert handle.tree["meta"]["origin"] == "steppe"


def test_missing_file(tmp_path):
    with pytest.raises(ParameterError, match=r"parameter file '.*nope\.asdf' does not exist"):
        read_parameter_file(tmp_path / "nope.asdf")


def test_not_asdf_is_a_clear_error(tmp_path):
    path = tmp_path / "pars.asdf"
    path.write_text("this is not: [asdf\n")
    with pytest.raises(ParameterError) as info:
        read_parameter_file(path)
    text = str(info.value)
    assert text.startswith(f"parameter file {str(path)!r} could not be read as ASDF (")
    assert "give an ASDF file with `class`" in text


def test_layout_problems_are_all_listed(tmp_path):
    path = write_asdf(
        tmp_path / "bad.asdf",
        {
            "name": 5,
            "parameters": [1, 2],
            "steps": [{"class": "a.B", "parameters": {}}, "oops", {"name": "x", "parameters": 3}],
            "extra": 1,
        },
    )
    with pytest.raises(ParameterError) as info:
        read_parameter_file(path)
    text = str(info.value)
    assert text.startswith(f"parameter file {path!r} does not follow the parameter file layout")
    for fragment in (
        "the top level: `class` is missing",
        "name must be a non-empty string, got 5",
        "parameters must be a mapping of names to values, got list",
        "steps[0]: `name` is missing",
        "steps[1] must be a mapping, got str",
        "steps[2].parameters must be a mapping of names to values, got int",
        "unknown entries ['extra']",
    ):
        assert fragment in text
    # an entry's label never ends in the dot that joins it to a key
    assert ".:" not in text and "]. " not in text


def test_nested_step_entry_labels():
    tree = {"class": "x.P", "steps": [{"name": "outer", "steps": [{"parameters": {}}, 7]}]}
    with pytest.raises(ParameterError) as info:
        config_from_tree(tree)
    text = str(info.value)
    assert "steps[0].steps[0]: `name` is missing" in text
    assert "steps[0].steps[1] must be a mapping, got int" in text


def test_duplicate_step_names():
    with pytest.raises(ParameterError, match=re.escape("step name 'a' is used twice")):
        config_from_tree({"class": "x.P", "steps": [{"name": "a"}, {"name": "a"}]})


def test_to_plain_converts_values():
    import numpy as np

    def hook(x):
        return x

    assert to_plain((1, np.float32(2.0), np.int16(3))) == [1, 2.0, 3]
    assert to_plain(np.arange(2)) == [0, 1]
    assert to_plain(hook).endswith("test_to_plain_converts_values.<locals>.hook")


def test_reads_the_older_layout_with_everything_in_parameters(tmp_path):
    # older stpipe files put class, name and a steps mapping inside `parameters`
    path = write_asdf(
        tmp_path / "old.asdf",
        {
            "parameters": {
                "class": "jwst.pipeline.calwebb_detector1.Detector1Pipeline",
                "name": "Detector1Pipeline",
                "save_results": True,
                "steps": {
                    "jump": {"class": "jwst.jump.jump_step.JumpStep", "rejection_threshold": 12.0},
                    "ramp_fit": {"maximum_cores": "half"},
                },
            },
        },
    )
    config = read_parameter_file(path)
    assert config.class_name == "jwst.pipeline.calwebb_detector1.Detector1Pipeline"
    assert config.name == "Detector1Pipeline"
    assert config.parameters == {"save_results": True}
    assert [(s.class_name, s.name) for s in config.steps] == [
        ("jwst.jump.jump_step.JumpStep", "jump"), (None, "ramp_fit"),
    ]
    assert config.as_layer() == {
        "save_results": True,
        "steps": {"jump": {"rejection_threshold": 12.0}, "ramp_fit": {"maximum_cores": "half"}},
    }


def test_older_layout_problems_are_reported_with_labels():
    tree = {"parameters": {"class": "x.P", "steps": {"a": 3}}}
    with pytest.raises(ParameterError) as info:
        config_from_tree(tree)
    assert "steps[0].parameters must be a mapping of names to values, got int" in str(info.value)


def test_older_layout_runs(core_steps, tmp_path):
    from pipeline_core.steps.pipeline import Pipeline

    path = write_asdf(
        tmp_path / "old.asdf",
        {"parameters": {"class": "two_step", "name": "two_step", "steps": {"scale": {"factor": 5.0}}}},
    )
    assert Pipeline.call(1.0, config_file=path) == 10.0
