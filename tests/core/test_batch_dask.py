"""Many inputs on dask.distributed: pipeline_core.batch.runner.run_batch(executor="dask")."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline_core.batch.runner import run_batch
from pipeline_core.datamodels import open_model
from tests.core.batch_steps import AddStep

pytestmark = pytest.mark.usefixtures("empty_registry")


@pytest.fixture(autouse=True)
def _no_crds_step_parameters(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


@pytest.fixture(scope="module")
def threaded_cluster():
    """A real LocalCluster whose two single-threaded workers live in this process."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        yield cluster


def test_dask_scheduler_address(image_files, tmp_path, threaded_cluster):
    inputs = image_files({"a": 1.0, "bad": np.nan, "c": 3.0, "d": 4.0})
    out = tmp_path / "out"
    report = run_batch(
        AddStep, inputs, executor="dask", scheduler=threaded_cluster.scheduler_address,
        output_dir=out, amount=2.0,
    )
    assert [r.status for r in report.results] == ["ok", "failed", "ok", "ok"]
    for name, value in (("a", 3.0), ("c", 5.0), ("d", 6.0)):
        with open_model(str(out / f"{name}_add_amount.fits")) as model:
            np.testing.assert_array_equal(model.data, value)
    assert "ValueError: NaN in bad.fits" in (out / "bad_crash.txt").read_text()
    # Two jobs ran at a time in two threads of this process: each log has its own input only.
    for result in report.results:
        log = Path(result.log_file).read_text()
        assert log.count("batch: running AddStep on") == 1
        assert result.input in log


def test_dask_client(image_files, tmp_path, threaded_cluster):
    distributed = pytest.importorskip("dask.distributed")
    inputs = image_files({"a": 1.0})
    with distributed.Client(threaded_cluster) as client:
        report = run_batch(AddStep, inputs, executor="dask", scheduler=client, output_dir=tmp_path)
        assert report.succeeded
        assert client.status == "running"  # a client given is not closed


@pytest.mark.slow
def test_dask_local_cluster_created_for_the_run(image_files, tmp_path):
    pytest.importorskip("dask.distributed")
    inputs = image_files({"a": 1.0, "b": 2.0})
    report = run_batch(AddStep, inputs, executor="dask", jobs=1, output_dir=tmp_path / "out")
    assert report.succeeded, report.summary()
    pids = {
        int(re.search(r"\(process (\d+)\)", Path(r.log_file).read_text()).group(1))
        for r in report.results
    }
    assert len(pids) == 1 and pids != {__import__("os").getpid()}


def test_missing_dask_says_how_to_install(image_files, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ImportError, match=re.escape(
        "executor='dask' needs dask.distributed, which is not installed; install it with: "
        "pip install steppe[dask]"
    )):
        run_batch(AddStep, image_files({"a": 1.0}), executor="dask", output_dir=tmp_path)
