"""Many inputs with pipeline_core.batch.runner.run_batch: local executor."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline_core.batch.runner import run_batch
from pipeline_core.datamodels import open_model
from pipeline_core.errors import ParameterError, PluginError, StepError
from pipeline_core.parallel.rows import available_cores
from tests.core.batch_steps import AddScalePipeline, AddStep, ScaleStep

pytestmark = pytest.mark.usefixtures("empty_registry", "no_shared_memory_leaks")

needs_two_cpus = pytest.mark.skipif(
    available_cores() < 2, reason="the jobs' steps need two CPUs of their own"
)


@pytest.fixture(autouse=True)
def _no_crds_step_parameters(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


def _data(path):
    with open_model(path) as model:
        return np.array(model.data)


def test_serial_batch_saves_every_input_with_its_own_log(image_files, tmp_path):
    inputs = image_files({"a_uncal": 1.0, "b_uncal": 2.0, "c_uncal": 3.0})
    out = tmp_path / "out"
    report = run_batch(AddStep, inputs, output_dir=out, amount=0.5)

    assert [r.status for r in report.results] == ["ok", "ok", "ok"]
    assert report.succeeded and len(report.ok) == 3
    for path, name, value in zip(inputs, "abc", (1.5, 2.5, 3.5)):
        result = report.results["abc".index(name)]
        assert result.input == path
        assert result.product == str(out / f"{name}_add_amount.fits")
        np.testing.assert_array_equal(_data(result.product), value)
        log = Path(result.log_file).read_text()
        assert result.log_file == str(out / f"{name}_uncal.log")
        assert f"running AddStep on {path} (process {os.getpid()})" in log
        assert "added 0.5" in log
        # Only this input's records.
        assert all(other not in log for other in inputs if other != path)
    assert not list(out.glob("*_crash.txt"))


def test_a_failing_input_writes_a_crash_file_and_the_others_go_on(image_files, tmp_path):
    inputs = image_files({"a": 1.0, "bad": np.nan, "c": 3.0})
    out = tmp_path / "out"
    report = run_batch(AddStep, inputs, output_dir=out)

    assert [r.status for r in report.results] == ["ok", "failed", "ok"]
    failed = report.failed[0]
    assert failed.error == "ValueError: NaN in bad.fits"
    assert failed.crash_file == str(out / "bad_crash.txt")
    crash = Path(failed.crash_file).read_text()
    assert crash.startswith(inputs[1] + "\nTraceback (most recent call last):")
    assert crash.rstrip().endswith("ValueError: NaN in bad.fits")
    assert "ValueError: NaN in bad.fits" in Path(failed.log_file).read_text()
    assert not (out / "bad_add_amount.fits").exists()
    assert (out / "c_add_amount.fits").exists()
    assert not report.succeeded


def test_summary_table(image_files, tmp_path):
    inputs = image_files({"a": 1.0, "bad": np.nan})
    out = tmp_path / "out"
    (out).mkdir()
    report = run_batch(AddStep, inputs, output_dir=out)
    lines = report.summary().splitlines()
    assert re.fullmatch(r"input\s+status\s+time \(s\)\s+product / error", lines[0])
    assert re.fullmatch(rf"a\.fits\s+ok\s+\d+\.\d\d\s+{re.escape(str(out / 'a_add_amount.fits'))}", lines[1])
    assert re.fullmatch(
        rf"bad\.fits\s+failed\s+\d+\.\d\d\s+ValueError: NaN in bad\.fits \(traceback: "
        rf"{re.escape(str(out / 'bad_crash.txt'))}\)",
        lines[2],
    )
    assert re.fullmatch(r"add_amount: 2 input\(s\): 1 ok, 1 failed, 0 skipped in \d+\.\d\d s", lines[3])
    assert str(report) == report.summary()


def test_skip_existing_resumes_a_batch(image_files, tmp_path):
    inputs = image_files({"a_uncal": 1.0, "b_uncal": 2.0})
    out = tmp_path / "out"
    first = run_batch(AddStep, inputs[:1], output_dir=out)
    assert first.succeeded
    stamp = os.stat(out / "a_add_amount.fits").st_mtime_ns

    report = run_batch(AddStep, inputs, output_dir=out, skip_existing=True)
    assert [r.status for r in report.results] == ["skipped", "ok"]
    assert report.skipped[0].seconds == 0.0
    assert os.stat(out / "a_add_amount.fits").st_mtime_ns == stamp
    assert "a_add_amount.fits exists" in report.summary()
    # Without skip_existing everything runs again.
    again = run_batch(AddStep, inputs, output_dir=out)
    assert [r.status for r in again.results] == ["ok", "ok"]


def test_a_later_success_removes_the_old_crash_file(image_files, tmp_path):
    (path,) = image_files({"a": 1.0})
    out = tmp_path / "out"
    out.mkdir()
    (out / "a_crash.txt").write_text("old failure")
    assert run_batch(AddStep, [path], output_dir=out).succeeded
    assert not (out / "a_crash.txt").exists()


@pytest.mark.slow
def test_local_pool_runs_inputs_in_other_processes(image_files, tmp_path):
    inputs = image_files({"a": 1.0, "b": 2.0, "c": 3.0})
    out = tmp_path / "out"
    report = run_batch(AddStep, inputs, jobs=2, output_dir=out)
    assert [r.status for r in report.results] == ["ok", "ok", "ok"]
    for result, value in zip(report.results, (2.0, 3.0, 4.0)):
        np.testing.assert_array_equal(_data(result.product), value)
        log = Path(result.log_file).read_text()
        pid = int(re.search(r"\(process (\d+)\)", log).group(1))
        assert pid != os.getpid()


def test_a_dying_worker_fails_only_its_input(image_files, tmp_path):
    inputs = image_files({"a": 1.0, "kill": -999.0, "c": 3.0})
    out = tmp_path / "out"
    report = run_batch(AddStep, inputs, jobs=2, output_dir=out)
    assert [r.status for r in report.results] == ["ok", "failed", "ok"]
    dead = report.failed[0]
    assert dead.error.startswith("worker died: the process running this input died")
    assert "died (killed by the system, out of memory" in Path(dead.crash_file).read_text()
    for name in "ac":
        assert (out / f"{name}_add_amount.fits").exists()


def test_pipeline_by_registered_name_with_step_parameters(image_files, tmp_path, register_steps):
    register_steps(AddStep, ScaleStep, AddScalePipeline)
    inputs = image_files({"a_uncal": 1.0, "b_uncal": 2.0})
    out = tmp_path / "out"
    report = run_batch("add_scale", inputs, output_dir=out, steps={"add": {"amount": 3.0}})
    assert report.succeeded, report.summary()
    np.testing.assert_array_equal(_data(out / "a_add_scale.fits"), 8.0)
    np.testing.assert_array_equal(_data(out / "b_add_scale.fits"), 10.0)


@needs_two_cpus
def test_jobs_share_the_cores(image_files, tmp_path, cpus):
    cpus(2)
    inputs = image_files({"a": 1.0, "b": 2.0})
    out = tmp_path / "out"
    report = run_batch(ScaleStep, inputs, jobs=2, output_dir=out, maximum_cores="all")
    assert report.succeeded, report.summary()
    for result in report.results:
        log = Path(result.log_file).read_text()
        assert "max_workers=1" in log
        assert len(re.findall(r"maximum_cores='all' asks for \d+ worker\(s\); using 1 "
                              r"because this job's share of the cores is 1", log)) == 1


@needs_two_cpus
def test_a_single_job_may_use_every_core(image_files, tmp_path):
    inputs = image_files({"a": 1.0})
    report = run_batch(ScaleStep, inputs, output_dir=tmp_path / "out", maximum_cores="2")
    assert "max_workers=2" in Path(report.results[0].log_file).read_text()
    np.testing.assert_array_equal(_data(report.results[0].product), 2.0)


def test_unknown_name_is_a_plugin_error(image_files, tmp_path):
    with pytest.raises(PluginError):
        run_batch("no_such_pipeline", image_files({"a": 1.0}), output_dir=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"jobs": 0}, "batch parameter 'jobs' = 0 is not valid; accepted: a whole number >= 1 "
         "(the number of inputs run at the same time)."),
        ({"jobs": "2"}, "batch parameter 'jobs' = '2' is not valid"),
        ({"executor": "spark"}, "batch parameter 'executor' = 'spark' is not valid; accepted: "
         "'local', 'dask'."),
        ({"output_file": "x.fits"}, "batch parameter 'output_file' cannot be set: every input is "
         "saved, under its own name, in output_dir; remove it."),
    ],
)
def test_bad_batch_arguments(image_files, tmp_path, kwargs, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        run_batch(AddStep, image_files({"a": 1.0}), output_dir=tmp_path, **kwargs)


def test_inputs_with_the_same_file_name_are_refused(image_files, tmp_path):
    (first,) = image_files({"a": 1.0})
    other = tmp_path / "elsewhere"
    other.mkdir()
    second = str(other / "a.fits")
    Path(second).write_bytes(Path(first).read_bytes())
    with pytest.raises(ParameterError, match=re.escape(
        f"inputs {first!r} and {second!r} have the same file name, so their products and "
        "log files (a.log) would overwrite each other"
    )):
        run_batch(AddStep, [first, second], output_dir=tmp_path / "out")


def test_progress_bar_on_a_terminal(image_files, tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    run_batch(AddStep, image_files({"a": 1.0, "b": np.nan}), output_dir=tmp_path / "out")
    text = terminal.getvalue()
    assert "add_amount" in text and "2/2" in text and "failed=1" in text


def test_no_progress_bar_otherwise(image_files, tmp_path, capsys):
    run_batch(AddStep, image_files({"a": 1.0}), output_dir=tmp_path / "out")
    assert capsys.readouterr().err == ""


@needs_two_cpus
def test_a_jobs_share_of_several_cores_runs_a_nested_pool(image_files, tmp_path, cpus):
    cpus(4)  # two jobs, two cores each
    inputs = image_files({"a": 1.0, "b": 2.0})
    report = run_batch(ScaleStep, inputs, jobs=2, output_dir=tmp_path / "out", maximum_cores="all")
    assert report.succeeded, report.summary()
    for result, value in zip(report.results, (2.0, 4.0)):
        log = Path(result.log_file).read_text()
        assert "max_workers=2" in log
        np.testing.assert_array_equal(_data(result.product), value)


def test_batch_from_a_script_without_main_guard(image_files, tmp_path):
    inputs = image_files({"a": 1.0, "b": 2.0})
    script = tmp_path / "reduce.py"
    script.write_text(
        "from pipeline_core.batch.runner import run_batch\n"
        "from tests.core.batch_steps import AddStep\n"
        "print('top-level code ran', flush=True)\n"
        f"report = run_batch(AddStep, {inputs!r}, jobs=2, output_dir='out')\n"
        "print(len(report.ok), 'ok', flush=True)\n"
    )
    repo = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, STPIPE_DISABLE_CRDS_STEPPARS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["top-level code ran", "2 ok"]
    assert done.stderr == ""
    assert (tmp_path / "out" / "b_add_amount.fits").exists()


def test_the_console_sees_no_more_than_before(image_files, tmp_path, caplog):
    """A WARNING-level console gets no INFO record from the jobs; the log file does."""
    import logging

    caplog.set_level(logging.WARNING)  # the root logger: a console at WARNING
    caplog.handler.setLevel(logging.NOTSET)  # its handler shows whatever reaches it
    steppe_logger = logging.getLogger("steppe")
    before = (steppe_logger.level, steppe_logger.propagate, list(steppe_logger.handlers))
    report = run_batch(AddStep, image_files({"a": 1.0, "bad": np.nan}), output_dir=tmp_path / "out")
    assert [r.levelname for r in caplog.records] == ["ERROR", "ERROR"]  # step and batch
    assert "added 1.0" in Path(report.results[0].log_file).read_text()
    assert (steppe_logger.level, steppe_logger.propagate, list(steppe_logger.handlers)) == before


def test_a_class_of_the_main_script_needs_jobs_1(image_files, tmp_path):
    main_step = type("MainStep", (AddStep,), {"__module__": "__main__"})
    with pytest.raises(StepError, match=re.escape(
        "MainStep is defined in the main script or an interactive session, which the worker "
        "processes of jobs > 1 do not import; move it to a module that can be imported"
    )):
        run_batch(main_step, image_files({"a": 1.0}), jobs=2, output_dir=tmp_path)
