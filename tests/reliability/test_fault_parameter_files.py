"""Parameter files naming any callable that is not a registered step never import or run it.

The files name ``os.system``, ``builtins.eval`` and ``evil_<id>.payload`` (a module
written to ``tmp_path``, on ``sys.path``, that writes a marker file when it is
imported) as the step class, as a pipeline's step, and as pre- and post-hooks;
they are read by ``Step.call``, ``Step.from_config_file``, the generic
``Pipeline`` and ``steppe run``. Every one is refused with a message naming the
file or step, the name, and the remedy; the module is never imported and nothing is
called (``os.system`` is replaced by a recorder). With ``STEPPE_ALLOW_IMPORT=1`` (the opt-in to import unregistered Step
classes) ``os.system`` and ``builtins.eval`` are still refused, not run.
"""

from __future__ import annotations

import io
import os
import sys
import uuid

import asdf
import pytest

from pipeline_core import Pipeline, Step
from pipeline_core.cli.main import run_cli
from pipeline_core.errors import ParameterError, PluginError, SteppeError
from tests.reliability._steps import FillStep, digest, write_image


@pytest.fixture
def evil(tmp_path, monkeypatch):
    """An importable module whose import writes a marker file; return (class path, marker)."""
    name = f"evil_{uuid.uuid4().hex[:8]}"
    marker = tmp_path / "imported.txt"
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / f"{name}.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\n\ndef payload(*args, **kwargs):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(folder))
    yield f"{name}.payload", marker
    assert not marker.exists(), "the module was imported"
    assert name not in sys.modules


@pytest.fixture
def calls(monkeypatch):
    """Record any call of os.system (the framework must make none).

    ``builtins.eval`` is left alone (a wrapper would change what it sees); called
    with a step's keyword arguments it would raise TypeError, not the errors expected.
    """
    made: list[tuple[str, tuple]] = []
    monkeypatch.setattr(os, "system", lambda *a: made.append(("os.system", a)) or 0)
    yield made
    assert made == [], f"called: {made}"


@pytest.fixture(autouse=True)
def _setup(monkeypatch, register_steps, empty_registry):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    monkeypatch.delenv("STEPPE_ALLOW_IMPORT", raising=False)
    register_steps(FillStep, distribution="fault-tests", version="1.0")


def _write(path, tree) -> str:
    asdf.AsdfFile(tree).write_to(str(path))
    return str(path)


TARGETS = ["os.system", "builtins.eval"]


@pytest.mark.parametrize("target", [*TARGETS, "evil"])
def test_the_class_of_a_parameter_file(tmp_path, target, evil, calls):
    name = evil[0] if target == "evil" else target
    path = _write(tmp_path / "pars.asdf", {"class": name, "name": "x", "parameters": {"cmd": "echo steppe-fault"}})
    inp = write_image(tmp_path / "jw_pf_uncal.fits")
    for load in (lambda: Step.call(str(inp), config_file=path), lambda: Step.from_config_file(path),
                 lambda: Pipeline.from_config_file(path)):
        with pytest.raises(ParameterError) as info:
            load()
        message = str(info.value)
        assert f"parameter file {path!r} names class {name!r}, which cannot be used" in message
        assert "It was not imported: only registered steps may be named" in message
        assert "STEPPE_ALLOW_IMPORT=1" in message  # the remedy for a real, unregistered step


@pytest.mark.parametrize("target", [*TARGETS, "evil"])
def test_a_step_of_a_generic_pipeline(tmp_path, target, evil, calls):
    name = evil[0] if target == "evil" else target
    path = _write(tmp_path / "pipe.asdf", {
        "class": "pipeline_core.Pipeline", "name": "p",
        "steps": [{"class": "fill_value", "name": "fill"}, {"class": name, "name": "bad"}],
    })
    with pytest.raises(ParameterError) as info:
        Pipeline.from_config_file(path)
    message = str(info.value)
    assert f"parameter file {path!r} defines a pipeline whose steps cannot be built" in message
    assert f"steps[1] ('bad'): {name!r} is not a registered step alias or class path" in message


@pytest.mark.parametrize("kind", ["pre", "post"])
@pytest.mark.parametrize("target", [*TARGETS, "evil"])
def test_hooks_of_a_parameter_file(tmp_path, target, kind, evil, calls):
    name = evil[0] if target == "evil" else target
    path = _write(tmp_path / "hooks.asdf", {
        "class": "fill_value", "name": "fill_value", "parameters": {f"{kind}_hooks": [name]},
    })
    inp = write_image(tmp_path / "jw_hook_uncal.fits")
    out = tmp_path / "out"
    with pytest.raises(ParameterError) as info:
        FillStep.call(str(inp), config_file=path, save_results=True, output_dir=str(out))
    message = str(info.value)
    assert f"step 'fill_value': {kind}_hooks[0] = {name!r} is not a registered step" in message
    assert "It was not imported: only registered steps may be named" in message
    assert "install the plugin that provides it" in message  # the remedy
    assert not out.exists() or not any(out.iterdir())  # refused before any product


@pytest.mark.parametrize("target", [*TARGETS, "evil"])
def test_steppe_run_with_such_a_file(tmp_path, target, evil, calls):
    name = evil[0] if target == "evil" else target
    path = _write(tmp_path / "pars.asdf", {"class": name, "name": "x"})
    inp = write_image(tmp_path / "jw_cli_uncal.fits")
    before = digest(inp)
    err = io.StringIO()
    assert run_cli(["run", path, str(inp)], stdout=io.StringIO(), stderr=err) == 1
    (line,) = err.getvalue().splitlines()
    assert line.startswith(f"steppe: error: {name!r} is not a registered step alias or class path")
    assert "It was not imported" in line and "STEPPE_ALLOW_IMPORT=1" in line
    assert digest(inp) == before


@pytest.mark.parametrize("target", TARGETS)
def test_opting_in_to_imports_still_refuses_what_is_not_a_step(tmp_path, target, calls, monkeypatch):
    monkeypatch.setenv("STEPPE_ALLOW_IMPORT", "1")
    path = _write(tmp_path / "pars.asdf", {"class": target, "name": "x", "parameters": {"cmd": "echo steppe-fault"}})
    with pytest.raises(SteppeError) as info:
        Step.from_config_file(path)
    assert isinstance(info.value, (ParameterError, PluginError))
    message = str(info.value)
    assert f"parameter file {path!r} names class {target!r}, which cannot be used" in message
    assert ", not a step class deriving from pipeline_core.Step; only steps can be named in " \
           "parameter files" in message
