"""The step registry: descriptors, name resolution, safety, conflicts, caching."""

from __future__ import annotations

import re
import sys

import pytest

import pipeline_core
from pipeline_core import hookimpl
from pipeline_core.errors import PluginError, SteppeError
from pipeline_core.plugins.manager import (
    GENERIC_PIPELINE,
    Registry,
    StepDescriptor,
    allow_import_from_env,
    registry,
    reset_registry,
)

STEPS_SOURCE = '''
from pipeline_core import Step


class ScaleStep(Step):
    """Multiply the data by a factor."""

    class_alias = "fake_scale"
    legacy_class_paths = ("oldpkg.scale.ScaleStep",)
    spec = "factor = float(default=2.0)  # multiplier"

    def process(self, input):
        input.data = input.data * self.factor
        return input
'''

OTHER_SOURCE = '''
from pipeline_core import Step


class OtherStep(Step):
    """Do nothing."""

    class_alias = "fake_other"

    def process(self, input):
        return input


NOT_A_STEP = 42


class NotAStep:
    pass
'''


class _Plugin:
    """An in-process plugin answering register_steps with fixed descriptors."""

    def __init__(self, *descriptors):
        self._descriptors = list(descriptors)

    @hookimpl
    def register_steps(self):
        return self._descriptors


@pytest.fixture
def steps_on_path(make_distribution):
    """Two step modules importable from a temporary folder (not yet imported)."""
    make_distribution(
        "steppe-fake-steps",
        modules={"fake_steps.scale": STEPS_SOURCE, "fake_steps.other": OTHER_SOURCE},
        entry_points={},
    )


@pytest.fixture
def reg(steps_on_path):
    """A registry with no installed plugin and the fake scale step registered."""
    reg = Registry(entry_points=())
    reg.register_plugin(
        _Plugin(
            {
                "class_path": "fake_steps.scale.ScaleStep",
                "alias": "fake_scale",
                "legacy_class_paths": ["oldpkg.scale.ScaleStep"],
            }
        ),
        distribution="steppe-fake-steps",
        version="0.1",
    )
    return reg


# ------------------------------------------------------------------ descriptors


def test_descriptor_from_dict_is_stamped_with_its_distribution():
    desc = StepDescriptor.from_value(
        {"class_path": "a.b.C", "alias": "c", "legacy_class_paths": ["x.y.C"], "parallel": True},
        distribution="dist-a",
        version="1.2",
    )
    assert desc == StepDescriptor("a.b.C", "c", ("x.y.C",), False, True, "dist-a", "1.2")
    assert desc.names() == ("c", "a.b.C", "x.y.C")
    assert desc.module_name == "a.b"
    assert desc.distribution_label == "dist-a==1.2"


def test_descriptor_rejects_unknown_keys_with_the_accepted_ones():
    with pytest.raises(PluginError, match=re.escape("unknown key(s) 'aliases'; the accepted keys are class_path, alias")):
        StepDescriptor.from_value({"class_path": "a.b.C", "aliases": "c"})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"class_path": "os"}, "class_path 'os' is not a dotted path"),
        ({"class_path": "a.b.C", "alias": "my-step"}, "alias 'my-step' must be a Python identifier"),
        ({"class_path": "a.b.C", "parallel": "yes"}, "parallel must be True or False, not 'yes'"),
        ({"class_path": "a.b.C", "legacy_class_paths": ["x y"]}, "legacy class path 'x y' is not a dotted path"),
    ],
)
def test_descriptor_validation_names_the_problem(fields, message):
    with pytest.raises(PluginError, match=re.escape(message)):
        StepDescriptor.from_value(fields)


def test_descriptor_needs_a_class_path():
    with pytest.raises(PluginError, match="has no 'class_path'"):
        StepDescriptor.from_value({"alias": "c"})


