"""CRDS parameter reference files (pars-*): the second layer of Step.call's parameters."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pipeline_core.datamodels import ImageModel
from pipeline_core.errors import ReferenceFileError
from pipeline_core.references.lookup import get_step_parameters
from pipeline_core.steps.step import Step


class JumpStep(Step):
    """Named like the JWST class, so it reads the JWST parameter files (pars-jumpstep)."""

    class_alias = "jump_for_pars_tests"
    spec = """
    rejection_threshold = float(default=4.0)
    three_group_rejection_threshold = float(default=6.0)
    four_group_rejection_threshold = float(default=5.0)
    """

    def process(self, model):
        """Return the input."""
        return model


class RampFitStep(Step):
    """Named like the JWST class (pars-rampfitstep)."""

    class_alias = "ramp_fit_for_pars_tests"

    def process(self, model):
        """Return the input."""
        return model


class Detector1Pipeline(Step):
    """Only its name matters here (pars-detector1pipeline)."""

    def process(self, model):
        """Return the input."""
        return model


def _model(readpatt="RAPID", instrument="NIRCAM", detector="NRCA3"):
    model = ImageModel((4, 4))
    model.meta.instrument.name = instrument
    model.meta.instrument.detector = detector
    model.meta.exposure.readpatt = readpatt
    model.meta.subarray.name = "SUB64P"
    model.meta.observation.date = "2024-09-15"
    model.meta.observation.time = "00:00:00"
    return model


@pytest.fixture
def steppars(crds_env, monkeypatch):
    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS", raising=False)
    return crds_env


def test_step_parameters_in_the_stpipe_layout(steppars):
    assert get_step_parameters(JumpStep, _model("RAPID")) == {
        "class": "jwst.jump.jump_step.JumpStep",
        "name": "jump",
        "parameters": {
            "rejection_threshold": 4.0,
            "three_group_rejection_threshold": 6.0,
            "four_group_rejection_threshold": 5.0,
        },
    }


def test_readout_pattern_selects_the_file(steppars):
    assert get_step_parameters(JumpStep, _model("DEEP8"))["parameters"]["rejection_threshold"] == 5.0


def test_pipeline_parameters_carry_their_steps(steppars):
    tree = get_step_parameters(Detector1Pipeline, _model("BRIGHT2", detector="NRCBLONG"))
    assert tree["class"] == "jwst.pipeline.calwebb_detector1.Detector1Pipeline"
    assert tree["parameters"] == {"save_calibrated_ramp": False}
    assert [(s["name"], s["class"]) for s in tree["steps"]] == [
        ("jump", "jwst.jump.jump_step.JumpStep"),
        ("ramp_fit", "jwst.ramp_fitting.ramp_fit_step.RampFitStep"),
    ]


@pytest.mark.parametrize(
    ("step_class", "model"),
    [
        (RampFitStep, _model("DEEP8")),  # the rule says N/A
        (JumpStep, _model("NISRAPID", instrument="NIRISS", detector="NIS")),  # N/A for the instrument
        (Step, _model()),  # no pars-step type in the context
        (JumpStep, _model(instrument="MIRI", detector="MIRIMAGE")),  # no rules for the instrument
        (JumpStep, ImageModel((2, 2))),  # no instrument metadata: CRDS is not asked
    ],
)
def test_no_parameters_gives_an_empty_dict(steppars, step_class, model):
    assert get_step_parameters(step_class, model) == {}


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", " yes "])
def test_disabled_by_the_environment(steppars, monkeypatch, value):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", value)
    assert get_step_parameters(JumpStep, _model()) == {}


@pytest.mark.parametrize("value", ["0", "false", "no", ""])
def test_falsy_values_keep_them_on(steppars, monkeypatch, value):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", value)
    assert get_step_parameters(JumpStep, _model())["parameters"]["rejection_threshold"] == 4.0


def test_crds_not_configured_gives_no_parameters(monkeypatch, empty_registry):
    from pipeline_core.references import crds_client

    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS", raising=False)
    monkeypatch.delenv("CRDS_PATH", raising=False)
    crds_client.reset()
    assert get_step_parameters(JumpStep, _model()) == {}


def test_unreadable_parameter_file_is_an_error(steppars, tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    copy = tmp_path / "cache"
    shutil.copytree(steppars, copy, ignore=shutil.ignore_patterns("*.fits"))
    (copy / "references" / "jwst" / "jwst_nircam_pars-jumpstep_0001.asdf").write_text("not asdf")
    monkeypatch.setenv("CRDS_PATH", str(copy))
    with pytest.raises(
        ReferenceFileError,
        match="the CRDS parameter reference file '.*jwst_nircam_pars-jumpstep_0001.asdf' \\(pars-jumpstep, context jwst_0001.pmap\\) for JumpStep cannot be used",
    ):
        get_step_parameters(JumpStep, _model())
    assert Path(steppars, "references", "jwst", "jwst_nircam_pars-jumpstep_0001.asdf").stat().st_size > 100


def test_step_call_uses_the_crds_layer_and_kwargs_win(steppars, register_steps):
    register_steps(JumpStep)
    seen = {}

    class Probe(JumpStep):
        def process(self, model):
            seen["threshold"] = self.rejection_threshold
            return model

    Probe.__name__ = "JumpStep"  # the pars type follows the class name
    Probe.call(_model("MEDIUM8"))
    assert seen["threshold"] == 5.0
    Probe.call(_model("MEDIUM8"), rejection_threshold=7.5)
    assert seen["threshold"] == 7.5
    Probe().run(_model("MEDIUM8"))  # run() never consults CRDS
    assert seen["threshold"] == 4.0


def test_crds_settings_are_read_at_run_time(embedded_crds_cache, tmp_path):
    """CRDS_PATH set after importing steppe (and after a failed lookup) is honoured."""
    script = textwrap.dedent(
        f"""
        import os
        from pipeline_core.datamodels import ImageModel
        from pipeline_core.references.lookup import get_reference_file
        from pipeline_core.errors import ReferenceFileError
        from pipeline_core import registry

        class Probe:
            name = "probe"

        model = ImageModel((2, 2))
        for key, value in dict(name="NIRCAM", detector="NRCA1").items():
            setattr(model.meta.instrument, key, value)
        model.meta.subarray.name = "SUB64P"
        model.meta.observation.date, model.meta.observation.time = "2023-01-01", "00:00:00"
        os.environ["CRDS_PATH"] = {str(tmp_path)!r}
        try:
            get_reference_file(Probe(), model, "gain")
        except ReferenceFileError as error:
            print("first:", str(error).split(": ")[2])
        os.environ["CRDS_PATH"] = {embedded_crds_cache!r}
        print("then:", os.path.basename(get_reference_file(Probe(), model, "gain")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "first: CRDS is not usable",
        "then: jwst_nircam_gain_0002.fits",
    ]
