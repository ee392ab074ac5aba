"""The hook specifications: one ``test_hook_<name>`` per hook, and their documentation."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from pipeline_core import hookimpl
from pipeline_core.plugins import hookspecs
from pipeline_core.plugins.manager import PluginWarning, Registry, StepDescriptor

ROOT = Path(__file__).resolve().parents[2]


def _hookspec_names() -> list[str]:
    return [
        name
        for name, obj in vars(hookspecs).items()
        if callable(obj) and hasattr(obj, f"{hookspecs.PROJECT_NAME}_spec")
    ]


def hook_signature(name: str) -> str:
    """Return ``name(arg: Type, ...) -> Return`` as written in hookspecs.py."""
    function = getattr(hookspecs, name)
    params = ", ".join(
        f"{p.name}: {p.annotation}" for p in inspect.signature(function).parameters.values()
    )
    return f"{name}({params}) -> {inspect.signature(function).return_annotation}"


def _registry_with(*plugins) -> Registry:
    reg = Registry(entry_points=())
    for index, plugin in enumerate(plugins):
        reg.register_plugin(plugin, distribution=f"plugin-{index}", version="1.0")
    return reg


# ------------------------------------------------------------------ the contract


def test_the_hooks_are_the_documented_contract():
    assert _hookspec_names() == [
        "register_steps",
        "get_reference_file",
        "default_crds_cache",
        "step_started",
        "step_finished",
        "prepare_demo",
    ]


@pytest.mark.parametrize("name", _hookspec_names())
def test_hook_docstrings_state_firstresult(name):
    spec_opts = getattr(getattr(hookspecs, name), f"{hookspecs.PROJECT_NAME}_spec")
    doc = getattr(hookspecs, name).__doc__
    assert ("firstresult: the first non-None answer wins" in doc) is spec_opts["firstresult"]
    assert "Parameters" in doc or not inspect.signature(getattr(hookspecs, name)).parameters
    assert "Returns" in doc or name in ("step_started", "step_finished")


def test_module_docstring_says_any_subset_of_arguments_is_accepted():
    assert "may accept any\nsubset of a hook's arguments" in hookspecs.__doc__


@pytest.mark.parametrize("name", _hookspec_names())
def test_every_hook_is_documented_with_its_exact_signature(name):
    guide = (ROOT / "docs" / "plugins.md").read_text()
    assert hook_signature(name) in guide


@pytest.mark.parametrize("name", _hookspec_names())
def test_every_hook_has_a_test(name):
    tests = "".join(p.read_text() for p in (ROOT / "tests" / "core").glob("test_hookspecs*.py"))
    assert f"def test_hook_{name}(" in tests


# ------------------------------------------------------------------ one test per hook


def test_hook_register_steps():
    class Plugin:
        @hookimpl
        def register_steps(self):
            return [
                StepDescriptor("pkg.steps.A", alias="a", distribution="ignored", version="9"),
                {"class_path": "pkg.steps.B", "alias": "b", "is_pipeline": True},
            ]

    class Silent:
        @hookimpl
        def register_steps(self):
            return None

    reg = _registry_with(Plugin(), Silent())
    found = {d.alias: d for d in reg.descriptors() if d.alias}
    assert found["a"].distribution_label == "plugin-0==1.0"  # the registry stamps the origin
    assert found["b"].is_pipeline is True
    assert reg.hook.register_steps() != []


def test_hook_get_reference_file():
    calls = []

    class NoOpinion:
        @hookimpl
        def get_reference_file(self, reftype):
            calls.append(("no-opinion", reftype))
            return None

    class Supplier:
        @hookimpl
        def get_reference_file(self, step, model, reftype):
            calls.append(("supplier", reftype))
            return f"/refs/{model}_{reftype}.fits"

    class Raising:
        @hookimpl
        def get_reference_file(self, model):
            raise OSError("reference server down")

    # pluggy calls the last registered first: Raising, NoOpinion, then Supplier answers.
    reg = _registry_with(Supplier(), NoOpinion(), Raising())
    with pytest.warns(PluginWarning, match=re.escape("steppe plugin plugin-2==1.0 raised in hook 'get_reference_file' (its answer is ignored from now on): OSError: reference server down")):
        answer = reg.hook.get_reference_file(step=None, model="m1", reftype="gain")
    assert answer == "/refs/m1_gain.fits"
    assert calls == [("no-opinion", "gain"), ("supplier", "gain")]
    # The failure is reported once; the next call stays quiet and still answers.
    assert reg.hook.get_reference_file(step=None, model="m2", reftype="dark") == "/refs/m2_dark.fits"


def test_hook_get_reference_file_returns_none_without_answers():
    assert _registry_with().hook.get_reference_file(step=None, model=None, reftype="gain") is None


def test_hook_default_crds_cache():
    class First:
        @hookimpl
        def default_crds_cache(self):
            return None

    class Second:
        @hookimpl
        def default_crds_cache(self):
            return "/opt/crds_cache"

    assert _registry_with(Second(), First()).hook.default_crds_cache() == "/opt/crds_cache"
    assert _registry_with(First()).hook.default_crds_cache() is None


def test_hook_step_started():
    seen = []

    class Observer:
        @hookimpl
        def step_started(self, step, input):
            seen.append((step, input))

    class Broken:
        @hookimpl
        def step_started(self, step):
            raise RuntimeError("observer bug")

    reg = _registry_with(Observer(), Broken())
    with pytest.warns(PluginWarning, match=re.escape("steppe plugin plugin-1==1.0 raised in hook 'step_started'")):
        assert reg.hook.step_started(step="s1", input="x1") == []
    reg.hook.step_started(step="s2", input="x2")  # warned once only
    assert seen == [("s1", "x1"), ("s2", "x2")]


def test_hook_step_finished():
    seen = []

    class Timer:
        @hookimpl
        def step_finished(self, elapsed, step):
            seen.append((step, elapsed))
            return elapsed * 2

    reg = _registry_with(Timer())
    assert reg.hook.step_finished(step="s", result=None, elapsed=1.5) == [3.0]
    assert seen == [("s", 1.5)]


def test_hook_prepare_demo(tmp_path):
    class Demo:
        @hookimpl
        def prepare_demo(self, directory):
            path = Path(directory) / "input.fits"
            path.write_text("data")
            return {"pipeline": "demo_pipe", "inputs": [str(path)], "description": "a demo"}

    answer = _registry_with(Demo()).hook.prepare_demo(directory=str(tmp_path))
    assert answer == {
        "pipeline": "demo_pipe",
        "inputs": [str(tmp_path / "input.fits")],
        "description": "a demo",
    }


def test_hook_call_without_a_needed_argument_is_a_type_error():
    class Plugin:
        @hookimpl
        def get_reference_file(self, reftype):
            return "x"

    with pytest.raises(TypeError, match="called without argument"):
        _registry_with(Plugin()).hook.get_reference_file(step=None, model=None)


def test_unknown_hook_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="steppe has no hook named 'step_start'"):
        _registry_with().hook.step_start


def test_steps_fire_step_started_and_step_finished(empty_registry, register_steps):
    from pipeline_core import Step
    from pipeline_core.datamodels import ImageModel

    class Double(Step):
        class_alias = "hook_double"

        def process(self, input):
            input.data = input.data * 2
            return input

    events = []

    class Observer:
        @hookimpl
        def step_started(self, step, input):
            events.append(("started", step.name, type(input).__name__))

        @hookimpl
        def step_finished(self, step, result, elapsed):
            events.append(("finished", step.name, float(result.data.sum()), elapsed >= 0))

    register_steps(Double)
    empty_registry.register_plugin(Observer(), distribution="observer")
    model = ImageModel((2, 2))
    model.data[...] = 1.0
    Double.call(model)
    assert [e[0] for e in events] == ["started", "finished"]
    assert events[1][2:] == (8.0, True)