def test_descriptor_from_class_reads_the_class_attributes():
    from pipeline_core import Pipeline, Step

    class Local(Step):
        class_alias = "local"
        legacy_class_paths = ("old.Local",)
        parallel = True

    class LocalPipe(Pipeline):
        class_alias = "local_pipe"

    desc = StepDescriptor.from_class(Local, distribution="d", version="1")
    assert (desc.alias, desc.legacy_class_paths, desc.parallel, desc.is_pipeline) == (
        "local", ("old.Local",), True, False
    )
    assert desc.class_path.endswith("<locals>.Local")
    assert StepDescriptor.from_class(LocalPipe).is_pipeline is True


def test_empty_registry_has_only_the_generic_pipeline():
    reg = Registry(entry_points=())
    assert [(d.class_path, d.distribution, d.is_pipeline) for d in reg.descriptors()] == [
        (GENERIC_PIPELINE, "steppe", True)
    ]
    assert reg.resolve("pipeline_core.Pipeline") is pipeline_core.Pipeline
    assert reg.conflicts() == []


# ------------------------------------------------------------------ resolution


def test_resolve_by_alias_class_path_and_legacy_class_path(reg):
    cls = reg.resolve("fake_scale")
    assert cls.__module__ == "fake_steps.scale" and cls.__name__ == "ScaleStep"
    assert reg.resolve("fake_steps.scale.ScaleStep") is cls
    assert reg.resolve("oldpkg.scale.ScaleStep") is cls
    assert reg.resolve("steppe-fake-steps::fake_scale") is cls
    assert reg.resolve("steppe_fake_steps::oldpkg.scale.ScaleStep") is cls
    assert reg.descriptor_for(cls).alias == "fake_scale"


def test_a_class_is_accepted_directly(reg):
    from pipeline_core import Step

    class Direct(Step):
        def process(self, input):
            return input

    assert reg.resolve(Direct) is Direct
    assert reg.descriptor_for(Direct) is None


def test_a_class_that_is_not_a_step_is_refused(reg):
    with pytest.raises(PluginError, match=re.escape("builtins.dict is not a step: it does not derive from pipeline_core.Step")):
        reg.resolve(dict)


def test_listing_and_resolving_import_only_the_resolved_module(steps_on_path):
    reg = Registry(entry_points=())
    reg.register_plugin(
        _Plugin(
            {"class_path": "fake_steps.scale.ScaleStep", "alias": "fake_scale"},
            {"class_path": "fake_steps.other.OtherStep", "alias": "fake_other"},
        ),
        distribution="steppe-fake-steps",
    )
    assert [d.alias for d in reg.descriptors()] == ["fake_other", "fake_scale", None]
    assert "fake_steps.scale" not in sys.modules and "fake_steps.other" not in sys.modules
    reg.resolve("fake_other")
    assert "fake_steps.other" in sys.modules
    assert "fake_steps.scale" not in sys.modules


def test_resolution_order_alias_before_class_path_before_legacy_path(steps_on_path):
    reg = Registry(entry_points=())
    # One step's legacy path is another step's alias-free class path: the class path wins.
    reg.register_plugin(
        _Plugin(
            {"class_path": "fake_steps.scale.ScaleStep", "alias": "fake_other"},
            {"class_path": "fake_steps.other.OtherStep", "legacy_class_paths": ["fake_steps.scale.ScaleStep"]},
        ),
        distribution="steppe-fake-steps",
    )
    assert reg.resolve("fake_other").__name__ == "ScaleStep"  # alias, not OtherStep's class_alias
    assert reg.resolve("fake_steps.scale.ScaleStep").__name__ == "ScaleStep"


def test_resolution_is_cached(reg):
    assert reg.resolve("fake_scale") is reg.resolve("fake_scale")


def test_unregistered_dotted_path_is_refused_without_importing(reg, make_distribution):
    make_distribution(
        "steppe-trap", modules={"trap_module": "raise RuntimeError('imported!')\n"}, entry_points={}
    )
    message = (
        "'trap_module.Anything' is not a registered step alias or class path. Registered aliases: "
        "fake_scale. It was not imported: only registered steps may be named. To import an "
        "unregistered Step subclass, install the plugin that provides it, or opt in with "
        "resolve(..., allow_import=True) or STEPPE_ALLOW_IMPORT=1."
    )
    with pytest.raises(PluginError, match=re.escape(message)):
        reg.resolve("trap_module.Anything")
    assert "trap_module" not in sys.modules


