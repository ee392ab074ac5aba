"""The installed distribution: entry point, registration, pipeline file."""

from importlib.metadata import entry_points

from pipeline_core import Pipeline, registry
from pipeline_core.config.parfile import read_parameter_file
from steppe_example.pipelines import DETECTOR1_DQ_SUMMARY


def test_the_entry_point_is_installed():
    (ep,) = [ep for ep in entry_points(group="pipeline_core.plugins") if ep.value == "steppe_example.plugin"]
    assert ep.dist.name == "steppe-example-plugin"


def test_steppe_lists_and_resolves_the_step():
    desc = registry().find("ramp_dq_summary")
    assert (desc.class_path, desc.distribution) == (
        "steppe_example.step.RampDQSummaryStep",
        "steppe-example-plugin",
    )
    assert registry().resolve("steppe-example-plugin::ramp_dq_summary").__name__ == "RampDQSummaryStep"


def test_the_pipeline_file_is_installed_and_names_registered_steps():
    config = read_parameter_file(DETECTOR1_DQ_SUMMARY)
    assert config.class_name == "pipeline_core.Pipeline"
    names = [step.name for step in config.steps]
    assert names.index("jump") < names.index("ramp_dq_summary") < names.index("ramp_fit")
    for step in config.steps:
        registry().find(step.class_name)  # raises PluginError if a name is not registered


def test_the_pipeline_builds_from_the_file():
    pipe = Pipeline.from_config_file(DETECTOR1_DQ_SUMMARY)
    assert pipe.ramp_dq_summary.save_table is True
    assert pipe.jump.rejection_threshold == 4.0
