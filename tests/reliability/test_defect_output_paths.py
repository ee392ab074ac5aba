"""Output paths: folders in ``output_file``, unusable ``--output-dir``, stale temporaries.

* ``output_file`` is a base name (stpipe's meaning): a folder part (``/abs/x``,
  ``x/y/z``, ``../../x``) used to be dropped or honoured depending on
  ``output_dir``; it is now a ParameterError naming ``output_dir`` as its place.
* ``--output-dir`` naming a regular file, or a folder that cannot be written,
  used to fail after the steps ran with a bare ``FileExistsError`` /
  ``FileNotFoundError`` naming an internal temporary file; the folder and the
  remedy are now named before any step runs.
* A run killed while saving leaves a hidden ``.<name>.<host>-<pid>.<random>.tmp.fits``:
  the next run into that folder deletes it (its process is dead), ``--skip-existing``
  does not take it for a product, and readers refuse it.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import tempfile

import pytest

from builtin_steps.pipelines.detector1 import Detector1Pipeline
from pipeline_core import output
from pipeline_core.batch.runner import run_batch
from pipeline_core.cli.main import run_cli
from pipeline_core.datamodels import open_model
from pipeline_core.errors import DataModelError, ParameterError
from tests.e2e._samples import STEM, UNCAL, cli_overrides, step_overrides


@pytest.fixture(autouse=True)
def _no_crds_parameter_files(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


def _no_step_ran(caplog):
    return not [r for r in caplog.records if "running on" in r.getMessage()]


@pytest.mark.parametrize(
    "output_file, folder, name",
    [("/abs/x", "/abs", "x"), ("x/y/z", "x/y", "z"), ("../../x", "../..", "x")],
)
def test_output_file_with_a_folder_is_refused(tmp_path, monkeypatch, output_file, folder, name):
    monkeypatch.chdir(tmp_path)
    expected = (
        f"step 'calwebb_detector1': parameter 'output_file' = {output_file!r} contains a folder "
        f"({folder!r}); output_file is a base name only (the product suffix and extension are "
        "added), and the folder is output_dir. Give them apart: "
        f"output_dir={folder!r}, output_file={name!r} (on the command line: --output-dir and "
        "--output_file)"
    )
    with pytest.raises(ParameterError) as info:
        Detector1Pipeline.call(str(UNCAL["level1b"]), output_file=output_file, steps=step_overrides())
    assert str(info.value) == expected
    err = io.StringIO()
    argv = ["run", "calwebb_detector1", str(UNCAL["level1b"]), f"--output_file={output_file}"]
    assert run_cli(argv + cli_overrides(), stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue() == f"steppe: error: {expected}\n"
    assert os.listdir(tmp_path) == []


def test_output_file_of_a_pipeline_step_is_checked_too():
    with pytest.raises(ParameterError, match=r"step 'jump': parameter 'output_file' = 'a/b'"):
        Detector1Pipeline(steps={"jump": {"output_file": "a/b"}})


def test_output_dir_that_is_a_file_is_named_before_any_step_runs(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="steppe")
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    err = io.StringIO()
    argv = ["run", "calwebb_detector1", str(UNCAL["level1b"]), "--output-dir", str(blocker)]
    assert run_cli(argv + cli_overrides(), stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue().splitlines()[-1] == (
        f"steppe: error: step 'calwebb_detector1': output folder '{blocker}' is a file, not a "
        "folder; choose another folder with output_dir (--output-dir), or move the file away"
    )
    assert _no_step_ran(caplog)
    with pytest.raises(ParameterError, match=r"output folder '.*afile/sub' cannot be created \(Not a directory\)"):
        Detector1Pipeline.call(str(UNCAL["level1b"]), save_results=True,
                               output_dir=str(blocker / "sub"), steps=step_overrides())
    assert sorted(os.listdir(tmp_path)) == ["afile"]


def test_unwritable_output_dir_is_named_before_any_step_runs(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="steppe")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # a folder without write permission, even for root
        if dir is not None and os.path.abspath(dir) == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(output.tempfile, "mkstemp", mkstemp)
    with pytest.raises(ParameterError) as info:
        Detector1Pipeline.call(str(UNCAL["level1b"]), save_results=True, output_dir=str(locked),
                               steps=step_overrides())
    assert str(info.value) == (
        f"step 'calwebb_detector1': output folder '{locked}' is not writable (Permission "
        "denied); choose another folder with output_dir (--output-dir), or make it writable"
    )
    assert _no_step_ran(caplog)


def test_batch_output_dir_that_is_a_file(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    with pytest.raises(ParameterError) as info:
        run_batch("calwebb_detector1", [str(UNCAL["level1b"])], output_dir=blocker)
    assert str(info.value) == (
        f"steppe batch: output folder '{blocker}' is a file, not a folder; choose another folder "
        "with output_dir (--output-dir), or move the file away"
    )


KILL_WHILE_SAVING = """
import os, signal, sys
from pipeline_core.output import atomic_write
with atomic_write(sys.argv[1]) as tmp:
    with open(tmp, "wb") as fh:
        fh.write(b"SIMPLE  =                    T / half a header")
        fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_while_saving(path):
    """Start a process that dies (SIGKILL) halfway through saving ``path``; return the leftover."""
    done = subprocess.run([sys.executable, "-c", KILL_WHILE_SAVING, str(path)], timeout=60)
    assert done.returncode == -9
    (leftover,) = [p for p in path.parent.iterdir() if p.name.startswith(".")]
    return leftover


def test_a_killed_save_leaves_a_temporary_that_is_no_product_and_is_cleaned(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    product = out / f"{STEM}_rate.fits"
    leftover = _killed_while_saving(product)
    assert output.is_temporary_file(leftover) and not product.exists()
    with pytest.raises(DataModelError, match="temporary file of a save that did not finish"):
        open_model(leftover)
    alive = out / f".{STEM}_rateints.{output._host()}-{os.getppid()}.abcd1234.tmp.fits"
    alive.write_bytes(b"being written by a live process")  # another live process is writing it
    report = run_batch("calwebb_detector1", [str(UNCAL["level1b"])], output_dir=out,
                       skip_existing=True, steps=step_overrides())
    assert [r.status for r in report.results] == ["ok"]  # the leftover is not taken for the product
    assert not leftover.exists() and alive.exists()
    with open_model(product) as rate:
        assert rate.data.shape == (64, 64)


def test_the_next_run_into_the_folder_removes_stale_temporaries(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="steppe")
    leftover = _killed_while_saving(tmp_path / "old_rate.fits")
    Detector1Pipeline.call(str(UNCAL["level1b"]), save_results=True, output_dir=str(tmp_path),
                           steps=step_overrides())
    assert not leftover.exists()
    assert sorted(os.listdir(tmp_path)) == [f"{STEM}_rate.fits", f"{STEM}_rateints.fits"]
    assert any(str(leftover) in r.getMessage() and "did not finish" in r.getMessage()
               for r in caplog.records)


def test_temporary_names():
    host = output._host()
    assert output.is_temporary_file(f".jw_rate.{host}-123.k3j_x9a2.tmp.fits")
    assert output.is_temporary_file(".jw_rate.k3j_x9a2.tmp.fits")  # written by an older steppe
    assert output.is_temporary_file(f".jw.x_rate.{host}-1.abcdefgh.tmp.fits.gz")
    assert not output.is_temporary_file("jw_rate.fits")
    assert not output.is_temporary_file(".hidden.fits")