def test_os_system_is_refused(reg):
    with pytest.raises(PluginError, match=re.escape("'os.system' is not a registered step alias or class path")):
        reg.resolve("os.system")


def test_unknown_alias_suggests_close_matches(reg):
    with pytest.raises(PluginError, match=re.escape("'fake_scal' is not a registered step alias or class path. Did you mean 'fake_scale'?")):
        reg.resolve("fake_scal")


def test_allow_import_imports_an_unregistered_step(reg):
    cls = reg.resolve("fake_steps.other.OtherStep", allow_import=True)
    assert cls.__name__ == "OtherStep"


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("os.system", "<built-in function system>"),
        ("fake_steps.other.NOT_A_STEP", "42"),
        ("fake_steps.other.NotAStep", "<class 'fake_steps.other.NotAStep'>"),
    ],
)
def test_allow_import_still_refuses_what_is_not_a_step(reg, path, what):
    message = f"{path!r} is {what}, not a step class deriving from pipeline_core.Step"
    with pytest.raises(PluginError, match=re.escape(message)):
        reg.resolve(path, allow_import=True)


def test_allow_import_reports_a_missing_module(reg):
    with pytest.raises(PluginError, match="no module of it is installed"):
        reg.resolve("no_such_package.mod.Step", allow_import=True)


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_environment_variable_allows_import(reg, monkeypatch, value):
    monkeypatch.setenv("STEPPE_ALLOW_IMPORT", value)
    assert reg.resolve("fake_steps.other.OtherStep").__name__ == "OtherStep"


@pytest.mark.parametrize("value", ["0", "false", "No", ""])
def test_environment_variable_false_values_keep_refusing(reg, monkeypatch, value):
    monkeypatch.setenv("STEPPE_ALLOW_IMPORT", value)
    assert allow_import_from_env() is False
    with pytest.raises(PluginError, match="It was not imported"):
        reg.resolve("fake_steps.other.OtherStep")


def test_environment_variable_with_a_bad_value_is_an_error(monkeypatch):
    monkeypatch.setenv("STEPPE_ALLOW_IMPORT", "maybe")
    with pytest.raises(PluginError, match=re.escape("STEPPE_ALLOW_IMPORT='maybe' is not understood")):
        allow_import_from_env()


def test_registered_path_that_is_not_a_step_is_reported(steps_on_path):
    reg = Registry(entry_points=())
    reg.register_plugin(_Plugin({"class_path": "fake_steps.other.NotAStep", "alias": "bad"}), distribution="bad-dist", version="3")
    with pytest.raises(PluginError, match=re.escape("fake_steps.other.NotAStep registered by bad-dist==3 is not a pipeline_core.Step subclass")):
        reg.resolve("bad")


def test_registered_path_that_does_not_exist_is_reported(steps_on_path):
    reg = Registry(entry_points=())
    reg.register_plugin(_Plugin({"class_path": "fake_steps.other.Missing", "alias": "gone"}), distribution="gone-dist", version="1")
    with pytest.raises(PluginError, match=re.escape("fake_steps.other.Missing from gone-dist==1 cannot be found: module 'fake_steps.other' has no attribute 'Missing'")):
        reg.resolve("gone")


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_resolve_rejects_empty_or_non_string_names(reg, bad):
    with pytest.raises(PluginError, match="must be named by a non-empty string"):
        reg.resolve(bad)


# ------------------------------------------------------------------ conflicts


