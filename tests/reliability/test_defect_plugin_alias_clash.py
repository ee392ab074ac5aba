"""A third-party plugin that registers a built-in alias (``jump``) does not break the built-in pipeline.

A coded pipeline's own steps (its ``step_defs``) resolve first among the
registrations of the pipeline's own distribution; a duplicate alias is an error
only where a user names it without saying which distribution, and the error
offers the ``distribution::name`` spellings. ``steppe list`` warns about the
duplicate in one line naming both distributions.
"""

from __future__ import annotations

import io
import re

import pytest

from builtin_steps.jump.step import JumpStep
from builtin_steps.pipelines.detector1 import Detector1Pipeline
from pipeline_core.cli.main import run_cli
from pipeline_core.errors import PluginError
from pipeline_core.plugins.manager import registry
from tests.e2e._samples import UNCAL, cli_overrides, step_overrides

@pytest.fixture(autouse=True)
def _no_crds_parameter_files(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


PLUGIN = """
from pipeline_core import hookimpl

@hookimpl
def register_steps():
    return [{"class_path": "thirdparty_jump.steps.OtherJumpStep", "alias": "jump"}]
"""

STEPS = """
from pipeline_core import Step

class OtherJumpStep(Step):
    class_alias = "jump"

    def process(self, model):
        raise AssertionError("the third-party jump must not run inside calwebb_detector1")
"""


@pytest.fixture
def clashing_plugin(make_distribution):
    """Install a fake distribution ``thirdparty-jump`` that also registers the alias ``jump``."""
    make_distribution(
        "thirdparty-jump",
        "0.3",
        modules={"thirdparty_jump.plugin": PLUGIN, "thirdparty_jump.steps": STEPS},
        entry_points={"jump": "thirdparty_jump.plugin"},
    )
    # (the stpipe bridge also lists jwst's own jump when jwst is installed; it gives way)
    assert {d.distribution for d in registry().descriptors() if d.alias == "jump"} - {"jwst"} == {
        "steppe", "thirdparty-jump"
    }


def test_detector1_call_uses_its_own_jump(clashing_plugin):
    pipe = Detector1Pipeline(steps=step_overrides())
    assert type(pipe.jump) is JumpStep
    rate = Detector1Pipeline.call(str(UNCAL["level1b"]), steps=step_overrides())
    assert rate.meta.cal_step.jump == "COMPLETE"


def test_cli_runs_calwebb_detector1(clashing_plugin, tmp_path):
    err, out = io.StringIO(), tmp_path / "out"
    argv = ["run", "calwebb_detector1", str(UNCAL["level1b"]), "--output-dir", str(out)]
    status = run_cli(argv + cli_overrides(), stdout=io.StringIO(), stderr=err)
    assert status == 0, err.getvalue()
    assert sorted(p.name for p in out.iterdir()) == [
        "jw09999001001_01101_00001_nrca3_rate.fits",
        "jw09999001001_01101_00001_nrca3_rateints.fits",
    ]


def test_naming_the_duplicate_alias_is_an_error_offering_both_spellings(clashing_plugin):
    with pytest.raises(PluginError) as info:
        registry().resolve("jump")
    message = str(info.value)
    assert "'steppe::jump'" in message and "'thirdparty-jump::jump'" in message
    assert registry().resolve("steppe::jump") is JumpStep
    assert registry().resolve("thirdparty-jump::jump").__name__ == "OtherJumpStep"


def test_steppe_list_warns_once_naming_both_distributions(clashing_plugin):
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(["list", "jump"], stdout=out, stderr=err) == 0
    warnings = [line for line in err.getvalue().splitlines() if "'jump'" in line]
    assert len(warnings) == 1, err.getvalue()
    assert re.search(r"steppe==\S+ and thirdparty-jump==0\.3", warnings[0])
    assert warnings[0].startswith("steppe: warning: ")
    assert out.getvalue().count("jump") >= 2  # both rows are listed
