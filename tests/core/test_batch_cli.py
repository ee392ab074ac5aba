"""``steppe batch``: pipeline_core.cli.batch.add_batch_subparser and run_batch_command."""

from __future__ import annotations

import argparse
import io

import numpy as np
import pytest

from pipeline_core.cli.batch import add_batch_subparser, run_batch_command
from pipeline_core.cli.main import run_cli
from pipeline_core.datamodels import open_model
from tests.core.batch_steps import AddScalePipeline, AddStep, ScaleStep

pytestmark = pytest.mark.usefixtures("empty_registry")


@pytest.fixture(autouse=True)
def _steps(empty_registry, register_steps, monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    register_steps(AddStep, ScaleStep, AddScalePipeline)


def _parser():
    parser = argparse.ArgumentParser(prog="steppe")
    add_batch_subparser(parser.add_subparsers(dest="command"))
    return parser


def test_arguments_and_step_parameters_anywhere(tmp_path):
    args = _parser().parse_args([
        "batch", "add_scale", "a.fits", "--steps.add.amount=3", "b.fits", "--jobs", "2",
        "--output-dir", str(tmp_path), "--skip-existing", "--suffix=done", "--executor=local",
    ])
    assert args.pipeline == "add_scale"
    assert args.inputs == ["a.fits", "b.fits"]
    assert (args.jobs, args.executor, args.scheduler) == (2, "local", None)
    assert args.output_dir == str(tmp_path) and args.skip_existing and args.config_file is None
    assert args.step_arguments == ["--steps.add.amount=3", "--suffix=done"]


def test_defaults():
    args = _parser().parse_args(["batch", "add_amount", "a.fits"])
    assert (args.jobs, args.executor, args.output_dir, args.skip_existing) == (1, "local", None, False)
    assert args.step_arguments == []


def test_run_batch_command_prints_the_summary(image_files, tmp_path):
    inputs = image_files({"a_uncal": 1.0, "b_uncal": 2.0})
    out = tmp_path / "out"
    args = _parser().parse_args(
        ["batch", "add_scale", *inputs, "--output-dir", str(out), "--steps.add.amount=1.5"]
    )
    stdout = io.StringIO()
    assert run_batch_command(args, stdout=stdout) == 0
    lines = stdout.getvalue().splitlines()
    assert lines[0].startswith("input")
    assert lines[-1].startswith("add_scale: 2 input(s): 2 ok, 0 failed, 0 skipped in ")
    with open_model(str(out / "b_add_scale.fits")) as model:
        np.testing.assert_array_equal(model.data, 7.0)


def test_steppe_batch_exit_status(image_files, tmp_path, capsys):
    inputs = image_files({"a": 1.0, "bad": np.nan})
    out = tmp_path / "out"
    status = run_cli(["batch", "add_amount", *inputs, "--output-dir", str(out), "--amount=2"])
    assert status == 1
    captured = capsys.readouterr().out
    assert "1 ok, 1 failed, 0 skipped" in captured
    assert (out / "bad_crash.txt").exists()
    with open_model(str(out / "a_add_amount.fits")) as model:
        np.testing.assert_array_equal(model.data, 3.0)
    assert run_cli(["batch", "add_amount", inputs[0], "--output-dir", str(out),
                    "--skip-existing"]) == 0
    assert "0 ok, 0 failed, 1 skipped" in capsys.readouterr().out


def test_parameter_without_equals_sign_is_a_usage_error(image_files, tmp_path, capsys):
    inputs = image_files({"a": 1.0})
    status = run_cli(["batch", "add_amount", *inputs, "--amount", "2", "--output-dir", str(tmp_path)])
    assert status == 2
    assert "unrecognized arguments: --amount" in capsys.readouterr().err
