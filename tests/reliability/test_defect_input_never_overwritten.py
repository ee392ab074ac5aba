"""A product never replaces its input or a file the run reads.

An input already named like a product (``foo_rate.fits``, ``baz_rateints.fits``)
run into its own folder used to be replaced by its own product, with exit status
0. The run is now refused before any work, naming both paths and the remedy: by
``Step.call``/``run``, for every product a pipeline saves (rate, rateints, the
calibrated ramp), by ``steppe run`` and by ``steppe batch``; reference files given
by ``override_<reftype>`` are protected the same way.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil

import pytest

from builtin_steps.pipelines.detector1 import Detector1Pipeline
from pipeline_core import Step
from pipeline_core.batch.runner import run_batch
from pipeline_core.cli.main import run_cli
from pipeline_core.errors import ParameterError, StepError
from tests.e2e._samples import UNCAL, cli_overrides, ref, step_overrides

REMEDY = (
    "Choose another output_dir or output_file (on the command line --output-dir or "
    "--output_file), or move the input"
)


@pytest.fixture(autouse=True)
def _no_crds_parameter_files(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def folder(tmp_path):
    """A folder holding only the sample raw ramp under a product's name (foo_rate.fits)."""
    d = tmp_path / "d"
    d.mkdir()
    shutil.copyfile(UNCAL["level1b"], d / "foo_rate.fits")
    return d


def _no_step_ran(caplog):
    return not [r for r in caplog.records if "running on" in r.getMessage()]


def test_cli_run_refuses_a_product_that_replaces_its_input(folder):
    before = _digest(folder / "foo_rate.fits")
    err = io.StringIO()
    argv = ["run", "calwebb_detector1", str(folder / "foo_rate.fits"), "--output-dir", str(folder)]
    assert run_cli(argv + cli_overrides(), stdout=io.StringIO(), stderr=err) == 1
    path = folder / "foo_rate.fits"
    assert (
        f"steppe: error: step 'calwebb_detector1': the product '{path}' would replace the input "
        f"'{path}', which this run reads; nothing was run. {REMEDY}\n"
    ) in err.getvalue()
    assert _digest(folder / "foo_rate.fits") == before
    assert sorted(p.name for p in folder.iterdir()) == ["foo_rate.fits"]


def test_cli_output_file_naming_the_rateints_product_after_the_input(folder, monkeypatch):
    (folder / "foo_rate.fits").rename(folder / "baz_rateints.fits")
    before = _digest(folder / "baz_rateints.fits")
    monkeypatch.chdir(folder)
    err = io.StringIO()
    argv = ["run", "calwebb_detector1", "baz_rateints.fits", "--output_file=baz"]
    assert run_cli(argv + cli_overrides(), stdout=io.StringIO(), stderr=err) == 1
    assert (
        "step 'calwebb_detector1': the product 'baz_rateints.fits' would replace the input "
        f"'baz_rateints.fits', which this run reads; nothing was run. {REMEDY}"
    ) in err.getvalue()
    assert _digest(folder / "baz_rateints.fits") == before
    assert sorted(p.name for p in folder.iterdir()) == ["baz_rateints.fits"]


def test_pipeline_call_refuses_before_any_step_runs(folder, caplog):
    caplog.set_level(logging.INFO, logger="steppe")
    with pytest.raises(StepError, match="would replace the input") as info:
        Detector1Pipeline.call(
            str(folder / "foo_rate.fits"), save_results=True, output_dir=str(folder),
            steps=step_overrides(),
        )
    assert "nothing was run" in str(info.value)
    assert _no_step_ran(caplog)
    assert sorted(p.name for p in folder.iterdir()) == ["foo_rate.fits"]