def test_two_distributions_claiming_one_alias_is_an_error_naming_both(reg):
    reg.register_plugin(
        _Plugin({"class_path": "fake_steps.other.OtherStep", "alias": "fake_scale"}),
        distribution="steppe-rival",
        version="2.0",
    )
    message = (
        "step name 'fake_scale' is claimed by more than one registration (steppe-fake-steps==0.1 "
        "and steppe-rival==2.0); name one of them as 'distribution::name': "
        "'steppe-fake-steps::fake_scale' (fake_steps.scale.ScaleStep from steppe-fake-steps==0.1) "
        "or 'steppe-rival::fake_scale' (fake_steps.other.OtherStep from steppe-rival==2.0)"
    )
    with pytest.raises(PluginError, match=re.escape(message)):
        reg.resolve("fake_scale")
    assert reg.conflicts() == [message]
    assert reg.resolve("steppe-rival::fake_scale").__name__ == "OtherStep"
    assert reg.resolve("steppe-fake-steps::fake_scale").__name__ == "ScaleStep"


def test_two_distributions_claiming_one_class_path_is_an_error(reg):
    reg.register_plugin(
        _Plugin({"class_path": "fake_steps.scale.ScaleStep", "alias": "rival_scale"}),
        distribution="steppe-rival",
        version="2.0",
    )
    with pytest.raises(PluginError, match=re.escape("step name 'fake_steps.scale.ScaleStep' is claimed by more than one registration (steppe-fake-steps==0.1 and steppe-rival==2.0)")):
        reg.resolve("fake_steps.scale.ScaleStep")
    assert reg.resolve("rival_scale").__name__ == "ScaleStep"


def test_unknown_distribution_prefix_lists_the_known_ones(reg):
    with pytest.raises(PluginError, match=re.escape("no installed distribution named 'nope' registers steps (in 'nope::fake_scale'); distributions with steps: steppe, steppe-fake-steps")):
        reg.resolve("nope::fake_scale")


# ------------------------------------------------------------------ in-process plugins


def test_register_plugin_rejects_a_misspelled_hook_and_leaves_nothing():
    class Misspelled:
        @hookimpl
        def register_step(self):
            return []

    reg = Registry(entry_points=())
    with pytest.raises(PluginError, match=re.escape("plugin typo-dist==0 is invalid: unknown hook 'register_step'")):
        reg.register_plugin(Misspelled(), distribution="typo-dist")
    assert reg.distributions() == [("steppe", reg.descriptors()[0].version)]


def test_register_plugin_rejects_wrapper_implementations():
    class Wrapper:
        @hookimpl(wrapper=True)
        def step_started(self, step):
            return (yield)

    reg = Registry(entry_points=())
    with pytest.raises(PluginError, match="implemented as a wrapper, which steppe does not support"):
        reg.register_plugin(Wrapper(), distribution="wrap-dist")


def test_register_plugin_rejects_a_bad_answer():
    class DictAnswer:
        @hookimpl
        def register_steps(self):
            return {"class_path": "a.b.C"}

    reg = Registry(entry_points=())
    message = (
        "register_steps of plugin bad==0 failed: register_steps returned dict; it must return "
        "a list of StepDescriptor objects or dicts"
    )
    with pytest.raises(PluginError, match=re.escape(message)):
        reg.register_plugin(DictAnswer(), distribution="bad")
    assert reg.distributions() == [("steppe", reg.descriptors()[0].version)]


def test_register_plugin_twice_is_an_error(reg):
    plugin = _Plugin()
    reg.register_plugin(plugin, distribution="x")
    with pytest.raises(PluginError, match="is already registered"):
        reg.register_plugin(plugin, distribution="x")


def test_unregister_plugin_removes_its_steps(reg):
    plugin = _Plugin({"class_path": "fake_steps.other.OtherStep", "alias": "fake_other"})
    reg.register_plugin(plugin, distribution="steppe-fake-steps", version="0.1")
    assert reg.resolve("fake_other").__name__ == "OtherStep"
    reg.unregister_plugin(plugin)
    with pytest.raises(PluginError, match="'fake_other' is not a registered step"):
        reg.resolve("fake_other")
    assert reg.resolve("fake_scale").__name__ == "ScaleStep"
    with pytest.raises(PluginError, match="is not registered; nothing to unregister"):
        reg.unregister_plugin(plugin)


