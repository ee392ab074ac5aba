"""Reference overrides and hook names are checked before any step of a pipeline runs.

A wrong ``override_<reftype>`` of the ramp fit, or a misspelled post-hook of the
jump step, used to be found only when that step's turn came, after the earlier
steps had done their work. They are now refused when the run starts, with the
message the step itself gives.
"""

from __future__ import annotations

import io
import logging

import pytest

from builtin_steps.pipelines.detector1 import Detector1Pipeline
from builtin_steps.ramp_fit.step import RampFitStep
from pipeline_core.cli.main import run_cli
from pipeline_core.datamodels import open_model
from pipeline_core.errors import ParameterError, ReferenceFileError
from pipeline_core.references.lookup import get_reference_file
from pipeline_core.steps.prepost import run_step_hooks
from tests.e2e._samples import UNCAL, cli_overrides, ref, step_overrides


@pytest.fixture(autouse=True)
def _no_crds_parameter_files(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


def _steps_that_ran(caplog):
    return [r.name for r in caplog.records if "running on" in r.getMessage()]


def _at_run_time_message(step, reftype):
    """What the step says when it asks for this reference file while it runs."""
    with pytest.raises(ReferenceFileError) as info:
        get_reference_file(step, open_model(str(UNCAL["rampmodel"])), reftype)
    return str(info.value)


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("missing_gain.fits", "which does not exist"),
        (ref("readnoise"), "a READNOISE reference file (REFTYPE='READNOISE'), but a GAIN file is needed"),
    ],
)
def test_a_bad_override_of_a_late_step_stops_the_run_before_any_step(caplog, override, fragment):
    caplog.set_level(logging.INFO, logger="steppe")
    steps = step_overrides()
    steps["ramp_fit"]["override_gain"] = override
    with pytest.raises(ReferenceFileError) as info:
        Detector1Pipeline.call(str(UNCAL["level1b"]), steps=steps)
    assert fragment in str(info.value)
    assert str(info.value) == _at_run_time_message(RampFitStep(name="ramp_fit", override_gain=override), "gain")
    assert _steps_that_ran(caplog) == []


def test_a_bad_override_on_the_command_line(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="steppe")
    err = io.StringIO()
    overrides = [a for a in cli_overrides() if not a.startswith("--steps.gain_scale.")]
    argv = ["run", "calwebb_detector1", str(UNCAL["level1b"]), "--output-dir", str(tmp_path)]
    argv += overrides + ["--steps.gain_scale.override_gain=nowhere.fits"]
    assert run_cli(argv, stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue().splitlines()[-1] == (
        "steppe: error: step 'gain_scale': override_gain names the GAIN reference file "
        "'nowhere.fits', which does not exist. Give the path of an existing file, or unset it "
        "to let CRDS choose."
    )
    assert _steps_that_ran(caplog) == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["pre", "post"])
def test_an_unknown_hook_of_a_late_step_stops_the_run_before_any_step(caplog, kind):
    caplog.set_level(logging.INFO, logger="steppe")
    steps = step_overrides()
    steps["jump"][f"{kind}_hooks"] = ["no_such_step"]
    with pytest.raises(ParameterError) as info:
        Detector1Pipeline.call(str(UNCAL["level1b"]), steps=steps)
    assert _steps_that_ran(caplog) == []
    jump = Detector1Pipeline(steps=steps).jump
    with pytest.raises(ParameterError) as at_run_time:
        run_step_hooks(jump, getattr(jump, f"{kind}_hooks"), None, kind)
    assert str(info.value) == str(at_run_time.value)
    assert str(info.value).startswith(
        f"step 'jump': {kind}_hooks[0] = 'no_such_step' is not a registered step: 'no_such_step' "
        "is not a registered step alias or class path."
    )


def test_a_hook_that_is_not_usable_is_refused_before_any_step(caplog):
    caplog.set_level(logging.INFO, logger="steppe")
    pipe = Detector1Pipeline(steps=step_overrides())
    pipe.ramp_fit.post_hooks.append(42)  # changing the list in place escapes the parameter check
    with pytest.raises(ParameterError, match=r"step 'ramp_fit': post_hooks\[0\] = 42 is not usable"):
        pipe.run(str(UNCAL["level1b"]))
    assert _steps_that_ran(caplog) == []


def test_a_skipped_step_is_not_checked():
    steps = step_overrides()
    steps["gain_scale"] = {"skip": True, "override_gain": "missing.fits", "post_hooks": ["nope"]}
    rate = Detector1Pipeline.call(str(UNCAL["level1b"]), steps=steps)
    assert rate.meta.cal_step.gain_scale == "SKIPPED"