def test_run_on_an_instance_and_the_calibrated_ramp_are_protected(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="steppe")
    shutil.copyfile(UNCAL["level1b"], tmp_path / "x_ramp.fits")
    pipe = Detector1Pipeline(save_calibrated_ramp=True, output_dir=str(tmp_path), steps=step_overrides())
    with pytest.raises(StepError, match=r"the product '.*x_ramp\.fits' would replace the input"):
        pipe.run(str(tmp_path / "x_ramp.fits"))
    assert _no_step_ran(caplog)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x_ramp.fits"]


def test_a_reference_file_given_by_override_is_protected(tmp_path):
    shutil.copyfile(UNCAL["level1b"], tmp_path / "x_uncal.fits")
    shutil.copyfile(ref("gain"), tmp_path / "x_rate.fits")  # a gain file named like the product
    before = _digest(tmp_path / "x_rate.fits")
    steps = step_overrides()
    steps["gain_scale"]["override_gain"] = str(tmp_path / "x_rate.fits")
    with pytest.raises(StepError) as info:
        Detector1Pipeline.call(str(tmp_path / "x_uncal.fits"), output_dir=str(tmp_path),
                               save_results=True, steps=steps)
    assert (
        f"would replace the override_gain reference file of step 'gain_scale' "
        f"'{tmp_path / 'x_rate.fits'}', which this run reads; nothing was run"
    ) in str(info.value)
    assert _digest(tmp_path / "x_rate.fits") == before


def test_a_product_named_while_running_is_refused_when_written(tmp_path):
    class EchoStep(Step):
        class_alias = "echo"

        def process(self, model):
            self.save_model(model, suffix="uncal", force=True)  # the input's own name
            return model

    shutil.copyfile(UNCAL["level1b"], tmp_path / "x_uncal.fits")
    before = _digest(tmp_path / "x_uncal.fits")
    with pytest.raises(StepError) as info:
        EchoStep.call(str(tmp_path / "x_uncal.fits"), output_dir=str(tmp_path))
    assert "would replace the input" in str(info.value) and "nothing was written" in str(info.value)
    assert _digest(tmp_path / "x_uncal.fits") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x_uncal.fits"]


def test_batch_refuses_before_any_input_runs(folder):
    shutil.copyfile(UNCAL["level1b"], folder / "other_uncal.fits")
    with pytest.raises(ParameterError) as info:
        run_batch("calwebb_detector1", [folder / "other_uncal.fits", folder / "foo_rate.fits"],
                  output_dir=folder, steps=step_overrides())
    path = folder / "foo_rate.fits"
    assert str(info.value) == (
        f"steppe batch: the product '{path}' of input '{path}' would replace the input "
        f"'{path}'; nothing was run. Choose another output_dir (--output-dir on the command "
        "line), or move the input"
    )
    assert sorted(p.name for p in folder.iterdir()) == ["foo_rate.fits", "other_uncal.fits"]


def test_batch_input_named_like_its_rateints_fails_alone(folder):
    (folder / "foo_rate.fits").rename(folder / "baz_rateints.fits")
    before = _digest(folder / "baz_rateints.fits")
    report = run_batch("calwebb_detector1", [folder / "baz_rateints.fits"], output_dir=folder,
                       steps=step_overrides())
    (result,) = report.results
    assert result.status == "failed" and "would replace the input" in result.error
    assert _digest(folder / "baz_rateints.fits") == before
    assert not (folder / "baz_rate.fits").exists()


def test_an_intermediate_product_of_a_step_is_protected(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="steppe")
    shutil.copyfile(UNCAL["level1b"], tmp_path / "x_uncal.fits")
    before = _digest(tmp_path / "x_uncal.fits")
    steps = step_overrides()
    steps["dark_current"].update(dark_output="x_uncal.fits", output_dir=str(tmp_path))
    with pytest.raises(StepError) as info:
        Detector1Pipeline.call(str(tmp_path / "x_uncal.fits"), steps=steps)
    assert str(info.value).startswith(
        f"step 'dark_current': the product '{tmp_path / 'x_uncal.fits'}' would replace the input"
    )
    assert _no_step_ran(caplog)
    assert _digest(tmp_path / "x_uncal.fits") == before