def test_register_classes_resolves_local_classes_without_import(empty_registry):
    from pipeline_core import Step

    class Local(Step):
        class_alias = "local_step"
        legacy_class_paths = ("old.pkg.LocalStep",)

        def process(self, input):
            return input

    (desc,) = empty_registry.register_classes(Local, distribution="scripts", version="1")
    assert desc.distribution_label == "scripts==1"
    assert registry().resolve("local_step") is Local
    assert registry().resolve("old.pkg.LocalStep") is Local
    with pytest.raises(PluginError, match="accepts pipeline_core.Step subclasses only"):
        empty_registry.register_classes(int)


def test_register_steps_fixture_registers_on_the_shared_registry(empty_registry, register_steps):
    from pipeline_core import Step

    class Fixture(Step):
        class_alias = "fixture_step"

        def process(self, input):
            return input

    register_steps(Fixture)
    assert pipeline_core.registry().resolve("test-steps::fixture_step") is Fixture


# ------------------------------------------------------------------ laziness and caching


def test_registry_is_cached_and_reset(empty_registry):
    assert registry() is empty_registry
    reset_registry()
    assert registry() is not empty_registry


def test_registry_reads_entry_points_on_first_use_only(monkeypatch):
    calls = []
    monkeypatch.setattr("pipeline_core.plugins.manager._entry_points", lambda: calls.append(1) or [])
    reset_registry()
    reg = registry()
    assert calls == []
    reg.descriptors()
    reg.resolve("pipeline_core.Pipeline")
    reg.hook.step_started(step=None, input=None)
    assert calls == [1]


def test_failing_plugin_registration_warns_but_keeps_the_registry_usable(steps_on_path):
    class Raising:
        @hookimpl
        def register_steps(self):
            raise RuntimeError("cannot list my steps")

    reg = Registry(entry_points=())
    with pytest.raises(PluginError, match=re.escape("register_steps of plugin raising-dist==1 failed: cannot list my steps")):
        reg.register_plugin(Raising(), distribution="raising-dist", version="1")
    assert [d.class_path for d in reg.descriptors()] == [GENERIC_PIPELINE]
    assert reg.distributions() == [("steppe", reg.descriptors()[0].version)]


def test_pipeline_core_registry_is_the_function_after_the_submodule_is_imported(empty_registry):
    import pipeline_core.plugins.manager as submodule
    from pipeline_core import registry as exported

    assert pipeline_core.registry() is empty_registry
    assert pipeline_core.plugins.registry() is empty_registry
    assert exported() is empty_registry
    assert submodule.registry() is empty_registry


# ------------------------------------------------------------------ parameter files use the registry

_ASDF_HEAD = "#ASDF 1.0.0\n#ASDF_STANDARD 1.5.0\n%YAML 1.1\n%TAG ! tag:stsci.edu:asdf/\n--- !core/asdf-1.1.0\n"


@pytest.fixture
def trap_module(make_distribution):
    """A module that fails loudly if anything imports it."""
    make_distribution(
        "steppe-trap", modules={"trap_pkg.evil": "raise RuntimeError('imported!')\n"}, entry_points={}
    )
    return "trap_pkg.evil.Payload"


def test_a_parameter_file_naming_an_unregistered_class_is_refused_unimported(empty_registry, trap_module, tmp_path):
    from pipeline_core import Step

    path = tmp_path / "evil.asdf"
    path.write_text(_ASDF_HEAD + f"class: {trap_module}\nname: evil\nparameters: {{}}\n...\n")
    with pytest.raises(SteppeError, match=re.escape(f"'{trap_module}' is not a registered step alias or class path")):
        Step.from_config_file(str(path))
    assert "trap_pkg.evil" not in sys.modules


def test_a_pipeline_file_step_naming_os_system_is_refused(empty_registry, tmp_path):
    path = tmp_path / "evil_pipeline.asdf"
    path.write_text(
        _ASDF_HEAD
        + "class: pipeline_core.Pipeline\nname: evil\nparameters: {}\nsteps:\n"
        + "- {class: os.system, name: boom, parameters: {}}\n...\n"
    )
    with pytest.raises(SteppeError, match=re.escape("steps[0] ('boom'): 'os.system' is not a registered step alias or class path")):
        pipeline_core.Pipeline.from_config_file(str(path))
